"""Choosing the model backend and the benchmarks, checking their arguments, and loading samples.

Everything here runs before the run directory exists, so a typo fails before anything is written."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from typing import Any

import attrs

from . import filters
from .api import AssayError, BenchmarkArgs, ModelConfig, check_extra_args, check_honoured, did_you_mean
from .config import TaskConfig
from .events import SampleLoaded
from .plugins import PluginHost
from .scoring import is_judged_scorer


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
        raise AssayError(
            f"{where}.aggregation = {args.aggregation!r}: expected one of {', '.join(AGGREGATIONS)}"
            + did_you_mean(str(args.aggregation), AGGREGATIONS)
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
        caps = {k: max(1, math.floor(v * limit)) for k, v in Counter(map(subset, items)).items()}
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
            raise AssayError(
                f"dataset_args.{name}: {name!r} is not in --datasets ({', '.join(cfg.datasets)})"
                + did_you_mean(name, cfg.datasets)
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
    for scorer in scorer_names(args, bench):
        try:
            plugins.get("scorers", scorer)
        except AssayError as exc:
            where = f"dataset_args.{name}.metric_list" if args.metric_list else f"{name}'s default scorers"
            raise AssayError(f"{where}: {exc}") from None


_JUDGE_ARGS = '--judge-model-args \'{"model_id": "NAME", "api_url": "http://HOST/v1", "api_key": "..."}\''


def check_judge(cfg: TaskConfig, plugins: PluginHost, benches: list[tuple[str, BenchmarkArgs, Any]]) -> None:
    """A benchmark scored by a judge, with no judge configured (or ``judge_strategy: rule``), fails
    before the run exists."""
    configured = bool(cfg.judge_model_args)  # checked by the judge plugin (assay_judge) with the config
    if cfg.judge_strategy in ("llm", "llm_recall") and not configured:
        raise AssayError(f"judge_strategy {cfg.judge_strategy!r} asks a judge: pass {_JUDGE_ARGS}")
    if configured and cfg.judge_strategy != "rule":
        return
    for name, args, bench in benches:
        if is_self_driven(bench):
            continue
        for scorer in scorer_names(args, bench):
            scorer_obj = plugins.get("scorers", scorer).obj
            if not is_judged_scorer(scorer_obj):
                continue
            if cfg.judge_strategy == "rule" and not getattr(scorer_obj, "rule", False):
                raise AssayError(
                    f"{name} is scored by a judge (scorer {scorer}) and has no rule-based scoring: "
                    "judge_strategy 'rule' cannot score it (use auto or llm)"
                )
            if not configured:
                raise AssayError(
                    f"{name} is scored by a judge (scorer {scorer}): pass {_JUDGE_ARGS} (any model backend can judge)"
                )


def is_self_driven(bench: Any) -> bool:
    return callable(getattr(bench, "run", None)) and not callable(getattr(bench, "load", None))


def scorer_names(args: BenchmarkArgs, bench: Any) -> list[str]:
    """The scorers of a benchmark's samples: ``metric_list``, else the benchmark's defaults."""
    return list(args.metric_list or getattr(bench, "default_scorers", []))


def load_samples(
    cfg: TaskConfig, plugins: PluginHost, benches: list[tuple[str, BenchmarkArgs, Any]] | None = None
) -> Iterator[SampleLoaded]:
    for name, args, bench in benches if benches is not None else open_benchmarks(cfg, plugins):
        if is_self_driven(bench):
            continue
        defaults = scorer_names(args, bench)
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
