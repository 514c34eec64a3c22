"""Helpers for end-to-end tests that run the real `assay` CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def assay(
    *args: str, timeout: float = 180, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "assay", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"assay {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def run_dirs(work_dir: Path) -> list[Path]:
    return sorted(p for p in work_dir.iterdir() if (p / "events.jsonl").exists())


def report_rows(run_dir: Path, sections: bool = False) -> list[dict]:
    """The table's rows of `assay report --format json` (with ``sections``, the reporters' items too)."""
    proc = assay("report", str(run_dir), "--format", "json", check=False)
    # 0: every sample evaluated; 3: completed with errored samples (the rows count them)
    assert proc.returncode in (0, 3), proc.stderr
    items = json.loads(proc.stdout)
    return items if sections else [i for i in items if "reporter" not in i]


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
