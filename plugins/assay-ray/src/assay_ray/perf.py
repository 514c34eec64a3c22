"""``assay perf --executor ray --workers N``: N load-generator actors, one schedule from the driver.

The driver makes the schedule a local run would make (the same prompts in the same order, the same
arrival times from the same seed) and deals it out: request ``i`` goes to worker ``i mod N``
(closed loop) or the open-loop due times go round-robin, and ``--parallel`` is split between the
workers, so rate and concurrency mean the whole cluster. Each actor runs assay-perf's own request
loop on its own event loop, starting at one instant of the driver's clock. Each actor's clock
offset to the driver is measured before the sweep (``WorkerJoined.clock_offset``, the ping with
the shortest round trip) and every timestamp it reports is moved onto the driver's clock before the
events are appended; request ids are the ones a local run gives.
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

import msgspec
from assay.api import AssayError
from assay.events import RequestTimed

# assay-perf's public load engine: one schedule split for the local --workers processes and the Ray actors
from assay_perf import engine

from .executor import NAMESPACE, Pool, connect, niceness, renice, worker_facts

_TIME_FIELDS = ("scheduled", "sent", "first_byte", "last_content", "end")
START_LEAD, LATE_WARNING = engine.START_LEAD, engine.LATE_WARNING  # as the local --workers


_encode = msgspec.msgpack.Encoder().encode
_decode_events = msgspec.msgpack.Decoder(list[RequestTimed]).decode


class _Collector:
    """The run a worker's load generator emits into: kept (with the ids a single process gives),
    returned with the point."""

    def __init__(self, k: int, n: int, idx: list[int] | None) -> None:
        self.k, self.n, self.idx = k, n, idx
        self.events: list[RequestTimed] = []

    def emit_many(self, bodies: list[RequestTimed]) -> list[Any]:
        k, n, idx = self.k, self.n, self.idx
        for ev in bodies:
            ev.request_id = engine.global_id(ev.request_id, k, n, idx)
        self.events.extend(bodies)
        return []


class LoadWorker:
    """One Ray actor generating load with assay-perf's own loop (the lean client, or aiohttp, on the
    actor's own event loop: uvloop when installed)."""

    def __init__(
        self, opts: Any, api: Any, url: str, bodies: list[tuple[bytes, int | None]], nice: int | None = None
    ) -> None:
        self.opts = opts
        self.api = api
        self.url = url
        self.bodies = bodies
        # Ray runs its workers at nice 15: a load generator at that priority loses the CPU to anything else on
        # its node (the server under test included) and its timestamps lag; it runs at the driver's priority
        self.nice = nice
        renice(nice)
        engine.preload()  # imported now, not at the first point's start

        try:
            import uvloop  # noqa: F401
        except ImportError:
            pass
        self.spec: dict[str, Any] | None = None

    def prepare(self, spec: dict[str, Any]) -> bool:
        """Take this worker's share of the next phase (the big message goes before the start)."""
        self.spec = spec
        return True

    def facts(self) -> dict[str, Any]:
        return worker_facts()

    def clock(self) -> float:
        return time.time()

    def run_point(self, start_at: float) -> tuple[float, float, bytes]:
        """Run this worker's share of one phase of a point, starting at ``start_at`` (this actor's
        wall clock), on an event loop of its own; returns how late it started (s), the CPU it spent
        (s) and its ``RequestTimed`` events, msgpack-encoded (a tenth of pickle's cost)."""
        spec, self.spec = self.spec, None
        assert spec is not None, "prepare() first"
        renice(self.nice)  # (Linux: a thread's own; this is the thread that runs the loop)
        cpu0 = time.process_time()
        late, events = engine.event_loop_run(_run_point(self, spec, start_at))  # a plain actor: no loop of Ray's here
        return late, time.process_time() - cpu0, _encode(events)


async def _run_point(worker: LoadWorker, spec: dict[str, Any], start_at: float) -> tuple[float, list[Any]]:
    """A function, not a method: a coroutine method would make Ray run the actor on its own loop."""
    opts = copy.copy(worker.opts)
    opts.warmup_num = spec["warmup"]
    opts.duration = spec["duration"]
    sink = _Collector(spec["k"], spec["n"], spec["idx"])
    bodies = [worker.bodies[i % len(worker.bodies)] for i in spec["prompts"]]
    load = engine.Load(opts, worker.api, worker.url, bodies, sink)
    load.schedule = spec["schedule"]
    # open-loop due times count from the common start (on this worker's clock, through the load's own
    # offset, so a due time comes out as start_at + its offset exactly), not from when this worker woke
    # up: a late worker shows as queue delay, as with --workers, instead of shifting its whole schedule
    load.start_at = start_at - load.offset
    with engine.quiet_gc():  # its collection runs before the common start, not inside it
        delay = start_at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        late = max(0.0, time.time() - start_at)
        await load.run_point(spec["parallel"], spec["number"], spec["rate"], spec["point"], spec["pidx"])
    return late, sink.events


