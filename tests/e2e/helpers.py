"""Helpers for end-to-end tests that run the real `assay` CLI in a subprocess.

The shared ones live in :mod:`assay_testserver.testing` (one copy for the kernel's and the plugins' tests);
what is here is about the gsm8k files these tests use.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from assay_testserver.testing import assay, events, report_rows, run_dir_of, run_dirs, served_eval

__all__ = ["assay", "eval_gsm8k", "events", "gold", "gsm8k_rows", "report_rows", "run_dir_of", "run_dirs"]


def gsm8k_rows(datasets_dir: Path, n: int) -> list[dict]:
    rows = []
    with open(datasets_dir / "gsm8k" / "test.jsonl", encoding="utf-8") as f:
        for line in f:
            rows.append(json.loads(line))
            if len(rows) == n:
                break
    return rows


def gold(answer: str) -> str:
    return answer.rsplit("####", 1)[1].strip().replace(",", "")


def eval_gsm8k(
    url: str, datasets_dir: Path, work_dir: Path, *extra: str, limit: int, model: str = "m", **kw: Any
) -> subprocess.CompletedProcess[str]:
    """``assay eval`` of the first ``limit`` GSM8K test questions against the model served at ``url`` (the
    test server): ``--model MODEL --api-url URL --datasets gsm8k --limit LIMIT --dataset-dir DATASETS_DIR
    --work-dir WORK_DIR --no-progress EXTRA``; ``kw`` as for :func:`assay` (by default exit 0 expected)."""
    args = ["--datasets", "gsm8k", "--limit", str(limit), "--dataset-dir", str(datasets_dir), *extra]
    return served_eval(url, work_dir, *args, model=model, **kw)
