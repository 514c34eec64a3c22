"""What plugins implement and what the kernel hands them.

Plugins see only these types, the event bodies in :mod:`assay.events` and the
:class:`RunContext` of the run they serve.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs

from .events import Body, Event, Generated, SampleLoaded, Usage

__all__ = [
    "Benchmark",
    "BenchmarkArgs",
    "FatalError",
    "GenerateRequest",
    "GenerateResult",
    "Model",
    "ModelConfig",
    "ModelError",
    "Reporter",
    "RunContext",
    "Sample",
    "Score",
    "Scorer",
    "TransientError",
    "Usage",
    "BENCHMARK_HONOURED",
    "check_extra_args",
    "check_honoured",
    "check_prompt_template",
    "did_you_mean",
    "select_split",
    "select_subsets",
    "zero_shot",
]


class ModelError(Exception):
    """A failed model request, classified: ``kind`` is one of the ``RequestTimed.error_kind`` names
    (connection, timeout, auth, not_found, http_4xx, http_429, http_5xx, malformed, stream_error),
    ``status`` the HTTP status if there was one, ``url`` where the request went."""

    def __init__(
        self, message: str, *, kind: str | None = None, status: int | None = None, url: str | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.url = url


class TransientError(ModelError):
    """Raised by a model when the same request may succeed if retried (429, 5xx, timeouts)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after


class FatalError(ModelError):
    """Raised by a model when retrying the same request cannot help (bad key, unknown model or path)."""


class AssayError(Exception):
    """A user-facing error: printed without a traceback by the CLI."""


