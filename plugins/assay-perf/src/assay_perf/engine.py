"""assay-perf's load engine as public API: what an executor needs to run the load loop elsewhere.

assay-ray's actors import this module (declared in assay-perf's ``[tool.assay] public``); the code
itself lives in :mod:`assay_perf.runner` and :mod:`assay_perf.workers` (one copy), whose other names
stay private and may change.

- ``Load(opts, api, url, bodies, run)``: one load generator. ``bodies`` are the encoded requests
  (``(body, prompt_tokens)``), ``run`` is what it emits ``RequestTimed`` events into (``emit_many``);
  set ``load.schedule`` (offsets in seconds from the point's start) for a fixed arrival schedule, then
  ``await load.run_point(parallel, number, rate, point, pidx)`` for one point of the sweep.
- ``quiet_gc()``: a context manager that keeps cyclic-GC pauses out of a measured point.
- ``event_loop_run(coro)``: run ``coro`` on a fresh event loop (uvloop when installed).
- ``shares(load, opts, n, parallel, number, rate, point, pidx)``: one point's schedule dealt out to
  ``n`` workers, as ``--workers N`` does: each worker's ``(spec, request indices)``.
- ``preload()``: import the HTTP clients now (an actor calls it at start, not inside a point).
- ``warmup_phase(spec)`` / ``measured_phase(spec)``: a worker's share of a point as its two phases (every
  worker's warm-up ends before any worker measures); ``START_LEAD`` / ``LATE_WARNING``: the common start's
  lead and the lateness that is warned about.
- ``global_id(request_id, k, n, indices)``: the request id a single process would have given the
  request that worker ``k`` of ``n`` reports as ``request_id``.
"""

from __future__ import annotations

from .runner import _event_loop_run as event_loop_run
from .runner import _Load as Load
from .runner import _quiet_gc as quiet_gc
from .workers import LATE_WARNING, START_LEAD, global_id, measured_phase, shares, warmup_phase


def preload() -> None:
    """Import what a point needs (the HTTP clients) now, so that no import lands in a measured window."""
    import aiohttp  # noqa: F401
    from assay_openai import lean  # noqa: F401


__all__ = [
    "LATE_WARNING",
    "START_LEAD",
    "Load",
    "event_loop_run",
    "global_id",
    "measured_phase",
    "preload",
    "quiet_gc",
    "shares",
    "warmup_phase",
]
