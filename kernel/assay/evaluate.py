"""``eval``, ``resume`` and ``rescore``: load samples, generate, score; all through the log.

Each sample's ``Generated`` event and its ``Scored`` events are appended as one
group (one write), so after a ``kill -9`` a sample is either done or not started;
``resume`` replays the log and does only what is missing.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from pathlib import Path
from typing import Any

import anyio
import attrs
import msgspec

from . import filters
from .api import (
    AssayError,
    BenchmarkArgs,
    check_extra_args,
    check_honoured,
    GenerateRequest,
    GenerateResult,
    Model,
    ModelConfig,
    ModelError,
    TransientError,
)
from .config import TaskConfig, redact_secrets
from .config import load as load_config
from .events import (
    Body,
    Generated,
    Judged,
    RunResumed,
    RunStarted,
    SampleFailed,
    SampleLoaded,
    Scored,
    Usage,
)
from .failures import FailureWatch, RunFailed, error_kind
from .judge import Judge, JudgeFailed, judge_specs, reuse_key
from .lifecycle import RunLifecycle
from .log import iter_events, log_path
from .plugins import PluginHost, host
from .redact import inert_markup, strip_redacted, visible
from .run import Run, host_facts

_BENCH_ARG_FIELDS = {f.name for f in attrs.fields(BenchmarkArgs)} - {"name", "extra"}


# ---- choosing things ---------------------------------------------------------


def select_model(cfg: TaskConfig, plugins: PluginHost) -> tuple[str, Any]:
    """Pick the model backend the way EvalScope infers its eval type."""
    models = plugins.models()
    mcfg = model_config(cfg)
    if cfg.eval_type:
        for name, entry in models.items():
            if cfg.eval_type == name or cfg.eval_type in entry.options.get("eval_types", ()):
                return name, entry.obj
        raise AssayError(
            f"no installed model backend answers --eval-type {cfg.eval_type!r}; "
            f"installed: {', '.join(sorted(models)) or 'none'}"
        )
    if cfg.api_url:
        return "openai_api", plugins.get("models", "openai_api").obj
    if cfg.model in models and models[cfg.model].options.get("by_name"):
        return cfg.model, models[cfg.model].obj
    for name, entry in models.items():
        claims = entry.options.get("claims")
        if claims is not None and claims(mcfg):
            return name, entry.obj
    raise AssayError(
        f"cannot tell which backend serves --model {cfg.model!r}: give --api-url for an "
        "OpenAI-compatible server, a local checkpoint directory (needs assay-transformers), "
        "or --eval-type"
    )


def model_config(cfg: TaskConfig) -> ModelConfig:
    return ModelConfig(
        model=cfg.model,
        eval_type=cfg.eval_type,
        api_url=cfg.api_url,
        api_key=cfg.api_key,
        model_args=dict(cfg.model_args),
        generation_config=dict(cfg.generation_config),
        chat_template=cfg.chat_template,
        timeout=cfg.timeout,
        stream=cfg.stream,
        batch_size=cfg.eval_batch_size,
    )


def benchmark_args(cfg: TaskConfig, name: str) -> BenchmarkArgs:
    given = dict(cfg.dataset_args.get(name, {}))
    known = {k: given.pop(k) for k in list(given) if k in _BENCH_ARG_FIELDS}
    known.setdefault("limit", cfg.limit)
    known.setdefault("seed", cfg.seed)
    known.setdefault("dataset_dir", cfg.dataset_dir)
    known.setdefault("dataset_hub", cfg.dataset_hub)
    known.setdefault("repeats", cfg.repeats)
    try:
        args = BenchmarkArgs(name=name, extra=given, **known)
    except TypeError as exc:
        raise AssayError(f"dataset_args.{name}: {exc}") from None
    check_kernel_args(args)
    return args


AGGREGATIONS = ("mean", "mean_and_pass_at_k")


def check_kernel_args(args: BenchmarkArgs) -> None:
    """The dataset_args keys the kernel applies to every benchmark: checked before the run exists."""
    where = f"dataset_args.{args.name}"
    for key in ("shuffle", "few_shot_random"):
        if not isinstance(getattr(args, key), bool):
            raise AssayError(f"{where}.{key} = {getattr(args, key)!r}: expected true or false")
    if args.shuffle_choices is not None and not isinstance(args.shuffle_choices, bool):
        raise AssayError(f"{where}.shuffle_choices = {args.shuffle_choices!r}: expected true or false")
    if not isinstance(args.repeats, int) or isinstance(args.repeats, bool) or args.repeats < 1:
        raise AssayError(f"{where}.repeats = {args.repeats!r}: expected a whole number >= 1")
    if args.limit is not None and (
        isinstance(args.limit, bool) or not isinstance(args.limit, (int, float)) or args.limit <= 0
    ):
        raise AssayError(f"{where}.limit = {args.limit!r}: expected a count (int) or a fraction (0 < float < 1)")
    if args.aggregation is not None and args.aggregation not in AGGREGATIONS:
        close = difflib.get_close_matches(str(args.aggregation), AGGREGATIONS, n=1)
        raise AssayError(
            f"{where}.aggregation = {args.aggregation!r}: expected one of {', '.join(AGGREGATIONS)}"
            + (f" (did you mean {close[0]!r}?)" if close else "")
        )
    if args.system_prompt is not None and not isinstance(args.system_prompt, str):
        raise AssayError(f"{where}.system_prompt: expected text")
    filters.build(args.filters, f"{where}.filters")


# ---- loading -----------------------------------------------------------------


def limited(
    samples: Iterable[Any], limit: float | None, subset: Callable[[Any], str] = attrgetter("subset")
) -> Iterator[Any]:
    """Apply ``--limit`` per subset, as EvalScope does (a float is a fraction)."""
    if limit is None:
        yield from samples
        return
    if isinstance(limit, float) and limit < 1:
        items = list(samples)
        totals: dict[str, int] = {}
        for s in items:
            totals[subset(s)] = totals.get(subset(s), 0) + 1
        caps = {k: max(1, math.floor(v * limit)) for k, v in totals.items()}
    else:
        items = samples  # type: ignore[assignment]
        caps = None
    counts: dict[str, int] = {}
    for s in items:
        n = counts.get(subset(s), 0)
        cap = caps[subset(s)] if caps else int(limit)
        if n < cap:
            counts[subset(s)] = n + 1
            yield s


def open_benchmarks(cfg: TaskConfig, plugins: PluginHost) -> list[tuple[str, BenchmarkArgs, Any]]:
    for name in cfg.dataset_args:
        if name not in cfg.datasets:
            close = difflib.get_close_matches(name, cfg.datasets, n=1)
            raise AssayError(
                f"dataset_args.{name}: {name!r} is not in --datasets ({', '.join(cfg.datasets)})"
                + (f" (did you mean {close[0]!r}?)" if close else "")
                + f"; add {name} to --datasets or drop its dataset_args"
            )
    out = []
    for name in cfg.datasets:
        entry = plugins.get("benchmarks", name)
        args = benchmark_args(cfg, name)
        check_extra_args(args, getattr(entry.obj, "extra_args", ()))
        check_honoured(args, cfg.dataset_args.get(name, {}), getattr(entry.obj, "honours", None))
        bench = entry.obj(args)
        check_scorers(name, args, bench, plugins)
        out.append((name, args, bench))
    return out


def check_scorers(name: str, args: BenchmarkArgs, bench: Any, plugins: PluginHost) -> None:
    """Every scorer a benchmark will use is installed: a typo fails before the run exists."""
    if is_self_driven(bench):  # its metric_list names its own corpus-level metrics
        return
    given = args.metric_list is not None
    for scorer in args.metric_list if given else getattr(bench, "default_scorers", []):
        try:
            plugins.get("scorers", scorer)
        except AssayError as exc:
            where = f"dataset_args.{name}.metric_list" if given else f"{name}'s default scorers"
            raise AssayError(f"{where}: {exc}") from None


def is_judged_scorer(scorer: Any) -> bool:
    return inspect.iscoroutinefunction(getattr(scorer, "score", None))


def check_judge(cfg: TaskConfig, plugins: PluginHost, benches: list[tuple[str, BenchmarkArgs, Any]]) -> None:
    """A benchmark scored by a judge, with no judge configured (or ``judge_strategy: rule``), fails
    before the run exists."""
    if cfg.judge_strategy in ("llm", "llm_recall") and not judge_specs(cfg):
        raise AssayError(
            f"judge_strategy {cfg.judge_strategy!r} asks a judge: pass --judge-model-args "
            '\'{"model_id": "NAME", "api_url": "http://HOST/v1", "api_key": "..."}\''
        )
    if judge_specs(cfg) and cfg.judge_strategy != "rule":
        return
    for name, args, bench in benches:
        if is_self_driven(bench):
            continue
        for scorer in args.metric_list or getattr(bench, "default_scorers", []):
            scorer_obj = plugins.get("scorers", scorer).obj
            if is_judged_scorer(scorer_obj) and cfg.judge_strategy == "rule" and not getattr(scorer_obj, "rule", False):
                raise AssayError(
                    f"{name} is scored by a judge (scorer {scorer}) and has no rule-based scoring: "
                    "judge_strategy 'rule' cannot score it (use auto or llm)"
                )
            if is_judged_scorer(scorer_obj) and not judge_specs(cfg):
                raise AssayError(
                    f"{name} is scored by a judge (scorer {scorer}): pass --judge-model-args "
                    '\'{"model_id": "NAME", "api_url": "http://HOST/v1", "api_key": "..."}\' '
                    "(any model backend can judge)"
                )


def is_self_driven(bench: Any) -> bool:
    return callable(getattr(bench, "run", None)) and not callable(getattr(bench, "load", None))


def load_samples(
    cfg: TaskConfig, plugins: PluginHost, benches: list[tuple[str, BenchmarkArgs, Any]] | None = None
) -> Iterator[SampleLoaded]:
    for name, args, bench in benches if benches is not None else open_benchmarks(cfg, plugins):
        if is_self_driven(bench):
            continue
        defaults = list(args.metric_list or getattr(bench, "default_scorers", []))
        seen: set[str] = set()
        source: Iterable[Any] = bench.load(args)
        if args.shuffle:  # EvalScope's order: shuffle, then limit (the whole set is read to shuffle it)
            source = list(source)
            random.Random(args.seed).shuffle(source)
        for s in limited(source, args.limit):
            base = f"{name}/{s.subset}/{s.id}"
            if base in seen:
                raise AssayError(f"{name}: duplicate sample id {s.id!r} in subset {s.subset!r}")
            seen.add(base)
            if args.system_prompt:
                _with_system_prompt(s, args.system_prompt)
            for r in range(args.repeats):
                yield SampleLoaded(
                    sample_id=base if args.repeats == 1 else f"{base}#{r}",
                    benchmark=name,
                    subset=s.subset,
                    category=s.category,
                    categories=list(s.categories),
                    local_id=str(s.id),
                    repeat=r,
                    prompt=s.prompt,
                    messages=s.messages,
                    choices=s.choices,
                    target=s.target,
                    metadata=s.metadata,
                    scorers=list(s.scorers or defaults),
                    mode=s.mode,
                    follow_ups=list(s.follow_ups),
                    filters={**s.filters, **(args.filters or {})},
                )


def _with_system_prompt(s: Any, system: str) -> None:
    """``system_prompt`` for a benchmark that did not place it: first in the messages (or before the prompt)."""
    if s.messages is not None:
        if not (s.messages and s.messages[0].get("role") == "system"):  # a system message there already wins
            s.messages = [{"role": "system", "content": system}, *s.messages]
    elif s.prompt is not None and not s.prompt.startswith(system):
        s.prompt = f"{system}\n\n{s.prompt}"


# ---- generation and scoring ----------------------------------------------------


class Scoring:
    def __init__(self, plugins: PluginHost, override: list[str] | None = None, judge: Judge | None = None) -> None:
        self.plugins = plugins
        self.override = override
        self.judge = judge  # for scorers with ``async def score(sample, generated, judge)``
        self._filters: dict[str, list[Any]] = {}

    def judged(self, sample: SampleLoaded) -> bool:
        """Whether a scorer of this sample is async (it asks a judge), or the judge strategy asks one."""
        registry = self.plugins.scorers()
        names = self.override or sample.scorers
        return self._strategy(names) is not None or any(
            n in registry and is_judged_scorer(registry[n].obj) for n in names
        )

    def _strategy(self, names: list[str]) -> str | None:
        """``llm`` / ``llm_recall`` when a judge is configured and the sample is scored by rules only
        (EvalScope's judge strategies: llm replaces the rules by the judge, llm_recall asks the judge only
        about what the rules scored 0)."""
        judge = self.judge
        if judge is None or not judge.configured or judge.strategy not in ("llm", "llm_recall"):
            return None
        registry = self.plugins.scorers()
        if any(n in registry and is_judged_scorer(registry[n].obj) for n in names):
            return None
        return judge.strategy

    async def ascore(self, sample: SampleLoaded, gen: Generated) -> tuple[list[Scored], list[SampleFailed]]:
        """Score with every scorer, awaiting the judged ones; a :class:`JudgeFailed` is a judge failure."""
        gen = self._filtered(sample, gen)
        scored: list[Scored] = []
        failed: list[SampleFailed] = []
        names = self.override or sample.scorers
        strategy = self._strategy(names)
        if strategy == "llm":
            names = ["llm_judge"]
        for name in names:
            scorer = self.plugins.get("scorers", name).obj
            if not is_judged_scorer(scorer):
                s, f = self._score_with(name, scorer, sample, gen)
                scored += s
                failed += f
                continue
            try:
                assert self.judge is not None, "no judge for a judged scorer"
                items = await scorer.score(sample, gen, self.judge.view(name))
            except JudgeFailed as exc:
                failed.append(
                    SampleFailed(
                        sample_id=sample.sample_id,
                        stage="judge",
                        error_type="JudgeFailed",
                        error_kind=exc.kind,
                        message=f"scorer {name}: {exc}",
                        benchmark=sample.benchmark,
                        subset=sample.subset,
                    )
                )
                continue
            except RunFailed:
                raise
            except Exception as exc:  # noqa: BLE001 - as in score()
                failed.append(self._failure(name, sample, exc))
                continue
            s, f = self._collect(name, sample, items)
            scored += s
            failed += f
        if strategy == "llm_recall" and scored and not failed and scored[0].value == 0:
            scored, failed = await self._recall(sample, gen, scored)
        return scored, failed

    async def _recall(
        self, sample: SampleLoaded, gen: Generated, scored: list[Scored]
    ) -> tuple[list[Scored], list[SampleFailed]]:
        """``llm_recall``: the rules gave the main metric 0; the judge's verdict replaces it."""
        main = scored[0].metric
        judge_scorer = self.plugins.get("scorers", "llm_judge").obj
        assert self.judge is not None
        try:
            items = await judge_scorer.score(sample, gen, self.judge.view("llm_judge"), metric=main)
        except JudgeFailed as exc:
            return [], [
                SampleFailed(
                    sample_id=sample.sample_id,
                    stage="judge",
                    error_type="JudgeFailed",
                    message=f"llm_recall ({main} was 0 by the rules): {exc}",
                    benchmark=sample.benchmark,
                    subset=sample.subset,
                )
            ]
        judged, failed = self._collect("llm_judge", sample, items)
        return [sc for sc in scored if sc.metric != main] + judged, failed

    def _failure(self, name: str, sample: SampleLoaded, exc: Exception) -> SampleFailed:
        return SampleFailed(
            sample_id=sample.sample_id,
            stage="score",
            error_type=type(exc).__name__,
            message=f"scorer {name}: {exc}",
            benchmark=sample.benchmark,
            subset=sample.subset,
        )

    def _collect(
        self, name: str, sample: SampleLoaded, items: Iterable[Any]
    ) -> tuple[list[Scored], list[SampleFailed]]:
        scored: list[Scored] = []
        failed: list[SampleFailed] = []
        for sc in items:
            if isinstance(sc, Body):
                (failed if isinstance(sc, SampleFailed) else scored).append(sc)  # type: ignore[arg-type]
                continue
            scored.append(
                Scored(
                    sample_id=sample.sample_id,
                    scorer=name,
                    metric=sc.metric,
                    value=float(sc.value),
                    extracted=sc.extracted,
                    target=sample.target,
                    explanation=sc.explanation,
                    benchmark=sample.benchmark,
                    subset=sample.subset,
                )
            )
        return scored, failed

    def _score_with(
        self, name: str, scorer: Any, sample: SampleLoaded, gen: Generated
    ) -> tuple[list[Scored], list[SampleFailed]]:
        try:
            return self._collect(name, sample, scorer.score(sample, gen))
        except Exception as exc:  # noqa: BLE001 - a scorer bug fails the sample, not the run
            return [], [self._failure(name, sample, exc)]

    def blocking(self, sample: SampleLoaded) -> bool:
        """Whether a scorer of this sample blocks for long (runs code): it then runs in a worker thread."""
        registry = self.plugins.scorers()
        return any(
            n in registry and getattr(registry[n].obj, "blocking", False) for n in self.override or sample.scorers
        )

    def score(self, sample: SampleLoaded, gen: Generated) -> tuple[list[Scored], list[SampleFailed]]:
        gen = self._filtered(sample, gen)
        scored: list[Scored] = []
        failed: list[SampleFailed] = []
        for name in self.override or sample.scorers:
            s, f = self._score_with(name, self.plugins.get("scorers", name).obj, sample, gen)
            scored += s
            failed += f
        return scored, failed

    def _filtered(self, sample: SampleLoaded, gen: Generated) -> Generated:
        """``dataset_args`` filters: the raw output stays in the log; scorers read the filtered one."""
        if not sample.filters:
            return gen
        key = json.dumps(sample.filters, sort_keys=False)
        chain = self._filters.get(key)
        if chain is None:
            chain = self._filters[key] = filters.build(sample.filters, f"{sample.benchmark} filters")
        return msgspec.structs.replace(gen, output=filters.apply(chain, gen.output))


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


