"""The template's contract: it installs, assay discovers it, and it runs end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]


def test_installs_is_discovered_and_runs(tmp_path, test_server):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(TEMPLATE),
        ],
        check=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    listing = subprocess.run(
        [sys.executable, "-m", "assay", "plugins", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    plugins = {p["distribution"]: p for p in json.loads(listing.stdout)["plugins"]}
    assert plugins["assay-example-qa"]["version"] == "0.1.0"
    assert plugins["assay-example-qa"]["registers"] == {"benchmarks": ["example_qa"], "scorers": ["example_exact"]}

    srv = test_server(
        rules=[{"match": "France", "answer": "Paris."}, {"match": "Japan", "answer": "Kyoto"}], default_answer="Jupiter"
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "assay",
            "eval",
            "--model",
            "m",
            "--api-url",
            srv.url,
            "--datasets",
            "example_qa",
            "--work-dir",
            str(tmp_path / "out"),
            "--no-progress",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (run,) = list((tmp_path / "out").iterdir())
    out = subprocess.run(
        [sys.executable, "-m", "assay", "report", str(run), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {(r["subset"]): r["score"] for r in json.loads(out.stdout)}
    # geography: Paris right, Kyoto wrong -> 0.5; science: Jupiter right, CO2 wrong -> 0.5; 2 of 4 overall
    assert rows["geography"] == 0.5 and rows["science"] == 0.5 and rows["OVERALL"] == 0.5
