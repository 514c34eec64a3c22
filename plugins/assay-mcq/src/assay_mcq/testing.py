"""Helpers for the MCQ benchmarks' end-to-end tests: run the real CLI, read its report.

``cli_eval`` runs ``python -m assay eval ... --api-url URL --api-key EMPTY`` in a
subprocess, then ``python -m assay report RUN --format json``, and returns the report.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any


def _run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "assay", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"assay {' '.join(args[:1])} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def cli_eval(
    dataset: str,
    *,
    api_url: str | None,
    datasets_dir: Path,
    work_dir: Path,
    limit: int | None = None,
    dataset_args: dict[str, Any] | None = None,
    extra: list[str] | None = None,
) -> tuple[Path, Any]:
    """Run one eval through the CLI; return (run directory, ``assay report --format json``).

    Without ``api_url`` the kernel's ``mock`` model answers (it gives log-likelihoods)."""
    args = [
        "eval",
        "--model",
        "test-model" if api_url else "mock",
        "--datasets",
        dataset,
        "--dataset-dir",
        str(datasets_dir),
        "--work-dir",
        str(work_dir),
        "--no-progress",
    ]
    if api_url:
        args += ["--api-url", api_url, "--api-key", "EMPTY"]
    if limit is not None:
        args += ["--limit", str(limit)]
    if dataset_args:
        args += ["--dataset-args", json.dumps({dataset: dataset_args})]
    args += extra or []
    proc = _run(args)
    m = re.search(r"run directory: (\S+)", proc.stderr)
    if not m:
        raise AssertionError(f"no run directory in the output:\n{proc.stderr[-2000:]}")
    run_dir = Path(m.group(1))
    report = json.loads(_run(["report", str(run_dir), "--format", "json"]).stdout)
    return run_dir, report


def rows_by(report: Any, metric: str = "acc") -> dict[tuple[str, str], dict[str, Any]]:
    """Report rows of one metric keyed by (category, subset); ``report`` is the row list
    ``assay report --format json`` prints or a report dict with "rows"."""
    rows = report["rows"] if isinstance(report, dict) else report
    return {
        (r["category"], r["subset"]): r for r in rows if r.get("metric") == metric
    }  # report sections have no metric


def events(run_dir: Path, type_: str) -> list[dict[str, Any]]:
    out = []
    with open(run_dir / "events.jsonl", encoding="utf-8") as f:
        for line in f:
            ev = json.loads(line)
            if ev["type"] == type_:
                out.append(ev["body"])
    return out


def fake_hf_cache(cache: Path, repo_id: str, files: dict[str, Path]) -> Path:
    """Lay out a Hugging Face hub cache holding one dataset snapshot (``files``: path in the repo ->
    source file) and return the snapshot folder. With ``HF_HUB_OFFLINE=1 HF_HUB_CACHE=cache`` the
    kernel's hub download (``huggingface_hub.snapshot_download``) resolves ``repo_id`` to it."""
    import shutil

    repo = cache / ("datasets--" + repo_id.replace("/", "--"))
    commit = "0123456789abcdef0123456789abcdef01234567"
    snap = repo / "snapshots" / commit
    for rel, src in files.items():
        (snap / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, snap / rel)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    return snap


def cli_eval_hub(dataset: str, hub: str, cache: Path, work_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``assay eval --datasets DATASET --dataset-hub HUB`` (mock model) with no local files, offline,
    the Hugging Face cache at ``cache``; returns the finished process (not checked)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_CACHE=str(cache), OMP_NUM_THREADS="1")
    env.pop("ASSAY_DATA_DIR", None)
    cmd = [sys.executable, "-m", "assay", "eval", "--datasets", dataset, "--dataset-hub", hub]
    cmd += ["--work-dir", str(work_dir), "--no-progress", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