def _honour_retry_after(backoff: Any) -> Any:
    """Wait what the server asked for (Retry-After) when it asked, else back off exponentially."""

    def wait(state: Any) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        asked = getattr(exc, "retry_after", None)
        return min(60.0, asked) if asked else backoff(state)

    return wait


async def _generate_one(
    sample: SampleLoaded,
    model: Model,
    cfg: TaskConfig,
    run: Run,
    scoring: Scoring,
    model_name: str,
    watch: FailureWatch | None = None,
) -> bool:
    """Generate and score one sample; append its events as one group."""
    from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

    attempt = 0
    started = time.perf_counter()

    async def call(req: GenerateRequest) -> GenerateResult:
        nonlocal attempt, started
        attempt = 0
        async for try_ in AsyncRetrying(
            stop=stop_after_attempt(cfg.retries + 1),
            wait=_honour_retry_after(wait_random_exponential(multiplier=0.2, max=10)),
            retry=retry_if_exception_type((TransientError, TimeoutError)),
            reraise=True,
        ):
            with try_:
                attempt += 1
                req.attempt = attempt
                if not turn_outputs:  # latency: from the successful first attempt to the last answer
                    started = time.perf_counter()
                if cfg.timeout:
                    with anyio.fail_after(cfg.timeout):
                        return await model.generate(req)
                return await model.generate(req)
        raise AssertionError("unreachable: tenacity reraises")

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


