"""``eval``: load samples, generate, score; all through the log (``resume``/``rescore``: :mod:`assay.resume`).

Each sample's ``Generated`` event and its ``Scored`` events are appended as one
group (one write), so after a ``kill -9`` a sample is either done or not started;
``resume`` replays the log and does only what is missing.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import anyio
import attrs

from .calls import call_model
from .api import (
    AssayError,
    BenchmarkArgs,
    GenerateRequest,
    GenerateResult,
    Model,
    ModelError,
)
from .config import TaskConfig
from .config import load as load_config
from .events import (
    Generated,
    Judged,
    SampleFailed,
    SampleLoaded,
    Usage,
)
from .failures import FailureWatch, RunFailed, error_kind
from .lifecycle import RunLifecycle, fold_while_idle
from .plugins import PluginHost, host
from .redact import inert_markup
from .run import Run
from .display import open_display
from .loading import check_judge, is_self_driven, load_samples, model_config, open_benchmarks, select_model
from .scoring import Scoring, open_judge


def _request(sample: SampleLoaded, model: Model, cfg: TaskConfig, attempt: int) -> GenerateRequest:
    gen_cfg = dict(cfg.generation_config)
    gen_cfg.update(sample.metadata.get("generation_config", {}))
    mode = sample.mode
    if mode == "loglikelihood" and not getattr(model, "supports_loglikelihood", False):
        mode = "generate"
    return GenerateRequest(
        sample_id=sample.sample_id,
        prompt=sample.prompt,
        messages=sample.messages,
        choices=sample.choices,
        mode=mode,
        generation_config=gen_cfg,
        attempt=attempt,
    )


def _sum_usage(usages: list[Usage | None]) -> Usage | None:
    """The token usage of a whole conversation: each field summed over the turns that report it."""
    known = [u for u in usages if u is not None]
    if not known:
        return None

    def total(field: str) -> int | None:
        values = [getattr(u, field) for u in known if getattr(u, field) is not None]
        return sum(values) if values else None

    return Usage(
        prompt_tokens=total("prompt_tokens"),
        completion_tokens=total("completion_tokens"),
        total_tokens=total("total_tokens"),
        reasoning_tokens=total("reasoning_tokens"),
    )


async def generate_one(
    sample: SampleLoaded,
    model: Model,
    cfg: TaskConfig,
    run: Run,
    scoring: Scoring,
    model_name: str,
    watch: FailureWatch | None = None,
) -> bool:
    """Generate and score one sample; append its events as one group."""
    attempt = 0
    started = time.perf_counter()

    def attempted(n: int) -> None:
        nonlocal attempt, started
        attempt = n
        if not turn_outputs:  # latency: from the successful first attempt to the last answer
            started = time.perf_counter()

    async def call(req: GenerateRequest) -> GenerateResult:
        return await call_model(model, req, retries=cfg.retries, timeout=cfg.timeout, on_attempt=attempted)

    turn_outputs: list[str] = []
    try:
        req = _request(sample, model, cfg, 1)
        result: GenerateResult = await call(req)
        if sample.follow_ups:  # multi-turn: each user turn after the model's own previous answer
            usage = [result.usage]
            ids = list(result.request_ids)
            messages = list(req.messages or [{"role": "user", "content": req.prompt or ""}])
            for turn in sample.follow_ups:
                turn_outputs.append(result.output)
                messages += [{"role": "assistant", "content": result.output}, {"role": "user", "content": turn}]
                req = attrs.evolve(req, prompt=None, messages=list(messages), attempt=1)
                result = await call(req)
                usage.append(result.usage)
                ids += result.request_ids
            turn_outputs.append(result.output)
            result = attrs.evolve(result, usage=_sum_usage(usage), request_ids=ids)
    except Exception as exc:  # noqa: BLE001 - recorded, counted, the run goes on
        message = str(exc)[:2000] or type(exc).__name__
        if isinstance(exc, TimeoutError) and cfg.timeout:
            message = f"no answer within --timeout {cfg.timeout:g} s"
        run.emit(
            SampleFailed(
                sample_id=sample.sample_id,
                stage="generate",
                error_type=type(exc).__name__,
                message=message,
                attempt=attempt,
                error_kind=error_kind(exc),
                benchmark=sample.benchmark,
                subset=sample.subset,
            )
        )
        if watch is not None:
            watch.failure(exc)  # raises RunFailed when the first samples all fail alike
        return False
    if watch is not None:
        watch.success()
    gen = Generated(
        sample_id=sample.sample_id,
        model=model_name,
        output=result.output,
        reasoning=result.reasoning,
        usage=result.usage,
        finish_reason=result.finish_reason,
        latency=time.perf_counter() - started,
        attempt=attempt,
        choice_logprobs=result.choice_logprobs,
        choice_greedy=result.choice_greedy,
        request_ids=result.request_ids,
        turn_outputs=turn_outputs,
        tool_calls=result.tool_calls,
    )
    if scoring.judged(sample):  # Generated first: a kill while judging keeps the generation and the verdicts
        run.emit(gen)
        scored, failed = await scoring.ascore(sample, gen)
        run.emit_many([*scored, *failed])
        return not any(f.stage != "judge" for f in failed)
    if scoring.blocking(sample):
        scored, failed = await anyio.to_thread.run_sync(scoring.score, sample, gen)
    else:
        scored, failed = scoring.score(sample, gen)
    run.emit_many([gen, *scored, *failed])
    return not failed


async def _generate_all(
    pending: Iterable[SampleLoaded], model: Model, cfg: TaskConfig, run: Run, scoring: Scoring, model_name: str
) -> None:
    """Generate and score ``pending``: a list (resume) or a :class:`LoadedStream` (eval), read as it is sent."""
    total = len(pending) if isinstance(pending, list) else None
    progress = open_display(total, cfg.progress, inert_markup(model_name, multiline=False))  # a markup column
    watch = FailureWatch(total)
    samples = iter(pending)  # one iterator that every free worker takes its next sample from (backpressure)
    sent = 0

    async def worker() -> None:
        nonlocal sent
        for sample in samples:  # no await inside next(): the workers never run it at the same time
            sent += 1
            await generate_one(sample, model, cfg, run, scoring, model_name, watch)
            progress.advance()
        progress.set_total(sent)  # every sample was handed out

    async def flusher() -> None:
        while True:
            await anyio.sleep(0.2)
            run.flush()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(flusher)
            tg.start_soon(fold_while_idle, run)
            async with anyio.create_task_group() as workers:
                for _ in range(min(cfg.eval_batch_size, max(1, total if total is not None else cfg.eval_batch_size))):
                    workers.start_soon(worker)
            watch.finished(sent)  # fewer samples than the fail-fast streak, all failed alike: the run failed
            tg.cancel_scope.cancel()
    finally:
        progress.close()


# ---- the entry point and the default executor -------------------------------------


def _open_model(cfg: TaskConfig, plugins: PluginHost, run: Run) -> tuple[str, Model]:
    backend, factory = select_model(cfg, plugins)
    return backend, factory(model_config(cfg), run)


async def _evaluate(
    cfg: TaskConfig,
    plugins: PluginHost,
    run: Run,
    pending: Iterable[SampleLoaded] | None,
    driven: list[tuple[str, BenchmarkArgs, Any]] | None = None,
    reuse: list[Judged] | None = None,
) -> None:
    try:
        for _name, args, bench in driven or []:
            await bench.run(run, args, cfg)
            run.flush()
        if pending:  # an empty list, None, or a LoadedStream whose benchmarks yielded nothing: no model opened
            # an eval that configures no judge has no judged scorer (check_judge): none is opened (nor imported)
            judge = open_judge(cfg, plugins, run, reuse=reuse) if reuse is not None or cfg.judge_model_args else None
            scoring = Scoring(plugins, judge=judge)
            try:
                executor = plugins.get("executors", cfg.executor).obj(cfg, plugins)  # --executor (default local)
                await executor.generate(pending, run, scoring)
            finally:
                if judge is not None:
                    await judge.aclose()
    finally:
        await run.drain_observers()


class LocalExecutor:
    """The default executor: the model is opened here and samples run as anyio tasks
    (``--eval-batch-size`` at a time). Registered by the kernel through ``assay_executors``."""

    def __init__(self, cfg: TaskConfig, plugins: PluginHost) -> None:
        if cfg.executor == "local" and cfg.executor_args:  # it has no options: given ones would be dropped silently
            others = sorted(set(plugins.executors()) - {"local"})
            raise AssayError(
                f"--executor-args {cfg.executor_args!r}: the local executor takes no options"
                + (f" (they are for --executor {' / '.join(others)})" if others else "")
            )
        self.cfg = cfg
        self.plugins = plugins

    async def generate(self, pending: Iterable[SampleLoaded], run: Run, scoring: Scoring) -> None:
        _backend, model = _open_model(self.cfg, self.plugins, run)
        try:
            await _generate_all(pending, model, self.cfg, run, scoring, self.cfg.model_name)
        finally:
            await model.aclose()


def _unwrap(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups from task groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def run_async(*args: Any) -> None:
    try:
        anyio.run(*args, backend_options={"loop_factory": _loop_factory()})
    except BaseExceptionGroup as group:
        raise _unwrap(group) from None


def _loop_factory() -> Any:
    """uvloop's event loop when installed (less CPU per network read: a streamed answer wakes the loop per chunk),
    else asyncio's (None); ``ASSAY_EVAL_LOOP=asyncio`` forces asyncio's."""
    if os.environ.get("ASSAY_EVAL_LOOP", "uvloop") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # not installed (Windows): asyncio's
        return None
    return uvloop.new_event_loop


@contextlib.contextmanager
def _generation_gc() -> Iterator[None]:
    """While a run generates and folds its report: what start-up made (modules, plugins, config) frozen out
    of the collector's passes, and a larger young generation, so that a pass does not walk the requests in
    flight again and again; as it was after (issue 18: the collector's passes were ~7% of an eval's CPU).
    Only performance changes: what is frozen is collectable again when the run ends."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(10_000, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def run_eval(config: TaskConfig | dict[str, Any] | str | Path, plugins: PluginHost | None = None) -> dict[str, Any]:
    """Evaluate; returns the report (also written as report.json in the run directory)."""
    cfg = load_config(config)
    if not cfg.datasets:
        raise AssayError("no datasets given: pass --datasets NAME [NAME ...]")
    plugins = plugins or host()
    random.seed(cfg.seed)
    benches = open_benchmarks(cfg, plugins)  # fail on a typo before creating anything
    plugins.get("executors", cfg.executor).obj(cfg, plugins)  # a typo or a bad option fails before the run exists
    check_judge(cfg, plugins, benches)
    driven = [b for b in benches if is_self_driven(b[2])]
    generative = [b for b in benches if not is_self_driven(b[2])]
    backend = select_model(cfg, plugins)[0] if generative else None
    if backend is not None:
        cfg = served_model(cfg, plugins, backend)
    resolved = cfg.to_dict()
    resolved["backend"] = backend
    with (
        _generation_gc(),
        RunLifecycle(plugins, cfg, work_dir=cfg.work_dir, fsync_interval=cfg.fsync_interval, resumable=True) as life,
    ):
        run = life.run
        life.start(kind="eval", config=cfg.to_dict(), resolved=resolved, seed=cfg.seed)
        # samples stream from the benchmark's files through the log to the workers: memory does not grow
        # with their number (the first batch is read now, so a bad file fails before a model is opened)
        pending = LoadedStream(run, load_samples(cfg, plugins, generative)) if generative else None
        run.flush()
        run_async(_evaluate, cfg, plugins, run, pending, driven)
    return life.report  # type: ignore[return-value]