def did_you_mean(name: str, known: Iterable[str], cutoff: float = 0.6) -> str:
    """``" (did you mean 'x'?)"`` naming the known name closest to a misspelled one, or ``""``."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ---- benchmarks --------------------------------------------------------------


@attrs.define
class Sample:
    """One question as a benchmark yields it; the kernel turns it into ``SampleLoaded``."""

    id: str
    subset: str = "default"
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    choices: list[str] | None = None
    target: Any = None
    category: str | None = None
    metadata: dict[str, Any] = attrs.field(factory=dict)
    scorers: list[str] = attrs.field(factory=list)
    categories: list[str] = attrs.field(factory=list)  # further report groups beyond ``category``
    mode: str = "generate"  # or "loglikelihood": the model scores ``choices`` as continuations
    # multi-turn (MT-Bench): user messages sent one after another, each after the model's answer to the
    # conversation so far (its own earlier answers included); ``Generated.turn_outputs`` keeps every answer
    follow_ups: list[str] = attrs.field(factory=list)
    filters: dict[str, Any] = attrs.field(factory=dict)  # output filters of its own (a collection's items)


@attrs.define
class BenchmarkArgs:
    """A benchmark's options: ``dataset_args.<name>`` over the run's defaults."""

    name: str
    subset_list: list[str] | None = None
    few_shot_num: int | None = None
    few_shot_random: bool = False
    prompt_template: str | None = None
    system_prompt: str | None = None
    local_path: str | None = None
    metric_list: list[str] | None = None
    eval_split: str | None = None
    train_split: str | None = None  # where few-shot examples come from
    few_shot_prompt_template: str | None = None
    filters: dict[str, Any] | None = None  # applied in order to the output before scoring (assay.filters)
    shuffle: bool = False  # seeded shuffle of the samples (before limit)
    shuffle_choices: bool | None = None  # seeded shuffle of each question's options (None: the benchmark's default)
    aggregation: str | None = None  # of repeats: mean | mean_and_pass_at_k (default when repeats > 1)
    repeats: int = 1
    limit: int | float | None = None
    seed: int = 42
    dataset_dir: str | None = None
    dataset_hub: str = "modelscope"
    extra: dict[str, Any] = attrs.field(factory=dict)


def check_extra_args(args: BenchmarkArgs, accepted: Iterable[str] = ()) -> None:
    """Reject ``dataset_args.<name>`` keys that are neither :class:`BenchmarkArgs` fields nor in
    ``accepted`` (a benchmark's ``extra_args``), naming the closest known key."""
    allowed = set(accepted)
    unknown = sorted(set(args.extra) - allowed)
    if not unknown:
        return
    known = sorted(allowed | {f.name for f in attrs.fields(BenchmarkArgs)} - {"name", "extra"})
    hints = [f"{k!r}{did_you_mean(k, known)}" for k in unknown]
    raise AssayError(
        f"dataset_args.{args.name}: unknown key(s) {', '.join(hints)}; {args.name} accepts {', '.join(known)}"
    )


def select_subsets(
    args: BenchmarkArgs, available: Iterable[str], where: object = None, noun: str = "subset"
) -> list[str]:
    """``subset_list`` checked against the subsets a benchmark has (all of them when none is given, in
    the order given otherwise); a name it lacks is an error naming the key, the closest name and the list
    (``where``: the file, folder or grouping the subsets were found for)."""
    available = list(available)
    if not args.subset_list:
        return available
    for s in args.subset_list:
        if s not in available:
            raise AssayError(
                f"dataset_args.{args.name}.subset_list: no {noun} {s!r}"
                + (f" in {where}" if where is not None else "")
                + f"{did_you_mean(s, available)}; available: {', '.join(available)}"
            )
    return list(args.subset_list)


def zero_shot(args: BenchmarkArgs, why: str | None = None) -> None:
    """For a benchmark evaluated 0-shot: a ``few_shot_num`` other than 0 is an error naming the key."""
    if args.few_shot_num:
        raise AssayError(
            f"dataset_args.{args.name}.few_shot_num = {args.few_shot_num}: {args.name} is evaluated 0-shot"
            + (f" ({why})" if why else "")
        )


def select_split(args: BenchmarkArgs, splits: Sequence[str], why: str | None = None) -> str:
    """``eval_split`` checked against the splits a benchmark reads (the first is the default)."""
    split = args.eval_split or splits[0]
    if split not in splits:
        raise AssayError(
            f"dataset_args.{args.name}.eval_split = {split!r}: expected one of {', '.join(splits)}"
            + (f" ({why})" if why else "")
        )
    return split


def check_prompt_template(args: BenchmarkArgs, fields: Iterable[str], required: Iterable[str] = ()) -> None:
    """``prompt_template`` checked when the benchmark is opened (before the run exists, not when the first sample
    is built): each ``{placeholder}`` one of ``fields``, literal braces doubled, ``required`` ones present."""
    template = args.prompt_template
    if template is None:
        return
    fields = list(fields)
    where = f"dataset_args.{args.name}.prompt_template"
    known = ", ".join(f"{{{f}}}" for f in fields)
    try:
        template.format_map(dict.fromkeys(fields, ""))
    except KeyError as exc:
        raise AssayError(f"{where}: unknown placeholder {{{exc.args[0]}}}; known: {known}") from None
    except (ValueError, IndexError, AttributeError) as exc:
        raise AssayError(f"{where}: not a valid format string ({exc}); write literal braces as {{{{ and }}}}") from None
    missing = [f"{{{f}}}" for f in required if f"{{{f}}}" not in template]
    if missing:
        raise AssayError(f"{where}: the template must contain {', '.join(missing)}")


# dataset_args keys only a benchmark's own loader can honour (it builds the prompt, knows its
# subsets and splits). A benchmark lists those it honours in ``honours``; the kernel rejects any
# other one of these given for it. The remaining BenchmarkArgs keys (limit, repeats, seed, shuffle,
# filters, aggregation, metric_list, system_prompt, local_path, dataset_dir, dataset_hub) the
# kernel applies to every benchmark.
BENCHMARK_HONOURED = (
    "subset_list",
    "few_shot_num",
    "few_shot_random",
    "prompt_template",
    "few_shot_prompt_template",
    "train_split",
    "eval_split",
    "shuffle_choices",
)
# what a benchmark that declares no ``honours`` is taken to honour (the keys that existed before
# ``honours`` did: each such benchmark reads them itself)
LEGACY_HONOURED = ("subset_list", "few_shot_num", "few_shot_random", "prompt_template", "eval_split")


# values of those keys that ask for nothing (EvalScope configs often spell them out): any benchmark takes them
NO_OP_VALUES: dict[str, tuple[Any, ...]] = {
    "few_shot_num": (0,),
    "few_shot_random": (False,),
    "shuffle_choices": (False,),
}


def check_honoured(args: BenchmarkArgs, given: Mapping[str, Any], honours: Iterable[str] | None) -> None:
    """Reject a key of ``given`` (the ``dataset_args.<name>`` mapping) the benchmark cannot honour, naming
    the key; its no-op values (``few_shot_num: 0``) pass."""
    can = set(LEGACY_HONOURED if honours is None else honours)
    for key, value in given.items():
        if any(value is v or (type(value) is type(v) and value == v) for v in NO_OP_VALUES.get(key, ())):
            continue
        if key in BENCHMARK_HONOURED and key not in can:
            ok = ", ".join(k for k in BENCHMARK_HONOURED if k in can) or "none of them"
            raise AssayError(
                f"dataset_args.{args.name}.{key}: {args.name} cannot honour {key!r}; "
                f"of the benchmark-specific keys it honours {ok}"
            )


class Benchmark(Protocol):
    """A benchmark yields samples; the kernel generates and scores them.

    ``honours`` (a class attribute) names the keys of :data:`BENCHMARK_HONOURED` its loader
    applies (``system_prompt`` too, when it places the system prompt itself; otherwise the kernel
    puts it first in the messages). Without it, :data:`LEGACY_HONOURED` is assumed.

    ``extra_args`` (a class attribute) names the ``dataset_args`` keys a benchmark reads from
    ``args.extra`` beyond the :class:`BenchmarkArgs` fields; the kernel rejects any other key
    before the run starts. Without it, no extra key is accepted.

    A benchmark that runs itself (embeddings, retrieval, RAG) has no ``load`` but
    ``async def run(self, run, args, config)``: it emits its own events through ``run.emit``
    (``SampleLoaded(self_driven=True)``, plugin events, Scored, MetricReported).
    """

    name: str
    default_scorers: list[str]

    def load(self, args: BenchmarkArgs) -> Iterable[Sample]:
        """Yield samples in a stable order; the kernel applies ``limit`` per subset."""
        ...


# ---- models ------------------------------------------------------------------


@attrs.define
class ModelConfig:
    model: str
    eval_type: str | None = None
    api_url: str | None = None
    api_key: str | None = attrs.field(default=None, repr=False)  # never logged
    model_args: dict[str, Any] = attrs.field(factory=dict)
    generation_config: dict[str, Any] = attrs.field(factory=dict)
    chat_template: str | None = None
    timeout: float | None = None
    stream: bool = False
    batch_size: int = 1


@attrs.define
class GenerateRequest:
    sample_id: str
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    choices: list[str] | None = None
    mode: str = "generate"  # generate | loglikelihood
    generation_config: dict[str, Any] = attrs.field(factory=dict)
    attempt: int = 1


@attrs.define
class GenerateResult:
    output: str = ""
    reasoning: str | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    choice_logprobs: list[float] | None = None
    choice_greedy: list[bool] | None = None
    request_ids: list[str] = attrs.field(factory=list)
    # generation_config {"logprobs": true, "top_logprobs": N}: per output token
    # {"token": str, "logprob": float, "top_logprobs": [{"token": str, "logprob": float}, ...]}
    logprobs: list[dict[str, Any]] | None = None
    tool_calls: list[dict[str, Any]] | None = None  # [{"name", "arguments" (JSON text)}], as the reply gave them


class Model(Protocol):
    name: str
    supports_loglikelihood: bool

    async def generate(self, request: GenerateRequest) -> GenerateResult:
        """Answer one request. Raise :class:`TransientError` for retryable failures."""
        ...

    async def aclose(self) -> None: ...


# ---- scorers and reporters ---------------------------------------------------


@attrs.define
class Score:
    metric: str
    value: float
    extracted: Any = None
    explanation: str | None = None


class Scorer(Protocol):
    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]: ...


class Reporter(Protocol):
    kinds: set[str]

    def build(self, log_path: Path) -> dict[str, Any]: ...

    def render(self, report: dict[str, Any], console: Any) -> None: ...


# ---- the run, as plugins see it ----------------------------------------------


class RunContext(Protocol):
    run_id: str
    run_dir: Path
    config: Any  # the TaskConfig (secrets included: never log it whole)

    def emit(self, body: Body) -> Event:
        """Append one event to the log (thread-safe)."""
        ...

    def emit_many(self, bodies: Iterable[Body]) -> list[Event]:
        """Append a group of events atomically (one write)."""
        ...

    def warn(self, source: str, message: str) -> None: ...