class Progress:
    """A progress line with rate and ETA on stderr (rich, only on a terminal)."""

    def __init__(self, total: int | None, enabled: bool, label: str) -> None:
        self.bar = None
        if enabled and total != 0 and sys.stderr.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("[progress.data.speed]{task.fields[rate]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=False,
            )
            self.task = self.bar.add_task(label, total=total, rate="")
            self.t0 = time.perf_counter()
            self.done = 0
            self.bar.start()

    def advance(self) -> None:
        if self.bar is not None:
            self.done += 1
            rate = self.done / max(1e-9, time.perf_counter() - self.t0)
            self.bar.update(self.task, advance=1, rate=f"{rate:.1f} samples/s")

    def set_total(self, total: int) -> None:
        """The number of samples, once loading has seen them all (samples are loaded as they are sent)."""
        if self.bar is not None:
            self.bar.update(self.task, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


async def _generate_all(
    pending: Iterable[SampleLoaded], model: Model, cfg: TaskConfig, run: Run, scoring: Scoring, model_name: str
) -> None:
    """Generate and score ``pending``: a list (resume) or a :class:`LoadedStream` (eval), read as it is sent."""
    total = len(pending) if isinstance(pending, list) else None
    progress = Progress(total, cfg.progress, inert_markup(model_name, multiline=False))  # a markup column
    watch = FailureWatch(total)
    send, receive = anyio.create_memory_object_stream[SampleLoaded](0)  # backpressure

    async def worker(inbox: Any) -> None:
        async with inbox:
            async for sample in inbox:
                await _generate_one(sample, model, cfg, run, scoring, model_name, watch)
                progress.advance()

    async def flusher() -> None:
        while True:
            await anyio.sleep(0.2)
            run.flush()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(flusher)
            async with anyio.create_task_group() as workers:
                for _ in range(min(cfg.eval_batch_size, max(1, total if total is not None else cfg.eval_batch_size))):
                    workers.start_soon(worker, receive.clone())
                receive.close()
                sent = 0
                async with send:
                    for s in pending:
                        try:
                            await send.send(s)
                        except anyio.BrokenResourceError:
                            break  # every worker has stopped (the run failed): their error is raised
                        sent += 1
                    else:
                        progress.set_total(sent)
            watch.finished(sent)  # fewer samples than the fail-fast streak, all failed alike: the run failed
            tg.cancel_scope.cancel()
    finally:
        progress.close()


# ---- the three entry points ----------------------------------------------------


def _open_model(cfg: TaskConfig, plugins: PluginHost, run: Run) -> tuple[str, Model]:
    backend, factory = select_model(cfg, plugins)
    return backend, factory(model_config(cfg), run)


async def _evaluate(
    cfg: TaskConfig,
    plugins: PluginHost,
    run: Run,
    pending: Iterable[SampleLoaded] | None,
    driven: list[tuple[str, BenchmarkArgs, Any]] | None = None,
    reuse: dict[Any, Judged] | None = None,
) -> None:
    try:
        for _name, args, bench in driven or []:
            await bench.run(run, args, cfg)
            run.flush()
        if pending:  # an empty list, None, or a LoadedStream whose benchmarks yielded nothing: no model opened
            judge = Judge(cfg, plugins, run, reuse=reuse)
            scoring = Scoring(plugins, judge=judge)
            _backend, model = _open_model(cfg, plugins, run)
            try:
                await _generate_all(pending, model, cfg, run, scoring, cfg.model_name)
            finally:
                await model.aclose()
                await judge.aclose()
    finally:
        await run.drain_observers()


def _unwrap(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups from task groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _run_async(*args: Any) -> None:
    try:
        anyio.run(*args)
    except BaseExceptionGroup as group:
        raise _unwrap(group) from None


def run_eval(config: TaskConfig | dict[str, Any] | str | Path, plugins: PluginHost | None = None) -> dict[str, Any]:
    """Evaluate; returns the report (also written as report.json in the run directory)."""
    cfg = load_config(config)
    if not cfg.datasets:
        raise AssayError("no datasets given: pass --datasets NAME [NAME ...]")
    plugins = plugins or host()
    random.seed(cfg.seed)
    benches = open_benchmarks(cfg, plugins)  # fail on a typo before creating anything
    check_judge(cfg, plugins, benches)
    driven = [b for b in benches if is_self_driven(b[2])]
    generative = [b for b in benches if not is_self_driven(b[2])]
    backend = select_model(cfg, plugins)[0] if generative else None
    if backend is not None:
        cfg = served_model(cfg, plugins, backend)
    resolved = cfg.to_dict()
    resolved["backend"] = backend
    with RunLifecycle(plugins, cfg, work_dir=cfg.work_dir, fsync_interval=cfg.fsync_interval, resumable=True) as life:
        run = life.run
        life.start(kind="eval", config=cfg.to_dict(), resolved=resolved, seed=cfg.seed)
        # samples stream from the benchmark's files through the log to the workers: memory does not grow
        # with their number (the first batch is read now, so a bad file fails before a model is opened)
        pending = LoadedStream(run, load_samples(cfg, plugins, generative)) if generative else None
        run.flush()
        _run_async(_evaluate, cfg, plugins, run, pending, driven)
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


def _load_into(
    run: Run, cfg: TaskConfig, plugins: PluginHost, known: set[str], benches: list[Any] | None = None
) -> list[SampleLoaded]:
    pending: list[SampleLoaded] = []
    batch: list[SampleLoaded] = []
    for s in load_samples(cfg, plugins, benches):
        pending.append(s)
        if s.sample_id not in known:
            batch.append(s)
            if len(batch) >= 512:
                run.emit_many(batch)
                batch = []
    if batch:
        run.emit_many(batch)
    return pending


@attrs.define
class LogState:
    """What a replay of an eval log tells: the config and each sample's progress."""

    started: RunStarted | None = None
    loaded: dict[str, SampleLoaded] = attrs.field(factory=dict)
    generated: dict[str, Generated] = attrs.field(factory=dict)
    scored: set[str] = attrs.field(factory=set)
    reported: set[str] = attrs.field(factory=set)  # benchmarks with a MetricReported
    metrics: list[Any] = attrs.field(factory=list)  # the MetricReported events themselves
    judged: dict[Any, Judged] = attrs.field(factory=dict)  # logged verdicts by assay.judge.reuse_key
    finished: bool = False


def replay(path: Path, plugins: PluginHost) -> LogState:
    state = LogState()
    for ev in iter_events(
        path,
        plugins.bodies(),
        types={
            "RunStarted",
            "SampleLoaded",
            "Generated",
            "Scored",
            "RunFinished",
            "SampleFailed",
            "MetricReported",
            "Judged",
        },
    ):
        b = ev.body
        if ev.type == "RunStarted" and state.started is None:
            state.started = b
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
            if b.status == "ok" or b.output or b.label is not None or b.value is not None:
                state.judged[reuse_key(b)] = b
        elif ev.type == "MetricReported":
            state.reported.add(b.benchmark)
            state.metrics.append(b)
        elif ev.type == "RunFinished":
            state.finished = True
    return state


def config_from_log(state: RunStarted, overrides: dict[str, Any]) -> TaskConfig:
    given = strip_redacted(state.config)  # a redacted secret is asked for again (--api-key), never sent as ***
    given.update({k: v for k, v in overrides.items() if v is not None})
    return load_config(given)


def run_resume(
    run_dir: str | Path, overrides: dict[str, Any] | None = None, plugins: PluginHost | None = None
) -> dict[str, Any]:
    """Finish an interrupted run in place: generate what has no Generated, score what has none."""
    plugins = plugins or host()
    path = log_path(run_dir)
    if not path.exists():
        raise AssayError(f"no event log at {path}")
    state = replay(path, plugins)
    if state.started is None:
        raise AssayError(f"{path}: the log has no RunStarted event; nothing to resume")
    if state.started.kind != "eval":
        hint = f"; finish it with `assay arena --resume {path.parent}`" if state.started.kind == "arena" else ""
        raise AssayError(f"{path}: resume handles eval runs, this is a {state.started.kind!r} run{hint}")
    cfg = config_from_log(state.started, overrides or {})
    run_dir = path.parent
    with RunLifecycle(
        plugins, cfg, run_dir=run_dir, run_id=_run_id_of(path), fsync_interval=cfg.fsync_interval, resumable=True
    ) as life:
        run = life.run
        benches = open_benchmarks(cfg, plugins)
        driven = [b for b in benches if is_self_driven(b[2]) and b[0] not in state.reported]
        loaded = _load_into(
            run, cfg, plugins, known=set(state.loaded), benches=[b for b in benches if not is_self_driven(b[2])]
        )
        for s in loaded:
            state.loaded.setdefault(s.sample_id, s)
        to_generate = [s for sid, s in state.loaded.items() if sid not in state.generated]
        to_score = [sid for sid in state.generated if sid not in state.scored]
        run.emit(RunResumed(host=host_facts(), pending_generate=len(to_generate), pending_score=len(to_score)))
        print(
            f"resuming {visible(run_dir)}: {len(to_generate)} to generate, {len(to_score)} to score",
            file=sys.stderr,
        )
        if to_score:  # verdicts already logged are reused, never asked again
            pairs = [(state.loaded[sid], state.generated[sid]) for sid in to_score]
            _run_async(_score_all, cfg, plugins, run, pairs, Judge(cfg, plugins, run, reuse=state.judged), None)
        if to_generate or driven:
            _run_async(_evaluate, cfg, plugins, run, to_generate, driven, state.judged)
    return life.report  # type: ignore[return-value]


async def _score_all(
    cfg: TaskConfig,
    plugins: PluginHost,
    run: Run,
    pairs: list[tuple[SampleLoaded, Generated]],
    judge: Judge,
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
        await judge.aclose()
        run.flush()


def _run_id_of(path: Path) -> str:
    for ev in iter_events(path, types={"RunStarted"}):
        return ev.run_id
    return path.parent.name


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
    path = log_path(source)
    if not path.exists():
        raise AssayError(f"no event log at {path}")
    state = replay(path, plugins)
    if state.started is None:
        raise AssayError(f"{path}: the log has no RunStarted event")
    cfg = config_from_log(state.started, {**({"work_dir": work_dir} if work_dir else {}), **(judge_overrides or {})})
    for name in scorers or sorted({n for s in state.loaded.values() for n in s.scorers}):
        try:
            plugins.get("scorers", name)
        except AssayError as exc:
            raise AssayError(f"{'--scorers' if scorers else 'a scorer the source run used'}: {exc}") from None
    if rejudge and not judge_specs(cfg):
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
            judge = Judge(
                cfg,
                plugins,
                run,
                reuse=None if rejudge else state.judged,
                reuse_from=str(path.parent),
                call=rejudge,
            )
            _run_async(_score_all, cfg, plugins, run, deferred, judge, scorers)
    return life.report  # type: ignore[return-value]