def served_model(cfg: TaskConfig, plugins: PluginHost, backend: str) -> TaskConfig:
    """``--api-url`` without ``--model``: the model the server serves, when it serves exactly one."""
    if cfg.model != "mock" or not cfg.api_url:
        return cfg
    ask = plugins.get("models", backend).options.get("served_models")
    if ask is None:
        return cfg
    try:
        served = list(ask(cfg.api_url, cfg.api_key, cfg.timeout))
    except ModelError as exc:
        raise RunFailed(f"--model not given, and asking the server which model it serves failed: {exc}") from None
    if len(served) == 1:
        print(f"model: {served[0]} (the one model served at {cfg.api_url})", file=sys.stderr)
        return attrs.evolve(cfg, model=served[0])
    listing = ", ".join(map(repr, served[:20])) + (f" and {len(served) - 20} more" if len(served) > 20 else "")
    raise AssayError(
        f"--model not given and {cfg.api_url} serves {len(served)} models"
        + (f" ({listing})" if served else "")
        + ": pass --model NAME"
    )


class LoadedStream:
    """Samples appended to the log as ``SampleLoaded`` a batch at a time (one write each), then handed out.

    At most one batch is held in memory; the first is read when the stream is made. Each sample's
    ``SampleLoaded`` reaches the log before anything else about it, which is all that resume and the
    report folds need (samples not yet loaded when a run stops are loaded again by ``assay resume``).
    """

    BATCH = 512

    def __init__(self, run: Run, samples: Iterable[SampleLoaded]) -> None:
        self.run = run
        self._source = iter(samples)
        self._batch = self._next_batch()

    def _next_batch(self) -> list[SampleLoaded]:
        batch = list(itertools.islice(self._source, self.BATCH))
        if batch:
            self.run.emit_many(batch)
        return batch

    def __bool__(self) -> bool:
        return bool(self._batch)

    def __iter__(self) -> Iterator[SampleLoaded]:
        while self._batch:
            batch, self._batch = self._batch, []
            yield from batch
            self._batch = self._next_batch()
