"""``assay perf --workers N`` on the local executor: N load-generator processes, one schedule, one log.

The parent makes the schedule a single process would make (the same prompts in the same order, the
same arrival times from the same seed) and deals it out: request ``i`` goes to worker ``i mod N``
(closed loop: ``--parallel`` and ``--number`` are split between the workers), or the open-loop due
times go round-robin, so rate and concurrency mean the whole run. Each worker is a process of its own
(``python -m assay_perf.workers``) running assay-perf's own request loop on its own event loop
(uvloop when installed). All of them take their timestamps with the parent's one base (``time.perf_counter``
is the host's monotonic clock; one offset to wall time, the parent's), so no clock offset is needed.
Workers send their ``RequestTimed`` events back in batches as they go (msgpack over a pipe), with the
request ids a single process gives; the parent is the single log writer, so ``seq`` stays dense.
"""

from __future__ import annotations

import asyncio
import copy
import math
import os
import pickle
import subprocess
import sys
import time
from multiprocessing.connection import Connection, wait
from typing import Any

import msgspec
from assay.api import AssayError
from assay.events import RequestTimed

START_LEAD = 0.5  # seconds between dealing a point out and its common start
LATE_WARNING = 0.02  # a worker that starts later than this is named in a warning

_encode = msgspec.msgpack.Encoder().encode
_decode_events = msgspec.msgpack.Decoder(list[RequestTimed]).decode


