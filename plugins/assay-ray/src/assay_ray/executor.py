"""``--executor ray``: an eval's samples go out in shards to Ray actors; their events come back.

The driver (the ``assay`` process) loads samples and owns the single log writer: a shard's
``Generated`` / ``Scored`` / ``SampleFailed`` / ``RequestTimed`` events are appended there, in
the groups the worker made (one group per sample), only once the whole shard is back. A worker
that dies loses only what was never appended: its unfinished shards are handed out again, so
every sample is in the log exactly once and ``seq`` stays dense. Killing the driver kills its
actors (Ray's owner rule); ``assay resume`` then does what the log lacks, with or without Ray.

Actors are sized so that they cannot starve a cluster: API-client actors hold no CPU
(``num_cpus=0``), model replicas hold what ``--executor-args`` asks (``num_gpus`` / ``num_cpus``).
Actors that the cluster cannot place within ``start_timeout`` seconds are an error, not a hang.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import math
import os
import socket
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from assay.api import AssayError, did_you_mean

NAMESPACE = "assay"
OPTIONS = {
    "address": "Ray address: auto, HOST:PORT or ray://HOST:10001 (default $RAY_ADDRESS, else ray.init's own rule)",
    "workers": "number of actors (eval default: one per node for a served model, one per GPU/CPU share for "
    "a checkpoint; perf: --workers)",
    "num_cpus": "CPUs each actor holds (default 0 for API clients and load generators, 1 for model replicas)",
    "num_gpus": "GPUs each model-replica actor holds (default 1 when the cluster has GPUs)",
    "resources": 'custom resources each actor needs, e.g. {"loadgen": 1} (pins actors to nodes that have them)',
    "shard_size": "samples per shard (default: the per-actor concurrency)",
    "start_timeout": "seconds to wait for actors to be placed and started (default 60): then an error, not a hang",
    "max_shard_attempts": "times a shard is handed out when its workers die (default 3); then its samples fail",
}


def executor_options(cfg_args: dict[str, Any]) -> dict[str, Any]:
    args = dict(cfg_args)
    unknown = sorted(set(args) - set(OPTIONS))
    if unknown:
        raise AssayError(
            f"--executor-args: unknown key {unknown[0]!r}{did_you_mean(unknown[0], OPTIONS)} for the ray executor; "
            f"it takes {', '.join(sorted(OPTIONS))}"
        )
    if "address" in args and not _address_ok(args["address"]):
        raise AssayError(
            f"the Ray address must be auto, ray://HOST:PORT or HOST:PORT (--ray-address), got {args['address']!r}"
        )
    if "resources" in args and not isinstance(args["resources"], dict):
        raise AssayError('--executor-args: resources must be a JSON object, e.g. {"resources": {"loadgen": 1}}')
    for key in ("workers", "shard_size", "max_shard_attempts"):
        if key in args and (not isinstance(args[key], int) or args[key] < 1):
            raise AssayError(f"--executor-args: {key} must be a positive integer, got {args[key]!r}")
    for key in ("num_cpus", "num_gpus", "start_timeout"):
        if key in args and (not isinstance(args[key], (int, float)) or args[key] < 0):
            raise AssayError(f"--executor-args: {key} must be a number >= 0, got {args[key]!r}")
    return args


def _address_ok(address: Any) -> bool:
    """``auto`` / ``local`` (Ray's own words), ``ray://HOST[:PORT]`` (Ray Client) or ``HOST:PORT`` (a GCS)."""
    if not isinstance(address, str):
        return False
    if address in ("auto", "local"):
        return True
    rest = address[len("ray://") :] if address.startswith("ray://") else address
    host, sep, port = rest.rpartition(":")
    if not sep:
        return address.startswith("ray://") and bool(rest) and "/" not in rest  # the client's default port
    return bool(host) and port.isdigit() and 0 < int(port) < 65536 and "/" not in host and " " not in host


def connect(address: str | None) -> Any:
    """``ray.init`` once per process: the given address, else $RAY_ADDRESS, else Ray's own rule
    (a cluster started on this host with ``ray start``, or a new local one)."""
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - ray is a dependency of this distribution
        raise AssayError(f"--executor ray needs ray: pip install assay-ray ({exc})") from None
    if ray.is_initialized():
        return ray
    address = address or os.environ.get("RAY_ADDRESS") or None
    kwargs: dict[str, Any] = {"namespace": NAMESPACE, "log_to_driver": False, "logging_level": "ERROR"}
    if address is None or address == "local":
        kwargs["include_dashboard"] = False
    try:
        ray.init(address=None if address == "local" else address, **kwargs)
    except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError, ValueError... all the same to the user
        raise AssayError(
            f"cannot connect to the Ray cluster at {address or 'auto'}: {type(exc).__name__}: {exc}"
        ) from None
    return ray


def measure_clock(ray: Any, actor: Any, pings: int = 5) -> tuple[float, float]:
    """(offset, rtt): the actor's wall clock minus the driver's, from the ping with the shortest
    round trip (NTP's rule); the true offset lies within +- rtt / 2 of it."""
    best: tuple[float, float] | None = None
    for _ in range(pings):
        t0 = time.time()
        remote = ray.get(actor.clock.remote())
        t1 = time.time()
        rtt = t1 - t0
        if best is None or rtt < best[1]:
            best = (remote - (t0 + t1) / 2, rtt)
    assert best is not None
    return best


# ---- the worker side ------------------------------------------------------------------

_groups: contextvars.ContextVar[list[list[Any]]] = contextvars.ContextVar("assay_ray_groups")


class _Sink:
    """The :class:`assay.api.RunContext` a model sees on a worker: what it emits is kept, in
    groups, for the shard (task) that emitted it, and goes back to the driver with the shard."""

    def __init__(self, run_id: str, config: Any) -> None:
        self.run_id = run_id
        self.config = config
        self.run_dir = None

    def emit(self, body: Any) -> None:
        self.emit_many([body])

    def emit_many(self, bodies: Iterable[Any]) -> list[Any]:
        _groups.get().append(list(bodies))
        return []

    def warn(self, source: str, message: str) -> None:
        from assay.events import Warning_

        self.emit(Warning_(source=source, message=message))

    def flush(self) -> None:
        pass


def worker_facts() -> dict[str, Any]:
    import ray

    return {
        "node_id": ray.get_runtime_context().get_node_id(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "nice": niceness(),
    }


def niceness() -> int | None:
    """This thread's nice value (Ray starts its workers at nice 15: ``RAY_worker_niceness``)."""
    try:
        return os.getpriority(os.PRIO_PROCESS, 0)
    except (AttributeError, OSError):  # pragma: no cover - not a POSIX host
        return None


def renice(target: int | None) -> None:
    """Raise this thread's priority to ``target`` (the driver's) when it is lower and the host lets us."""
    current = niceness()
    if target is None or current is None or current <= target:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, 0, target)
    except OSError:  # no CAP_SYS_NICE / RLIMIT_NICE: the driver warns (WorkerJoined.nice)
        pass


class EvalWorker:
    """One Ray actor: an API client (or one model replica) that generates and scores shards."""

    def __init__(self, config: dict[str, Any], run_id: str, concurrency: int, nice: int | None = None) -> None:
        # Ray starts its workers at nice 15: on a node shared with the driver or the server (one host), such an
        # actor gets what the others leave; it runs at the driver's priority where the host allows it
        self.nice = nice
        renice(nice)
        from assay.config import load
        from assay.loading import model_config, select_model
        from assay.scoring import Scoring, open_judge
        from assay.failures import FailureWatch
        from assay.plugins import host

        self.cfg = load(config)
        self.plugins = host()
        _backend, factory = select_model(self.cfg, self.plugins)
        self.sink = _Sink(run_id, self.cfg)
        self.model = factory(model_config(self.cfg), self.sink)
        # judges (the assay_judge hook, None without assay-judge): a worker asks them itself; their Judged
        # events go back with the shard
        self.scoring = Scoring(self.plugins, judge=open_judge(self.cfg, self.plugins, self.sink))
        self.watch = FailureWatch(None)  # a run whose first samples all fail alike stops (RunFailed)
        self.concurrency = concurrency
        self.sem: asyncio.Semaphore | None = None

    def facts(self) -> dict[str, Any]:
        renice(self.nice)  # on the thread that runs the methods: what WorkerJoined.nice reports is what works
        return worker_facts()

    def clock(self) -> float:
        return time.time()

    async def run_shard(self, samples: list[Any]) -> list[list[Any]]:
        from assay.evaluate import generate_one

        renice(self.nice)  # (Linux: a thread's own; Ray runs an async actor's methods on a thread of its own)
        if self.sem is None:
            self.sem = asyncio.Semaphore(self.concurrency)
        per_sample: list[list[list[Any]]] = [[] for _ in samples]

        async def one(i: int, sample: Any) -> None:
            assert self.sem is not None
            async with self.sem:
                _groups.set(per_sample[i])  # this task's own context
                await generate_one(
                    sample, self.model, self.cfg, self.sink, self.scoring, self.cfg.model_name, self.watch
                )

        await asyncio.gather(*(one(i, s) for i, s in enumerate(samples)))
        return [g for groups in per_sample for g in groups]


# ---- the driver side ------------------------------------------------------------------


class Worker:
    """The driver's record of one actor."""

    def __init__(self, name: str, actor: Any) -> None:
        self.name = name
        self.actor = actor
        self.inflight = 0
        self.dead = False
        self.facts: dict[str, Any] = {}
        self.offset = 0.0
        self.rtt = 0.0


class Pool:
    """Starts actors, waits for them with a deadline (a starved cluster is an error), replaces lost ones."""

    def __init__(
        self,
        ray: Any,
        run: Any,
        cls: type,
        role: str,
        init_args: tuple[Any, ...],
        options: dict[str, Any],
        start_timeout: float,
    ) -> None:
        self.ray = ray
        self.run = run
        self.remote_cls = ray.remote(cls)
        self.role = role
        self.init_args = init_args
        self.options = options
        self.start_timeout = start_timeout
        self.workers: list[Worker] = []
        self.started = 0
        self.starting: dict[Any, tuple[Worker, float]] = {}  # actors asked for, not joined yet: facts ref -> deadline
        self.first_error: BaseException | None = None

    def _needs(self) -> str:
        o = self.options
        parts = [f"num_cpus={o.get('num_cpus', 0):g}"]
        if o.get("num_gpus"):
            parts.append(f"num_gpus={o['num_gpus']:g}")
        for k, v in (o.get("resources") or {}).items():
            parts.append(f"{k}={v:g}")
        return ", ".join(parts)

    def spawn(self, n: int) -> list[Any]:
        """Ask the cluster for ``n`` more actors; they join (:meth:`join`) as each becomes ready.
        Returns the refs of their ``facts`` (ready when the actor is)."""
        deadline = time.monotonic() + self.start_timeout
        refs = []
        for _ in range(n):
            name = f"assay-{self.run.run_id}-{self.role}-{self.started}"
            self.started += 1
            actor = self.remote_cls.options(name=name, namespace=NAMESPACE, **self.options).remote(*self.init_args)
            w = Worker(name, actor)
            ref = w.actor.facts.remote()
            self.starting[ref] = (w, deadline)
            refs.append(ref)
        return refs

    def join(self, ref: Any) -> Worker | None:
        """A started actor (its ``facts`` are back) joins the run: its clock offset is measured and a
        ``WorkerJoined`` event logged. None when its constructor failed (the first such error is kept)."""
        from .events import WorkerJoined

        w, _deadline = self.starting.pop(ref)
        try:
            w.facts = self.ray.get(ref)
            w.offset, w.rtt = measure_clock(self.ray, w.actor)
        except Exception as exc:  # noqa: BLE001 - the actor's constructor failed (bad model, import error)
            self.first_error = self.first_error or _cause(exc)
            self.ray.kill(w.actor)
            return None
        self.run.emit(
            WorkerJoined(
                worker=w.name,
                role=self.role,
                node_id=str(w.facts.get("node_id", "")),
                host=str(w.facts.get("host", "")),
                pid=w.facts.get("pid"),
                nice=w.facts.get("nice"),
                options={k: v for k, v in self.options.items() if k != "scheduling_strategy"},
                clock_offset=w.offset,
                clock_rtt=w.rtt,
            )
        )
        self.workers.append(w)
        return w

    def expire(self) -> int:
        """Give up on the actors not placed by their deadline; how many there were."""
        now = time.monotonic()
        late = [ref for ref, (_w, deadline) in self.starting.items() if deadline <= now]
        for ref in late:
            w, _deadline = self.starting.pop(ref)
            try:
                self.ray.kill(w.actor)
            except Exception:  # noqa: BLE001 - already gone
                pass
        return len(late)

    def not_started(self, n: int, joined: int) -> AssayError:
        """The error of a run whose actors did not start (a failing constructor, else a starved cluster)."""
        if self.first_error is not None and not joined:
            return AssayError(f"the Ray workers failed to start: {type(self.first_error).__name__}: {self.first_error}")
        return AssayError(
            f"the Ray cluster did not start {n} {self.role} worker(s) needing {self._needs()} each within "
            f"{self.start_timeout:g} s (started {joined}; available now: {_available(self.ray)}): "
            "the cluster is full or lacks those resources; lower --executor-args num_cpus / num_gpus / "
            "workers, free the cluster, or raise start_timeout"
        )

    def start(self, n: int, *, required: int = 1) -> list[Worker]:
        """Start ``n`` actors and wait for them (at most ``start_timeout`` s): all of them, or at least
        ``required`` (then a warning names the ones missing), else an error."""
        ray = self.ray
        refs = self.spawn(n)
        ready, not_ready = ray.wait(refs, num_returns=len(refs), timeout=self.start_timeout)
        for ref in not_ready:
            w, _deadline = self.starting.pop(ref)
            ray.kill(w.actor)
        joined = [w for w in (self.join(ref) for ref in ready) if w is not None]
        if (self.first_error is not None and not joined) or len(joined) < required:
            raise self.not_started(n, len(joined))
        if not_ready:
            self.run.warn(
                "executor ray",
                f"{len(not_ready)} of {n} {self.role} worker(s) needing {self._needs()} could not be placed "
                f"within {self.start_timeout:g} s; going on with {len(joined)}",
            )
        return joined

    @property
    def alive(self) -> list[Worker]:
        return [w for w in self.workers if not w.dead]

    def lost(self, w: Worker) -> None:
        if not w.dead:
            w.dead = True
            try:
                self.ray.kill(w.actor)
            except Exception:  # noqa: BLE001 - already gone
                pass

    def shutdown(self) -> None:
        for w, _deadline in self.starting.values():
            try:
                self.ray.kill(w.actor)
            except Exception:  # noqa: BLE001
                pass
        self.starting.clear()
        for w in self.workers:
            if not w.dead:
                try:
                    self.ray.kill(w.actor)
                except Exception:  # noqa: BLE001
                    pass


def _available(ray: Any) -> str:
    try:
        avail = ray.available_resources()
    except Exception:  # noqa: BLE001
        return "unknown"
    keep = {k: v for k, v in avail.items() if not k.startswith("node:") and "memory" not in k}
    return ", ".join(f"{k}={v:g}" for k, v in sorted(keep.items())) or "nothing"


def _cause(exc: BaseException) -> BaseException:
    """The exception raised inside a Ray task or actor constructor, when there is one."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


def _shards(samples: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for s in samples:
        batch.append(s)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class RayExecutor:
    """Registered as ``ray`` through ``assay_executors``."""

    def __init__(self, cfg: Any, plugins: Any) -> None:
        self.cfg = cfg
        self.plugins = plugins
        self.args = executor_options(getattr(cfg, "executor_args", {}) or {})

    # -- eval ---------------------------------------------------------------------

    def _actor_options(self, ray: Any, served: bool) -> tuple[dict[str, Any], int]:
        a = self.args
        total = ray.cluster_resources()
        if served:
            opts: dict[str, Any] = {"num_cpus": a.get("num_cpus", 0)}
            if a.get("num_gpus"):
                opts["num_gpus"] = a["num_gpus"]
            nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
            workers = a.get("workers") or max(1, nodes)
        else:  # one model replica per actor
            gpus = a.get("num_gpus", 1 if total.get("GPU", 0) >= 1 else 0)
            cpus = a.get("num_cpus", 1)
            opts = {"num_cpus": cpus, "num_gpus": gpus}
            if gpus:
                default = math.floor(total.get("GPU", 0) / gpus)
            elif cpus:
                default = math.floor(total.get("CPU", 0) / cpus)
            else:
                default = 1
            workers = a.get("workers") or max(1, default)
        if a.get("resources"):
            opts["resources"] = dict(a["resources"])
        opts["scheduling_strategy"] = "SPREAD"
        return opts, workers

    async def generate(self, pending: Iterable[Any], run: Any, scoring: Any) -> None:
        import anyio
        from assay.display import open_display
        from assay.loading import select_model
        from assay.events import SampleFailed
        from assay.redact import inert_markup

        cfg = self.cfg
        ray = connect(self.args.get("address"))
        backend = select_model(cfg, self.plugins)[0]
        served = backend == "openai_api" or bool(cfg.api_url)
        options, n = self._actor_options(ray, served)
        concurrency = max(1, math.ceil(cfg.eval_batch_size / n))
        shard_size = self.args.get("shard_size") or concurrency
        max_attempts = self.args.get("max_shard_attempts", 3)
        pool = Pool(
            ray,
            run,
            EvalWorker,
            "eval",
            (cfg.to_dict(redact=False), run.run_id, concurrency, niceness()),
            options,
            float(self.args.get("start_timeout", 60.0)),
        )
        total = len(pending) if isinstance(pending, list) else None
        progress = open_display(total, cfg.progress, inert_markup(cfg.model_name, multiline=False))
        source = _shards(pending, shard_size)
        queue: deque[tuple[list[Any], int]] = deque()  # shards handed back by lost workers, with their attempts
        inflight: dict[Any, tuple[Worker, list[Any], int]] = {}
        depth = 2  # shards in hand per worker: one running, one queued behind it
        sent = 0
        try:
            pool.spawn(n)  # actors join as each is ready: the first starts work without waiting for the others
            exhausted = False
            while True:
                for w in pool.alive:
                    while w.inflight < depth:
                        if queue:
                            shard, attempts = queue.popleft()
                        elif not exhausted:
                            got = next(source, None)
                            if got is None:
                                exhausted = True
                                break
                            shard, attempts = got, 0
                            sent += len(shard)
                        else:
                            break
                        inflight[w.actor.run_shard.remote(shard)] = (w, shard, attempts)
                        w.inflight += 1
                if exhausted and not queue and not inflight:
                    break  # all done: actors still starting are not waited for
                if not inflight and not pool.starting:
                    if not pool.workers:  # none ever joined: a failing constructor or a starved cluster
                        raise pool.not_started(n, 0)
                    # work left, no worker: replacements could not be started either
                    left = sum(len(s) for s, _ in queue) + (0 if exhausted else sum(len(s) for s in source))
                    if left:
                        raise AssayError(
                            f"no Ray worker left and none could be started: {left} sample(s) not generated; "
                            "`assay resume` finishes the run (with or without Ray)"
                        )
                    break
                ready, _ = await anyio.to_thread.run_sync(
                    functools.partial(ray.wait, [*inflight, *pool.starting], num_returns=1, timeout=1.0)
                )
                for ref in ready:
                    if ref in pool.starting:
                        pool.join(ref)
                        run.flush()
                        continue
                    w, shard, attempts = inflight.pop(ref)
                    w.inflight -= 1
                    try:
                        groups = ray.get(ref)
                    except ray.exceptions.RayActorError as exc:
                        self._lost(pool, run, w, shard, attempts + 1, max_attempts, exc, queue, SampleFailed)
                        continue
                    except ray.exceptions.RayTaskError as exc:
                        cause = _cause(exc)
                        if isinstance(cause, AssayError):
                            raise cause from None
                        raise AssayError(f"Ray worker {w.name} failed: {type(cause).__name__}: {cause}") from None
                    for group in groups:
                        run.emit_many(group)
                    run.flush()
                    for _ in shard:
                        progress.advance()
                expired = pool.expire()
                if expired and pool.workers:
                    run.warn(
                        "executor ray",
                        f"{expired} eval worker(s) needing {pool._needs()} could not be placed within "
                        f"{pool.start_timeout:g} s; going on with {len(pool.alive)}",
                    )
            if total is None:
                progress.set_total(sent)
        finally:
            progress.close()
            pool.shutdown()

    def _lost(
        self,
        pool: Pool,
        run: Any,
        w: Worker,
        shard: list[Any],
        attempts: int,
        max_attempts: int,
        exc: BaseException,
        queue: deque[tuple[list[Any], int]],
        failed_cls: type,
    ) -> None:
        from .events import WorkerLost

        first = not w.dead
        pool.lost(w)
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]
        if attempts < max_attempts:
            queue.append((shard, attempts))
            run.emit(WorkerLost(worker=w.name, error=error, requeued=len(shard), attempt=attempts))
        else:
            run.emit(WorkerLost(worker=w.name, error=error, requeued=0, attempt=attempts))
            run.emit_many(
                failed_cls(
                    sample_id=s.sample_id,
                    stage="generate",
                    error_type="WorkerLost",
                    message=f"the Ray workers running this sample died {attempts} times (last: {error})",
                    attempt=attempts,
                    benchmark=s.benchmark,
                    subset=s.subset,
                )
                for s in shard
            )
        print(
            f"warning [executor ray]: worker {w.name} lost ({error.split(':')[0]}); "
            f"{len(shard) if attempts < max_attempts else 0} sample(s) handed out again",
            file=sys.stderr,
        )
        if first:
            try:
                pool.start(1, required=0)  # a replacement, when the cluster can place one
            except AssayError as err:
                run.warn("executor ray", f"no replacement for {w.name}: {err}")

    # -- perf ---------------------------------------------------------------------

    def perf(self, opts: Any, load: Any, points: list[Any], run: Any) -> None:
        from .perf import run_perf_on_ray

        run_perf_on_ray(self, opts, load, points, run)
