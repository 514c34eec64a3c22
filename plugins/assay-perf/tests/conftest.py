"""Fixtures of assay-perf's tests: the real test server in its own process (so its timing
is not disturbed by the client's GIL), and a runner of ``assay perf`` in-process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def server_process():
    """Factory: ``url = server_process(ttft=0.05, itl=0.01, faults={...})`` -> base URL (.../v1)."""
    procs: list[subprocess.Popen] = []

    def start(
        ttft: float = 0.0,
        itl: float = 0.0,
        faults: dict | None = None,
        no_usage: bool = False,
        timing: bool = False,
        extra: tuple[str, ...] = (),
    ) -> str:
        cmd = [
            sys.executable,
            "-m",
            "assay_testserver",
            "--port",
            "0",
            "--no-record",
            "--ttft",
            str(ttft),
            "--itl",
            str(itl),
        ]
        if faults:
            cmd += ["--faults", json.dumps(faults)]
        if no_usage:
            cmd.append("--no-usage")
        if timing:
            cmd.append("--timing")
        cmd += extra
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(proc)
        line = proc.stdout.readline()
        if "listening on " not in line:
            proc.kill()
            raise RuntimeError(f"test server did not start: {line!r}")
        return line.split("listening on ", 1)[1].strip()

    yield start
    for p in procs:
        p.terminate()
        p.wait(10)


@pytest.fixture
def perf(tmp_path: Path):
    """Run ``assay perf`` in-process with the given flags; return (run_dir, report section)."""
    from assay.cli import build_parser
    from assay.plugins import PluginHost
    from assay_perf.cli import options_from_args

    def run(*flags: str):
        args = build_parser().parse_args(["perf", *flags, "--work-dir", str(tmp_path), "--quiet"])
        from assay_perf.runner import run_perf

        run_dir, report = run_perf(options_from_args(args), PluginHost())
        return run_dir, report["sections"]["perf"]

    return run


@pytest.fixture
def request_events():
    """Read a run's RequestTimed bodies straight from events.jsonl (json module, not assay)."""
    from assay_testserver.testing import bodies

    return lambda run_dir: bodies(run_dir, "RequestTimed")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """No self-test ceiling of this machine (``assay perf --self-test``) leaks into the tests' runs."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
