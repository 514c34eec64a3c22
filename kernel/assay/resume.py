"""``resume`` and ``rescore``: replay an eval log, then do only what is missing (or score it again).

Verdicts already logged are reused, never asked again; a generation is never made twice."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import attrs

from .api import AssayError
from .config import TaskConfig, redact_secrets
from .config import load as load_config
from .events import Generated, Judged, RunResumed, RunStarted, SampleFailed, SampleLoaded
from .lifecycle import RunLifecycle
from .log import existing_log, iter_events
from .plugins import PluginHost, host
from .redact import strip_redacted, visible
from .run import Run, host_facts
from .evaluate import _evaluate, run_async
from .loading import is_self_driven, load_samples, open_benchmarks
from .scoring import Scoring, open_judge


@attrs.define
class LogState:
    """What a replay of an eval log tells: the config and each sample's progress."""

    started: RunStarted | None = None
    run_id: str = ""  # the envelope's run_id of the first RunStarted
    loaded: dict[str, SampleLoaded] = attrs.field(factory=dict)
    generated: dict[str, Generated] = attrs.field(factory=dict)
    scored: set[str] = attrs.field(factory=set)
    reported: set[str] = attrs.field(factory=set)  # benchmarks with a MetricReported
    metrics: list[Any] = attrs.field(factory=list)  # the MetricReported events themselves
    judged: list[Judged] = attrs.field(factory=list)  # the logged verdicts, for the judge to reuse (assay_judge)
    finished: bool = False


_REPLAYED = frozenset("RunStarted SampleLoaded Generated Scored RunFinished SampleFailed MetricReported Judged".split())


def replay(path: Path, plugins: PluginHost) -> LogState:
    state = LogState()
    for ev in iter_events(path, plugins.bodies(), types=_REPLAYED):
        b = ev.body
        if ev.type == "RunStarted" and state.started is None:
            state.started, state.run_id = b, ev.run_id
        elif ev.type == "SampleLoaded":
            if not b.self_driven:  # a self-driven benchmark's items are not generated
                state.loaded[b.sample_id] = b
        elif ev.type == "Generated":
            state.generated[b.sample_id] = b
        elif ev.type == "Scored" or (ev.type == "SampleFailed" and b.stage == "score"):
            state.scored.add(b.sample_id)
        elif ev.type == "SampleFailed" and b.stage == "judge":
            # a judge call that failed is asked again by resume; a verdict given (even unparseable) never is
            if b.error_kind == "judge_call_failed":
                state.scored.discard(b.sample_id)
            else:
                state.scored.add(b.sample_id)
        elif ev.type == "Judged":
            state.judged.append(b)
        elif ev.type == "MetricReported":
            state.reported.add(b.benchmark)
            state.metrics.append(b)
        elif ev.type == "RunFinished":
            state.finished = True
    return state


def read_log(source: str | Path, plugins: PluginHost) -> tuple[Path, LogState]:
    """The log of a run directory (or the log file itself) and its replay; an AssayError when there is
    no log or the log holds no ``RunStarted``."""
    path = existing_log(source)
    state = replay(path, plugins)
    if state.started is None:
        raise AssayError(f"{path}: the log has no RunStarted event")
    return path, state


def config_from_log(state: RunStarted, overrides: dict[str, Any]) -> TaskConfig:
    given = strip_redacted(state.config)  # a redacted secret is asked for again (--api-key), never sent as ***
    given.update({k: v for k, v in overrides.items() if v is not None})
    if overrides.get("executor") not in (None, state.config.get("executor")) and not overrides.get("executor_args"):
        given["executor_args"] = {}  # the run's options were its own executor's
    return load_config(given)


def run_resume(
    run_dir: str | Path, overrides: dict[str, Any] | None = None, plugins: PluginHost | None = None
) -> dict[str, Any]:
    """Finish an interrupted run in place: generate what has no Generated, score what has none."""
    plugins = plugins or host()
    path, state = read_log(run_dir, plugins)
    if state.started.kind != "eval":
        hint = f"; finish it with `assay arena --resume {path.parent}`" if state.started.kind == "arena" else ""
        raise AssayError(f"{path}: resume handles eval runs, this is a {state.started.kind!r} run{hint}")
    overrides = dict(overrides or {})
    logged = state.started.config.get("executor") or "local"
    if logged not in plugins.executors() and not overrides.get("executor"):
        # a run made on an executor that is not installed here (assay-ray) finishes locally
        print(f"note: executor {logged!r} is not installed; resuming with the local executor", file=sys.stderr)
        overrides["executor"] = "local"  # as --executor local: without the run's executor options
    cfg = config_from_log(state.started, overrides)
    plugins.get("executors", cfg.executor).obj(cfg, plugins)  # a typo or a bad option fails before the log is touched
    run_dir = path.parent
    with RunLifecycle(
        plugins, cfg, run_dir=run_dir, run_id=state.run_id, fsync_interval=cfg.fsync_interval, resumable=True
    ) as life:
        run = life.run
        benches = open_benchmarks(cfg, plugins)
        driven = [b for b in benches if is_self_driven(b[2]) and b[0] not in state.reported]
        batch: list[SampleLoaded] = []  # the samples the log does not hold yet, appended 512 at a time
        for s in load_samples(cfg, plugins, [b for b in benches if not is_self_driven(b[2])]):
            if s.sample_id not in state.loaded:
                state.loaded[s.sample_id] = s
                batch.append(s)
                if len(batch) >= 512:
                    run.emit_many(batch)
                    batch = []
        if batch:
            run.emit_many(batch)
        to_generate = [s for sid, s in state.loaded.items() if sid not in state.generated]
        to_score = [sid for sid in state.generated if sid not in state.scored]
        run.emit(RunResumed(host=host_facts(), pending_generate=len(to_generate), pending_score=len(to_score)))
        print(
            f"resuming {visible(run_dir)}: {len(to_generate)} to generate, {len(to_score)} to score",
            file=sys.stderr,
        )
        if to_score:  # verdicts already logged are reused, never asked again
            pairs = [(state.loaded[sid], state.generated[sid]) for sid in to_score]
            run_async(_score_all, cfg, plugins, run, pairs, open_judge(cfg, plugins, run, reuse=state.judged), None)
        if to_generate or driven:
            run_async(_evaluate, cfg, plugins, run, to_generate, driven, state.judged)
    return life.report  # type: ignore[return-value]


