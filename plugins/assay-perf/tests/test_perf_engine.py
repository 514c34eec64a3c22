"""``assay_perf.engine`` is the public load loop that an executor runs elsewhere (assay-ray's actors do).

An executor registered here drives ``assay perf`` through the engine alone, as assay-ray does without Ray:
each point dealt out with ``shares``, each share run by its own ``Load`` (all on one event loop from
``event_loop_run``, inside ``quiet_gc``), and the request ids mapped back with ``global_id``. Against the real
test server its log must hold the requests a local run logs: the same ids, all succeeded, a dense ``seq``.
"""

from __future__ import annotations

import asyncio
import copy
import sys
import types
from typing import Any

from assay import hookimpl
from assay.cli import build_parser
from assay.plugins import PluginHost
from assay_perf import engine
from assay_perf import runner as runner_module
from assay_perf import workers as workers_module
from assay_perf.cli import options_from_args
from assay_perf.runner import run_perf
from assay_testserver.testing import events as _events

SHARES = 2


class _Sink:
    """What one share's ``Load`` emits into."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def emit_many(self, bodies: Any) -> list[Any]:
        self.events.extend(bodies)
        return []


async def _run_shares(opts: Any, load: Any, shares: list[Any], sinks: list[_Sink], point: Any, pidx: int) -> None:
    """Each share by its own ``Load``, all at once on this loop (assay-ray: one per actor)."""
    loads = []
    for (spec, _idx), sink in zip(shares, sinks):
        share_opts = copy.copy(opts)
        share_opts.warmup_num = spec["warmup"]
        share_opts.duration = spec["duration"]
        bodies = [load.bodies[i % len(load.bodies)] for i in spec["prompts"]]
        share = engine.Load(share_opts, load.api, load.url, bodies, sink)
        share.schedule = spec["schedule"]
        loads.append(share.run_point(spec["parallel"], spec["number"], spec["rate"], point, pidx))
    await asyncio.gather(*loads)


class EngineExecutor:
    """``factory(opts, plugins)``; ``perf(opts, load, points, run)`` runs each point as SHARES loads."""

    def __init__(self, opts: Any, plugins: Any) -> None:
        self.opts = opts

    def perf(self, opts: Any, load: Any, points: list[Any], run: Any) -> None:
        for pidx, (parallel, number, rate) in enumerate(points):
            point = {"parallel": parallel, "number": number, "rate": rate}
            shares = engine.shares(load, opts, SHARES, parallel, number, rate, point, pidx)
            sinks = [_Sink() for _ in shares]
            with engine.quiet_gc():
                engine.event_loop_run(_run_shares(opts, load, shares, sinks, point, pidx))
            for k, ((_spec, idx), sink) in enumerate(zip(shares, sinks)):
                for ev in sink.events:
                    ev.request_id = engine.global_id(ev.request_id, k, SHARES, idx)
                run.emit_many(sink.events)
            run.flush()


@hookimpl
def assay_executors(register: Any) -> None:
    register("engine_test", EngineExecutor, description="assay_perf.engine only, in-process")


def _perf(tmp_path, *flags: str):
    host = PluginHost()
    host.register_module(types.SimpleNamespace(assay_executors=assay_executors), "engine_test_plugin")
    args = build_parser().parse_args(["perf", *flags, "--work-dir", str(tmp_path), "--quiet"])
    run_dir, report = run_perf(options_from_args(args), host)
    events = _events(run_dir, whole=True)
    return report["sections"]["perf"], events


def test_the_engine_is_the_runners_one_copy():
    assert engine.Load is runner_module._Load
    assert engine.quiet_gc is runner_module._quiet_gc
    assert engine.event_loop_run is runner_module._event_loop_run
    assert (engine.shares, engine.global_id) == (workers_module.shares, workers_module.global_id)
    assert sorted(engine.__all__) == [
        "LATE_WARNING",
        "Load",
        "START_LEAD",
        "event_loop_run",
        "global_id",
        "measured_phase",
        "preload",
        "quiet_gc",
        "shares",
        "warmup_phase",
    ]
    assert (engine.warmup_phase, engine.measured_phase) == (workers_module.warmup_phase, workers_module.measured_phase)
    engine.preload()
    assert "aiohttp" in sys.modules and "assay_openai.lean" in sys.modules


def test_an_executor_built_on_the_engine_logs_the_local_runs_requests(server_process, tmp_path):
    url = server_process()
    flags = ("--url", url, "--model", "m", "--max-tokens", "4", "--min-tokens", "4", "--stream")
    flags += ("--min-prompt-length", "4", "--max-prompt-length", "8", "--parallel", "4", "--number", "12")
    flags += ("--warmup-num", "2")
    ids = {}
    for executor in ("local", "engine_test"):
        section, events = _perf(tmp_path / executor, *flags, "--executor", executor)
        (pt,) = section["points"]
        assert (pt["requests"], pt["succeeded"], pt["failed"]) == (12, 12, 0)
        assert [e["seq"] for e in events] == list(range(len(events)))
        assert [e["type"] for e in events if e["type"] != "RequestTimed"] == ["RunStarted", "RunFinished"]
        timed = [e["body"] for e in events if e["type"] == "RequestTimed"]
        assert all(b["status"] == 200 and b["output_tokens"] == 4 for b in timed)
        ids[executor] = sorted(b["request_id"] for b in timed)
    assert ids["engine_test"] == ids["local"] == sorted([f"0-{i}" for i in range(12)] + ["0-w-0", "0-w-1"])