def split(total: int, n: int) -> list[int]:
    """``total`` shared by ``n`` as evenly as can be, the first ones taking the remainder."""
    return [total // n + (1 if k < total % n else 0) for k in range(n)]


def shares(
    load: Any,
    opts: Any,
    n: int,
    parallel: int,
    number: int | None,
    rate: float | None,
    point: dict[str, Any],
    pidx: int,
) -> list[tuple[dict[str, Any], list[int] | None]]:
    """Each worker's spec for one point, and (open loop) the global index of each of its requests."""
    para = split(parallel, n)
    warm = split(opts.warmup_num, n)
    nbodies = len(load.bodies)
    if rate or load.schedule is not None:  # open loop: the parent's due times, dealt round-robin
        dues: list[float] = []
        for rel in load.arrivals(rate, pidx):
            if (number is not None and len(dues) >= number) or (opts.duration and rel >= opts.duration):
                break
            dues.append(rel)
        out = []
        for k in range(n):
            idx = list(range(k, len(dues), n))
            spec = {
                "parallel": para[k],
                "number": len(idx),
                "rate": None,
                "schedule": [dues[i] for i in idx],
                "prompts": idx,
                "warmup": warm[k],
                "duration": None,  # the dues already stop at --duration
                "point": point,
                "pidx": pidx,
            }
            out.append((spec, idx))
        return out
    # closed loop: request i (prompt i) is worker (i mod n)'s
    counts = split(number, n) if number is not None else [None] * n
    out = []
    for k in range(n):
        cycle = nbodies * n // math.gcd(nbodies, n) if nbodies else 1
        count = counts[k] if counts[k] is not None else max(1, cycle // n)
        spec = {
            "parallel": para[k],
            "number": counts[k],
            "rate": None,
            "schedule": None,
            "prompts": [k + j * n for j in range(max(count, warm[k], 1))],
            "warmup": warm[k],
            "duration": opts.duration,
            "point": point,
            "pidx": pidx,
        }
        out.append((spec, None))
    return out


def warmup_phase(spec: dict[str, Any]) -> dict[str, Any]:
    """A worker's share of a point, its warm-up requests only (every worker's warm-up ends before any measures)."""
    return {**spec, "number": 0, "duration": None, "schedule": None if spec["schedule"] is None else []}


def measured_phase(spec: dict[str, Any]) -> dict[str, Any]:
    """A worker's share of a point, its measured requests only (the warm-up ran as its own phase)."""
    return {**spec, "warmup": 0}


def global_id(rid: str, k: int, n: int, idx: list[int] | None) -> str:
    """The request id a single process gives: ``P-I`` / ``P-w-I`` with I the request's global index."""
    head, _, j = rid.rpartition("-")
    try:
        local = int(j)
    except ValueError:
        return rid
    if idx is not None and not head.endswith("-w"):
        return f"{head}-{idx[local]}"
    return f"{head}-{k + local * n}"


def check(opts: Any, points: list[Any]) -> None:
    """What --workers N cannot do, said before the run exists."""
    if opts.workers < 1:
        raise AssayError(f"--workers must be >= 1, got {opts.workers}")
    if opts.multi_turn:
        raise AssayError("--multi-turn runs in one process (a conversation is one client's): no --workers")
    if opts.sla_auto_tune:
        raise AssayError("--sla-auto-tune runs in one process: no --workers")
    for parallel, _number, _rate in points:
        if parallel < opts.workers:
            raise AssayError(f"--parallel {parallel} is less than --workers {opts.workers}: each worker needs a slot")


# ---- the worker process --------------------------------------------------------------


class _Sink:
    """The run a worker's load generator emits into: each batch goes to the parent at once."""

    def __init__(self, conn: Connection, k: int, n: int) -> None:
        self.conn, self.k, self.n = conn, k, n
        self.idx: list[int] | None = None

    def emit_many(self, bodies: list[RequestTimed]) -> list[Any]:
        k, n, idx = self.k, self.n, self.idx
        for ev in bodies:
            ev.request_id = global_id(ev.request_id, k, n, idx)
        self.conn.send_bytes(b"E" + _encode(bodies))
        return []


async def _share(state: dict[str, Any], sink: _Sink, spec: dict[str, Any], start_at: float) -> float:
    from .runner import _Load, _quiet_gc

    opts = copy.copy(state["opts"])
    opts.warmup_num = spec["warmup"]
    opts.duration = spec["duration"]
    allb = state["bodies"]
    bodies = [allb[i % len(allb)] for i in spec["prompts"]]
    load = _Load(opts, state["api"], state["url"], bodies, sink)
    load.offset = state["offset"]  # the parent's base: one clock for the whole run
    load.schedule = spec["schedule"]
    load.start_at = start_at  # due times count from the common start: a late worker shows as queue delay
    with _quiet_gc():  # its collection runs before the common start, not inside it
        while (delay := start_at - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        late = max(0.0, time.perf_counter() - start_at)
        await load.run_point(spec["parallel"], spec["number"], spec["rate"], spec["point"], spec["pidx"])
    return late


def _worker_main(rfd: int, wfd: int) -> None:
    import assay_openai.lean  # noqa: F401 - imported before the first point's start, not in it
    from .runner import _event_loop_run

    try:
        import uvloop  # noqa: F401
    except ImportError:
        pass
    inbox, outbox = Connection(rfd, writable=False), Connection(wfd, readable=False)
    state = pickle.loads(inbox.recv_bytes())
    sink = _Sink(outbox, state["k"], state["n"])
    outbox.send_bytes(b"R")
    while True:
        try:
            msg = inbox.recv_bytes()
        except EOFError:
            return
        if msg == b"Q":
            return
        spec, idx, start_at = pickle.loads(msg)
        sink.idx = idx
        cpu0 = time.process_time()
        late = _event_loop_run(_share(state, sink, spec, start_at))
        outbox.send_bytes(b"D" + _encode([late, time.process_time() - cpu0]))


# ---- the parent ------------------------------------------------------------------------


class _Worker:
    def __init__(self, k: int, n: int, opts: Any, load: Any) -> None:
        r_child, w_parent = os.pipe()
        r_parent, w_child = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assay_perf.workers", str(r_child), str(w_child)],
            pass_fds=(r_child, w_child),
            stdin=subprocess.DEVNULL,
        )
        os.close(r_child)
        os.close(w_child)
        self.out = Connection(w_parent, readable=False)
        self.inbox = Connection(r_parent, writable=False)
        state = {"k": k, "n": n, "opts": opts, "api": load.api, "url": load.url, "bodies": load.bodies}
        state["offset"] = load.offset
        self.out.send_bytes(pickle.dumps(state))

    def close(self) -> None:
        try:
            self.out.send_bytes(b"Q")
        except OSError:
            pass
        self.out.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.inbox.close()


def _dead(w: _Worker) -> AssayError:
    try:
        code = w.proc.wait(5)  # its pipe closed: it is ending
    except subprocess.TimeoutExpired:
        code = None
    return AssayError(
        f"a load-generator worker process ended (exit status {code}); its measurements are incomplete, "
        "so the run stops here"
    )


def _phase(workers: list[_Worker], specs: list[tuple[dict[str, Any], list[int] | None]], run: Any, opts: Any) -> float:
    """Deal one phase of a point out, from a common start; append the events as they come; return
    how late the latest worker started (s)."""
    start_at = time.perf_counter() + START_LEAD
    for w, (spec, idx) in zip(workers, specs):
        try:
            w.out.send_bytes(pickle.dumps((spec, idx, start_at)))
        except OSError:  # it died before reading its share (the CLI takes a BrokenPipeError for a closed stdout)
            raise _dead(w) from None
    pending = {w.inbox: w for w in workers}
    late = 0.0
    while pending:
        for conn in wait(list(pending)):
            w = pending[conn]
            try:
                msg = conn.recv_bytes()
            except EOFError:
                raise _dead(w) from None
            if msg[:1] == b"E":
                run.emit_many(_decode_events(msg[1:]))
            else:
                w_late, w_cpu = msgspec.msgpack.decode(msg[1:])
                late = max(late, w_late)
                opts.points_cpu_s += w_cpu
                del pending[conn]
    return late


def run_workers(opts: Any, load: Any, points: list[Any], run: Any) -> None:
    """The sweep of ``run_perf`` with ``opts.workers`` processes generating the load."""
    n = opts.workers
    workers = [_Worker(k, n, opts, load) for k in range(n)]
    try:
        for w in workers:
            try:
                ready = w.inbox.recv_bytes()
            except EOFError:
                raise _dead(w) from None
            assert ready == b"R", ready
        for pidx, (parallel, number, rate) in enumerate(points):
            if pidx and opts.sleep_interval > 0:
                time.sleep(opts.sleep_interval)
            point = {"parallel": parallel, "number": number, "rate": rate}
            cpu0 = time.process_time()
            specs = shares(load, opts, n, parallel, number, rate, point, pidx)
            late = 0.0
            if opts.warmup_num:  # every worker's warm-up ends before any worker measures
                late = _phase(workers, [(warmup_phase(spec), idx) for spec, idx in specs], run, opts)
            late = max(late, _phase(workers, [(measured_phase(spec), idx) for spec, idx in specs], run, opts))
            opts.points_cpu_s += time.process_time() - cpu0
            if late > LATE_WARNING:
                run.warn(
                    "workers",
                    f"point {pidx + 1}: a load generator started {late * 1000:.0f} ms after the common start "
                    f"(the parent waits {START_LEAD:g} s); its share of the load came that much late",
                )
            run.flush()
    finally:
        for w in workers:
            w.close()


if __name__ == "__main__":
    _worker_main(int(sys.argv[1]), int(sys.argv[2]))
