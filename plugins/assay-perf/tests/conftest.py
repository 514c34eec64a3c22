"""Fixtures of assay-perf's tests: the real test server in its own process (so its timing
is not disturbed by the client's GIL), and a runner of ``assay perf`` in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from assay_testserver.testing import server_processes


@pytest.fixture
def server_process():
    """Factory: ``url = server_process(ttft=0.05, itl=0.01, faults={...})`` -> base URL (.../v1); the
    server keeps no request bodies (``--no-record``)."""
    with server_processes() as start:
        yield lambda *flags, **settings: start("--no-record", *flags, **settings)


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