async def _score_all(
    cfg: TaskConfig,
    plugins: PluginHost,
    run: Run,
    pairs: list[tuple[SampleLoaded, Generated]],
    judge: Any,
    override: list[str] | None,
) -> None:
    """Score stored generations; judged samples concurrently (``judge_worker_num`` bounds the judge calls)."""
    scoring = Scoring(plugins, override=override, judge=judge)
    try:
        judged = [p for p in pairs if scoring.judged(p[0])]
        for sample, gen in pairs:
            if not scoring.judged(sample):
                scored, failed = scoring.score(sample, gen)
                run.emit_many([*scored, *failed])
        if judged:
            send, receive = anyio.create_memory_object_stream[tuple[SampleLoaded, Generated]](0)

            async def worker(inbox: Any) -> None:
                async with inbox:
                    async for sample, gen in inbox:
                        scored, failed = await scoring.ascore(sample, gen)
                        run.emit_many([*scored, *failed])

            async with anyio.create_task_group() as tg:
                for _ in range(min(len(judged), max(cfg.judge_worker_num, cfg.eval_batch_size))):
                    tg.start_soon(worker, receive.clone())
                receive.close()
                async with send:
                    for pair in judged:
                        await send.send(pair)
    finally:
        if judge is not None:
            await judge.aclose()
        run.flush()


def run_rescore(
    source: str | Path,
    *,
    scorers: list[str] | None = None,
    work_dir: str | None = None,
    plugins: PluginHost | None = None,
    rejudge: bool = False,
    judge_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score stored generations again into a new run that links to its source; no model call.

    Judged scorers reuse the source's logged verdicts and call no judge, unless ``rejudge``: then every
    sample is judged again (``judge_overrides``: ``judge_model_args`` and the other judge settings)."""
    plugins = plugins or host()
    path, state = read_log(source, plugins)
    cfg = config_from_log(state.started, {**({"work_dir": work_dir} if work_dir else {}), **(judge_overrides or {})})
    for name in scorers or sorted({n for s in state.loaded.values() for n in s.scorers}):
        try:
            plugins.get("scorers", name)
        except AssayError as exc:
            raise AssayError(f"{'--scorers' if scorers else 'a scorer the source run used'}: {exc}") from None
    if rejudge and not cfg.judge_model_args:
        raise AssayError("--rejudge: no judge configured in the source run; pass --judge-model-args")
    with RunLifecycle(plugins, cfg, work_dir=cfg.work_dir, fsync_interval=cfg.fsync_interval) as life:
        run = life.run
        life.start(
            kind="eval",
            config=redact_secrets(state.started.config),
            resolved={
                **state.started.resolved,
                "rescored_with": scorers,
                "rejudged": rejudge,
                **({k: v for k, v in cfg.to_dict().items() if k.startswith("judge_")} if rejudge else {}),
            },
            seed=state.started.seed,
            source_run=str(path.parent),
        )
        scoring = Scoring(plugins, override=scorers)
        batch: list[Any] = []
        deferred: list[tuple[SampleLoaded, Generated]] = []  # judged: scored once the batch is written
        for sid, sample in state.loaded.items():
            batch.append(sample)
            gen = state.generated.get(sid)
            if gen is not None and scoring.judged(sample):
                batch.append(gen)
                deferred.append((sample, gen))
            elif gen is not None:
                scored, failed = scoring.score(sample, gen)
                batch.extend([gen, *scored, *failed])
            else:
                batch.append(
                    SampleFailed(
                        sample_id=sid,
                        stage="generate",
                        error_type="NotGenerated",
                        message="no generation in the source run",
                        benchmark=sample.benchmark,
                        subset=sample.subset,
                    )
                )
            if len(batch) >= 1024:
                run.emit_many(batch)
                batch = []
        # corpus-level figures (correlations, nDCG) are not per-sample scores: carried over as they are
        run.emit_many([*batch, *state.metrics])
        if deferred:
            judge = open_judge(
                cfg, plugins, run, reuse=None if rejudge else state.judged, reuse_from=str(path.parent), call=rejudge
            )
            run_async(_score_all, cfg, plugins, run, deferred, judge, scorers)
    return life.report  # type: ignore[return-value]
