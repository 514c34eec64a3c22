"""The event loop of eval runs: uvloop's when installed, asyncio's when asked for or when uvloop is missing."""

from __future__ import annotations

import asyncio
import sys

import pytest
from assay.evaluate import _loop_factory, run_async


async def _loop_type(out: list) -> None:
    out.append(type(asyncio.get_running_loop()).__module__.split(".")[0])


def _run_loop_type() -> str:
    out: list = []
    run_async(_loop_type, out)
    return out[0]


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not installed on Windows")
def test_eval_runs_on_uvloop_when_installed(monkeypatch):
    import uvloop

    monkeypatch.delenv("ASSAY_EVAL_LOOP", raising=False)
    assert _loop_factory() is uvloop.new_event_loop
    assert _run_loop_type() == "uvloop"


def test_asyncio_when_asked_for(monkeypatch):
    monkeypatch.setenv("ASSAY_EVAL_LOOP", "asyncio")
    assert _loop_factory() is None
    assert _run_loop_type() == "asyncio"


def test_asyncio_when_uvloop_is_missing(monkeypatch):
    monkeypatch.delenv("ASSAY_EVAL_LOOP", raising=False)
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` raises ImportError, as where it is not installed
    assert _loop_factory() is None
    assert _run_loop_type() == "asyncio"