def _onto_driver(events: list[RequestTimed], offset: float) -> list[RequestTimed]:
    """Every timestamp of a worker's events moved onto the driver's clock (in place)."""
    if offset == 0.0:
        return events
    for ev in events:
        for name in _TIME_FIELDS:
            v = getattr(ev, name)
            if v is not None:
                setattr(ev, name, v - offset)
        if ev.chunk_times:
            ev.chunk_times = [t - offset for t in ev.chunk_times]
    return events


def _phase(ray: Any, workers: list[Any], specs: list[dict[str, Any]], run: Any, opts: Any, pidx: int) -> float:
    """Deal one phase of a point out, run it from a common start on the driver's clock, append the
    events (on the driver's clock); return how late the latest worker started (s)."""
    try:
        ray.get([w.actor.prepare.remote(spec) for w, spec in zip(workers, specs)])
        start = time.time() + START_LEAD  # the driver's clock
        results = ray.get([w.actor.run_point.remote(start + w.offset) for w in workers])
    except ray.exceptions.RayActorError as exc:
        raise AssayError(
            f"a Ray load generator died during point {pidx + 1} ({type(exc).__name__}); its measurements "
            "are incomplete, so the run stops here"
        ) from None
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None) or exc
        raise AssayError(f"a Ray load generator failed: {type(cause).__name__}: {cause}") from None
    for w, (_late, cpu, blob) in zip(workers, results):
        opts.points_cpu_s += cpu
        fixed = _onto_driver(_decode_events(blob), w.offset)
        for i in range(0, len(fixed), opts.emit_batch):
            run.emit_many(fixed[i : i + opts.emit_batch])
    return max(r[0] for r in results)


def run_perf_on_ray(executor: Any, opts: Any, load: Any, points: list[Any], run: Any) -> None:
    args = executor.args
    n = opts.workers if opts.workers != 1 else args.get("workers", 1)
    if n < 1:
        raise AssayError(f"--workers must be >= 1, got {n}")
    if load.conversations is not None:
        raise AssayError("--multi-turn runs on the local executor only (a conversation is one client's)")
    for parallel, _number, _rate in points:
        if parallel < n:
            raise AssayError(f"--parallel {parallel} is less than --workers {n}: each worker needs a slot")
    ray = connect(args.get("address"))
    options: dict[str, Any] = {"num_cpus": args.get("num_cpus", 0), "scheduling_strategy": "SPREAD"}
    if args.get("resources"):
        options["resources"] = dict(args["resources"])
    pool = Pool(
        ray,
        run,
        LoadWorker,
        "perf",
        (opts, load.api, load.url, load.bodies, niceness()),
        options,
        float(args.get("start_timeout", 60.0)),
    )
    try:
        workers = pool.start(n, required=n)  # the load is the whole cluster's: all N or none
        low = [w for w in workers if (w.facts.get("nice") or 0) > (niceness() or 0)]
        if low:
            run.warn(
                "executor ray",
                f"{len(low)} load generator(s) run at nice {low[0].facts['nice']} (Ray's worker niceness), below "
                "this process's priority, and could not be raised: on a busy node their timestamps lag; start "
                "the cluster with RAY_worker_niceness=0 in its environment",
            )
        run.flush()
        for pidx, (parallel, number, rate) in enumerate(points):
            if pidx and opts.sleep_interval > 0:
                time.sleep(opts.sleep_interval)
            point = {"parallel": parallel, "number": number, "rate": rate}
            cpu0 = time.process_time()  # the driver's share of the client CPU (the actors report theirs)
            specs = [
                {**spec, "k": k, "n": n, "idx": idx}
                for k, (spec, idx) in enumerate(engine.shares(load, opts, n, parallel, number, rate, point, pidx))
            ]
            late = 0.0
            if opts.warmup_num:  # every worker's warm-up ends before any worker measures (as assay_perf.workers)
                late = _phase(ray, workers, [engine.warmup_phase(spec) for spec in specs], run, opts, pidx)
            late = max(late, _phase(ray, workers, [engine.measured_phase(spec) for spec in specs], run, opts, pidx))
            opts.points_cpu_s += time.process_time() - cpu0
            if late > LATE_WARNING:
                run.warn(
                    "executor ray",
                    f"point {pidx + 1}: a load generator started {late * 1000:.0f} ms after the common start "
                    f"(the driver waits {START_LEAD:g} s); its share of the load came that much late",
                )
            run.flush()
    finally:
        pool.shutdown()


__all__ = ["NAMESPACE", "LoadWorker", "run_perf_on_ray"]
