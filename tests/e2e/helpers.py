"""Helpers for end-to-end tests that run the real `assay` CLI in a subprocess.

The shared ones live in :mod:`assay_testserver.testing` (one copy for the kernel's and the plugins' tests);
what is here is about the gsm8k files these tests use.
"""

from __future__ import annotations

import json
from pathlib import Path

from assay_testserver.testing import assay, events, report_rows, run_dir_of, run_dirs

__all__ = ["assay", "events", "gold", "gsm8k_rows", "report_rows", "run_dir_of", "run_dirs"]


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
