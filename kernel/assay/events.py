"""The event types of a run log.

Every line of ``events.jsonl`` is one :class:`Envelope`: schema version, ``type``,
``seq`` (dense, assigned by the writer), ``ts``, ``run_id`` and a typed ``body``.
Readers decode the envelope first and the body by ``type`` afterwards, so a log
holding events of a plugin that is not installed still replays (the body then
stays an opaque mapping).

Compatibility rule: add fields with defaults; never rename, retype or remove one.
"""

from __future__ import annotations

from typing import Any

import msgspec

SCHEMA_VERSION = 1


class Body(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of every event body. Subclasses are registered by type name."""


# ---- core bodies -------------------------------------------------------------


class PluginInfo(msgspec.Struct, kw_only=True, omit_defaults=True):
    distribution: str
    version: str
    entry_point: str = ""


class RunStarted(Body, kw_only=True):
    kind: str = "eval"  # eval | perf | rescore | speed
    config: dict[str, Any] = {}  # as given, secrets removed
    resolved: dict[str, Any] = {}  # after defaults and inference, secrets removed
    plugins: list[PluginInfo] = []
    seed: int | None = None
    host: dict[str, Any] = {}
    assay_version: str = ""
    source_run: str | None = None  # rescore: the run whose generations were reused


class RunResumed(Body, kw_only=True):
    host: dict[str, Any] = {}
    pending_generate: int = 0
    pending_score: int = 0


class SampleLoaded(Body, kw_only=True):
    sample_id: str  # unique within the run: "<benchmark>/<subset>/<id>[#<repeat>]"
    benchmark: str
    subset: str = "default"
    category: str | None = None  # extra grouping for reports (e.g. MMLU's STEM)
    categories: list[str] = []  # further groups the subset also belongs to (CMMLU's "China specific")
    local_id: str = ""  # the id inside the benchmark's files
    repeat: int = 0
    prompt: str | None = None  # completion-style input
    messages: list[dict[str, Any]] | None = None  # chat-style input, as sent
    choices: list[str] | None = None
    target: Any = None
    metadata: dict[str, Any] = {}
    scorers: list[str] = []  # scorer names to apply; empty: the benchmark's defaults
    mode: str = "generate"  # generate | loglikelihood (the request the model answers)
    self_driven: bool = False  # logged by a benchmark's own ``run`` (embeddings): never generated
    follow_ups: list[str] = []  # multi-turn: user messages sent after each answer (see Generated.turn_outputs)
    filters: dict[str, Any] = {}  # dataset_args filters, applied in order to the output before scoring

    def __post_init__(self) -> None:
        # logs written before these were fields carry them as metadata keys
        md = self.metadata
        if md:
            if self.mode == "generate" and "mode" in md:
                self.mode = str(md["mode"])
            if not self.self_driven and md.get("self_driven"):
                self.self_driven = True


class Usage(msgspec.Struct, kw_only=True, omit_defaults=True):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    reasoning_tokens: int | None = None


class Generated(Body, kw_only=True):
    sample_id: str
    model: str
    output: str = ""
    reasoning: str | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    latency: float | None = None  # seconds, wall clock of the whole generation
    attempt: int = 1
    error: str | None = None  # deprecated: never written (a failure is a SampleFailed), never read
    # log-likelihood mode: one entry per choice, in the order of SampleLoaded.choices
    choice_logprobs: list[float] | None = None
    choice_greedy: list[bool] | None = None
    request_ids: list[str] = []
    # multi-turn samples (SampleLoaded.follow_ups): the answer to every user turn, first turn first;
    # ``output`` is the last one
    turn_outputs: list[str] = []
    # function calls of the reply (OpenAI tools API), in order: {"name": ..., "arguments": JSON text}
    tool_calls: list[dict[str, Any]] | None = None


class Scored(Body, kw_only=True):
    sample_id: str
    scorer: str
    metric: str
    value: float
    extracted: Any = None
    target: Any = None
    explanation: str | None = None
    benchmark: str | None = None  # the sample's report group; None in older logs (read from sample_id)
    subset: str = "default"


class RequestTimed(Body, kw_only=True):
    """Raw facts of one HTTP request; every derived figure is a projection."""

    request_id: str
    sample_id: str | None = None
    api: str = ""
    url: str = ""
    scheduled: float | None = None  # when the client meant to send (open loop)
    sent: float
    first_byte: float | None = None
    chunk_times: list[float] = []  # arrival of each content chunk
    chunk_tokens: list[int] = []  # tokens in each content chunk, where known
    last_content: float | None = None
    end: float
    status: int | None = None
    ok: bool = True
    # connection, timeout, auth (401/403), not_found (404), http_4xx, http_429, http_5xx, malformed,
    # stream_error, cancelled
    error_kind: str | None = None
    error: str | None = None
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    usage_reported: bool = False
    stream: bool = False
    phase: str = "measure"  # warmup | measure
    point: dict[str, Any] = {}  # perf sweep point: parallel, number, rate
    turn: int | None = None  # perf --multi-turn: the conversation turn (1 = first)
    cached_tokens: int | None = None  # prompt tokens the server served from its prefix cache (usage)


class SampleFailed(Body, kw_only=True):
    sample_id: str
    stage: str  # load | generate | score
    error_type: str
    message: str
    attempt: int = 1
    final: bool = True
    error_kind: str | None = None  # as RequestTimed.error_kind (generate stage)
    benchmark: str | None = None  # the sample's report group; None in older logs (read from sample_id)
    subset: str = "default"


class Executed(Body, kw_only=True):
    """One execution of model-written code in a sandbox: raw facts and the verdict.

    ``verdict``: passed | failed | timeout | memory | output_limit | killed | sandbox_error.
    A ``sandbox_error`` is the harness's failure, not the program's: it is counted as an
    error, never scored.
    """

    sample_id: str
    backend: str
    verdict: str
    reason: str | None = None  # why: the exception type, the signal, the limit hit
    tests: str = ""  # which test set ran (base, plus, a test case index)
    limits: dict[str, Any] = {}
    exit_code: int | None = None
    signal: int | None = None
    duration: float | None = None  # wall clock seconds
    cpu_time: float | None = None  # user + system seconds of the process tree
    peak_memory: int | None = None  # bytes (max RSS)
    stdout_tail: str = ""
    stderr_tail: str = ""
    stdout_bytes: int = 0
    stderr_bytes: int = 0


class Judged(Body, kw_only=True):
    """One judge call on one sample: what the judge was asked, what it said, what that was read as.

    ``key`` names the call within the sample (``grade``, ``turn2``, ``game1``), so a sample may be judged
    several times (turns, both orders, several judges: ``judge_index``). ``prompt_hash`` (sha256 of the
    exact messages) lets ``resume`` and ``rescore`` reuse a verdict only for the very same prompt.
    ``status``: ok | judge_failed (the call failed after retries, or its output could not be parsed):
    a failed verdict is never a score.
    """

    sample_id: str
    judge: str  # the judge model's id
    judge_index: int = 0  # which of the configured judges
    scorer: str = ""
    key: str = ""
    messages: list[dict[str, Any]] = []  # the exact prompt, as sent
    prompt_hash: str = ""
    output: str = ""  # raw judge output
    label: str | None = None  # parsed verdict label ("A", "m", "A>>B")
    value: float | None = None  # parsed numeric verdict (a rating, a preference)
    usage: Usage | None = None
    order: str | None = None  # pairwise: "AB" (candidates[0] shown first) or "BA"
    candidates: list[str] = []  # pairwise: the ids of what was compared (models, runs)
    logprobs: list[dict[str, Any]] | None = None  # per output token: token, logprob, top_logprobs
    status: str = "ok"  # ok | judge_failed
    reason: str | None = None  # why judge_failed
    attempt: int = 1
    latency: float | None = None
    request_ids: list[str] = []
    reused_from: str | None = None  # rescore: the run whose logged verdict this is
    benchmark: str | None = None
    subset: str = "default"


class MetricReported(Body, kw_only=True):
    """A figure that is not a mean of per-sample scores (a correlation, nDCG over a corpus).

    Emitted by benchmarks that compute corpus-level metrics; the report shows it as a row.
    """

    benchmark: str
    subset: str = "default"
    metric: str
    value: float
    num: int = 0
    category: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    details: dict[str, Any] = {}


class Warning_(Body, kw_only=True):
    source: str
    message: str


class RunFinished(Body, kw_only=True):
    status: str = "completed"  # completed | failed | interrupted
    duration: float | None = None
    counts: dict[str, int] = {}
    error: str | None = None


CORE_BODIES: dict[str, type[Body]] = {
    "RunStarted": RunStarted,
    "RunResumed": RunResumed,
    "SampleLoaded": SampleLoaded,
    "Generated": Generated,
    "Scored": Scored,
    "RequestTimed": RequestTimed,
    "SampleFailed": SampleFailed,
    "Executed": Executed,
    "MetricReported": MetricReported,
    "Judged": Judged,
    "Warning": Warning_,
    "RunFinished": RunFinished,
}


def type_name(body: Body) -> str:
    name = type(body).__name__
    return "Warning" if name == "Warning_" else name


# ---- envelopes ---------------------------------------------------------------


class Envelope(msgspec.Struct, kw_only=True, array_like=False):
    """One log line as written: the body is a typed Struct."""

    v: int = SCHEMA_VERSION
    type: str
    seq: int
    ts: float
    run_id: str
    body: Any


class RawEnvelope(msgspec.Struct, kw_only=True):
    """One log line as read: the body is left undecoded until someone asks."""

    v: int
    type: str
    seq: int
    ts: float
    run_id: str
    body: msgspec.Raw


class Event(msgspec.Struct, kw_only=True):
    """What hooks and projections see: an envelope with a decoded body.

    ``body`` is the registered Struct for ``type`` or, for a type no installed
    plugin knows, a plain dict.
    """

    v: int
    type: str
    seq: int
    ts: float
    run_id: str
    body: Any


class BodyRegistry:
    """Maps type names to body Structs and caches one decoder per type."""

    def __init__(self) -> None:
        self._types: dict[str, type[Body]] = dict(CORE_BODIES)
        self._decoders: dict[str, msgspec.json.Decoder] = {}
        self._opaque = msgspec.json.Decoder()

    def register(self, name: str, body_type: type[Body]) -> None:
        known = self._types.get(name)
        if known is not None and known is not body_type:
            raise ValueError(f"event type {name!r} is already registered as {known.__qualname__}")
        self._types[name] = body_type

    def types(self) -> dict[str, type[Body]]:
        return dict(self._types)

    def event(self, env: RawEnvelope) -> Event:
        """The envelope with its body decoded: the registered Struct, or a dict for an unknown type."""
        decoder = self._decoders.get(env.type)
        if decoder is None:
            body_type = self._types.get(env.type)
            if body_type is None:
                decoder = self._opaque
            else:
                decoder = self._decoders[env.type] = msgspec.json.Decoder(body_type)
        return Event(v=env.v, type=env.type, seq=env.seq, ts=env.ts, run_id=env.run_id, body=decoder.decode(env.body))


def _normalise_text(node: Any) -> Any:
    """Descriptions with their whitespace folded: paragraphs kept, each on one line.

    msgspec renders docstrings differently across releases (0.23 dropped their
    indentation); folding makes the committed schema independent of that.
    """
    if isinstance(node, dict):
        return {
            k: _fold(v) if k in ("description", "title") and isinstance(v, str) else _normalise_text(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_normalise_text(v) for v in node]
    return node


def _fold(text: str) -> str:
    paragraphs = (" ".join(p.split()) for p in text.split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def json_schema(registry: BodyRegistry | None = None) -> dict[str, Any]:
    """JSON Schema of a log line, with every body type as a component."""
    registry = registry or BodyRegistry()
    types = registry.types()
    names = sorted(types)
    _, components = msgspec.json.schema_components(
        [RawEnvelope] + [types[n] for n in names], ref_template="#/$defs/{name}"
    )
    envelope = components.pop("RawEnvelope")
    envelope["title"] = "Envelope"
    envelope["properties"]["body"] = {"type": "object", "description": "typed by the 'type' field"}
    envelope["properties"]["type"] = {"type": "string", "description": "body type name: " + ", ".join(names)}
    bodies = {n: {"$ref": f"#/$defs/{types[n].__name__}"} for n in names}
    return _normalise_text(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "assay event log line",
            "schema_version": SCHEMA_VERSION,
            **envelope,
            "x-bodies": bodies,
            "$defs": components,
        }
    )
