"""Judges: model backends used by scorers (the assay-judge distribution; the kernel reaches it through the
``assay_judge`` hook, which returns :class:`Judge`).

A judge is any registered model backend (``openai_api``, ``transformers``, ``mock``...), built through the
same factory as the evaluated model from ``judge_model_args`` (EvalScope's names: ``model_id``,
``api_url``, ``api_key``, ``generation_config``, ``system_prompt``, ``score_type``, ``prompt_template``;
plus ``eval_type``, ``model_args``, ``timeout``). Several judges are a list of such mappings; their
verdicts are combined by ``judge_aggregation`` (mean | majority | all_agree) and need at least
``judge_min_valid`` valid ones.

A scorer that needs a judge has ``async def score(self, sample, generated, judge)``: ``judge`` is a
:class:`JudgeView`; ``await judge.ask(sample, messages, parse=...)`` calls every configured judge
(concurrently, at most ``judge_worker_num`` calls at a time over the run, with the run's ``retries``,
``timeout`` and secret rules), logs each call as a ``Judged`` event and returns a :class:`JudgeResult`.
A verdict that cannot be parsed, or a call that fails after its retries, is ``judge_failed``: the scorer
raises :class:`JudgeFailed` (``result.require()`` does it) and the kernel records a
``SampleFailed(stage="judge")``, which the report counts as a judge failure and leaves out of the score
(coverage is shown next to it). Never a 0.

Reuse: ``assay resume`` and ``assay rescore`` hand the judge the run's logged ``Judged`` events; a call
whose (sample, scorer, key, judge index, exact prompt) was judged before returns the logged verdict
(the raw output read again by the current parser) without calling anyone. ``rescore`` without
``--rejudge`` never calls a judge: a call with no logged verdict is judge-failed.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import anyio
import attrs

from assay.api import AssayError, GenerateRequest, did_you_mean
from assay.calls import call_model
from assay.config import check_generation_config
from assay.events import Judged

__all__ = [
    "AGGREGATIONS",
    "JUDGE_KEYS",
    "STRATEGIES",
    "Judge",
    "JudgeFailed",
    "JudgeResult",
    "JudgeView",
    "Parsed",
    "Verdict",
    "aggregate",
    "check_judge_config",
    "expected_from_logprobs",
    "judge_specs",
    "logprob_share",
    "pairwise_orders",
    "pairwise_outcome",
    "parse_pairwise",
    "parse_judge_args",
    "parse_label",
    "parse_rating",
    "prompt_hash",
    "render_template",
    "reusable",
    "reuse_key",
]

STRATEGIES = ("auto", "rule", "llm", "llm_recall")
AGGREGATIONS = ("mean", "majority", "all_agree")
JUDGE_KEYS = (
    "model_id",
    "api_url",
    "api_key",
    "eval_type",
    "generation_config",
    "system_prompt",
    "score_type",
    "prompt_template",
    "model_args",
    "timeout",
)


class JudgeFailed(Exception):
    """Raised by a scorer when its sample could not be judged; the kernel logs ``SampleFailed(stage="judge")``
    with ``error_kind`` ``kind``: ``judge_call_failed`` (a call failed after its retries: ``assay resume`` asks
    again), ``judge_unparseable`` / ``judge_disagree`` (verdicts were given: never asked again)."""

    def __init__(self, message: str, kind: str = "judge_failed") -> None:
        super().__init__(message)
        self.kind = kind


# ---- configuration -------------------------------------------------------------


def judge_specs(cfg: Any) -> list[dict[str, Any]]:
    """The configured judges, one mapping each (``judge_model_args`` may be one mapping or a list)."""
    args = cfg.judge_model_args
    if not args:
        return []
    return [dict(args)] if isinstance(args, dict) else [dict(a) for a in args]


def parse_judge_args(text: str | None, flag: str = "--judge-model-args") -> Any:
    """``--judge-model-args``: a JSON object (one judge), a JSON list of objects (several), or k=v pairs."""
    if not text:
        return None
    if text.strip().startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AssayError(f"{flag}: invalid JSON at column {exc.colno}: {exc.msg}") from None
        if not all(isinstance(v, dict) for v in value):
            raise AssayError(f"{flag}: expected a JSON object or a list of objects")
        return value
    from assay.config import parse_json_arg

    return parse_json_arg(text, flag)


def check_judge_config(cfg: Any) -> None:
    if cfg.judge_strategy not in STRATEGIES:
        raise AssayError(f"judge_strategy must be one of {', '.join(STRATEGIES)}, got {cfg.judge_strategy!r}")
    if cfg.judge_aggregation not in AGGREGATIONS:
        raise AssayError(f"judge_aggregation must be one of {', '.join(AGGREGATIONS)}, got {cfg.judge_aggregation!r}")
    if cfg.judge_worker_num < 1:
        raise AssayError(f"judge_worker_num must be >= 1, got {cfg.judge_worker_num}")
    if cfg.judge_min_valid < 1:
        raise AssayError(f"judge_min_valid must be >= 1, got {cfg.judge_min_valid}")
    args = cfg.judge_model_args
    if args is None:
        cfg.judge_model_args = {}
        return
    if not isinstance(args, (dict, list)) or (isinstance(args, list) and not all(isinstance(a, dict) for a in args)):
        raise AssayError("judge_model_args must be a mapping or a list of mappings")
    specs = judge_specs(cfg)
    for i, spec in enumerate(specs):
        where = "judge_model_args" if isinstance(args, dict) else f"judge_model_args[{i}]"
        for key in spec:
            if key not in JUDGE_KEYS:
                raise AssayError(
                    f"{where}: unknown key {key!r}{did_you_mean(key, JUDGE_KEYS)}; known: {', '.join(JUDGE_KEYS)}"
                )
        if not spec.get("model_id"):
            raise AssayError(f"{where}: model_id is required (the judge model's name)")
        if spec.get("generation_config") is not None:
            check_generation_config(spec["generation_config"], prefix=f"{where}.generation_config.")
    if specs and cfg.judge_min_valid > len(specs):
        raise AssayError(f"judge_min_valid is {cfg.judge_min_valid} but only {len(specs)} judge(s) are configured")


# ---- verdicts --------------------------------------------------------------------


@attrs.define
class Parsed:
    """What a parser read in a judge's output: a label and/or a number."""

    label: str | None = None
    value: float | None = None


@attrs.define
class Verdict:
    """One judge's answer to one call."""

    judge: str
    judge_index: int
    ok: bool
    label: str | None = None
    value: float | None = None
    output: str = ""
    reason: str | None = None
    logprobs: list[dict[str, Any]] | None = None
    event: Judged | None = None


@attrs.define
class JudgeResult:
    """Every judge's verdict on one call, and their aggregate."""

    verdicts: list[Verdict]
    ok: bool
    label: str | None = None
    value: float | None = None
    reason: str | None = None

    def require(self) -> JudgeResult:
        """This result, or :class:`JudgeFailed` when it is not a valid verdict."""
        if not self.ok:
            valid = [v for v in self.verdicts if v.ok]
            called = [v for v in self.verdicts if v.ok or v.output]
            if len(called) < len(self.verdicts) and len(valid) < len(self.verdicts):
                kind = "judge_call_failed"  # a call got no answer: asking again may give a verdict
            elif any(not v.ok for v in self.verdicts):
                kind = "judge_unparseable"
            else:
                kind = "judge_disagree"
            raise JudgeFailed(self.reason or "judge failed", kind)
        return self


def aggregate(verdicts: Sequence[Verdict], how: str = "mean", min_valid: int = 1) -> JudgeResult:
    """Combine several judges' verdicts.

    ``value``: the mean of the valid numeric verdicts. ``label``: for ``majority`` and ``mean``, the most
    common valid label (a tie is judge-failed); for ``all_agree``, the label every valid verdict gives
    (any disagreement is judge-failed). Fewer than ``min_valid`` valid verdicts is judge-failed.
    """
    valid = [v for v in verdicts if v.ok]
    if len(valid) < min_valid:
        why = "; ".join(f"judge {v.judge_index} ({v.judge}): {v.reason}" for v in verdicts if not v.ok)
        return JudgeResult(
            list(verdicts), False, reason=f"{len(valid)} of {len(verdicts)} verdicts valid (need {min_valid}): {why}"
        )
    values = [v.value for v in valid if v.value is not None]
    value = sum(values) / len(values) if values else None
    labels = [v.label for v in valid if v.label is not None]
    label = None
    if labels:
        counts = Counter(labels).most_common()
        if how == "all_agree" and len(counts) > 1:
            return JudgeResult(list(verdicts), False, reason=f"judges disagree: {', '.join(labels)}")
        if len(counts) > 1 and counts[0][1] == counts[1][1]:
            return JudgeResult(list(verdicts), False, reason=f"no majority among verdicts: {', '.join(labels)}")
        label = counts[0][0]
    return JudgeResult(list(verdicts), True, label=label, value=value)


# ---- generic helpers for judged benchmarks ----------------------------------------


def render_template(template: str, **fields: Any) -> str:
    """``template`` with ``{name}`` fields filled (``str.format``: literal braces are written ``{{ }}``)."""
    try:
        return template.format(**fields)
    except (KeyError, IndexError) as exc:
        raise AssayError(f"judge prompt template: no value for field {exc}") from None


Parser = Callable[[str, "list[dict[str, Any]] | None"], "Parsed | None"]


def parse_label(pattern: str, labels: Iterable[str] | None = None, *, flags: int = 0, last: bool = False) -> Parser:
    """A parser taking the first (``last``: the last) match of ``pattern`` (its group 1 if it has one) as label.

    With ``labels``, a match outside them is unparseable. Example: simple-evals' ``parse_label(r"(A|B|C)")``.
    """
    import re

    rx = re.compile(pattern, flags)
    allowed = set(labels) if labels is not None else None

    def parse(output: str, logprobs: list[dict[str, Any]] | None = None) -> Parsed | None:
        matches = list(rx.finditer(output)) if last else [m for m in [rx.search(output)] if m]
        if not matches:
            return None
        m = matches[-1]
        label = m.group(1) if rx.groups else m.group(0)
        if allowed is not None and label not in allowed:
            return None
        return Parsed(label=label)

    return parse


def parse_rating(
    pattern: str = r"\[\[(\d+\.?\d*)\]\]",
    *,
    backup: str | None = r"\[(\d+\.?\d*)\]",
    lo: float = -math.inf,
    hi: float = math.inf,
) -> Parser:
    """A numeric rating such as MT-Bench's ``Rating: [[8]]`` (``backup``: the ``[8]`` form); outside [lo, hi] is unparseable."""
    import re

    rxs = [re.compile(p) for p in (pattern, backup) if p]

    def parse(output: str, logprobs: list[dict[str, Any]] | None = None) -> Parsed | None:
        for rx in rxs:
            m = rx.search(output)
            if m:
                value = float(m.group(1))
                if lo <= value <= hi and math.isfinite(value):
                    return Parsed(value=value)
                return None
        return None

    return parse


def expected_from_logprobs(
    logprobs: list[dict[str, Any]] | None, values: dict[str, float], position: int = 0
) -> float | None:
    """The expected value of a verdict token from its log-probabilities (AlpacaEval's weighted annotator).

    ``logprobs[position]["top_logprobs"]`` (and the token itself) are read; tokens in ``values`` get their
    probabilities renormalised over those present. ``None`` when no listed token is among them.
    """
    if not logprobs or len(logprobs) <= position:
        return None
    entry = logprobs[position]
    seen: dict[str, float] = {}
    for alt in [entry, *(entry.get("top_logprobs") or [])]:
        token = str(alt.get("token", "")).strip()
        if token in values and token not in seen and alt.get("logprob") is not None:
            seen[token] = math.exp(float(alt["logprob"]))
    total = sum(seen.values())
    if total <= 0:
        return None
    return sum(p * values[t] for t, p in seen.items()) / total


def logprob_share(
    logprobs: list[dict[str, Any]] | None, numerator: str, tokens: Sequence[str], position: int = 0
) -> float | None:
    """P(``numerator``) / sum of P(``tokens``) from ``logprobs[position]["top_logprobs"]`` (AlpacaEval's
    ``logprob_parser``): tokens compared exactly (no stripping), only the top alternatives read, a listed token
    absent from them has probability 0. ``None`` when none of ``tokens`` is among them."""
    if not logprobs or len(logprobs) <= position:
        return None
    wanted = {*tokens, numerator}
    seen = {
        str(alt.get("token")): float(alt["logprob"])
        for alt in logprobs[position].get("top_logprobs") or []
        if alt.get("token") in wanted and alt.get("logprob") is not None
    }
    if not seen:
        return None
    values = [seen.get(t, -math.inf) for t in tokens]
    top = max(values)
    if top == -math.inf:
        return None
    denominator = top + math.log(sum(math.exp(v - top) for v in values))
    return math.exp(seen.get(numerator, -math.inf) - denominator)


def pairwise_orders(sample_id: str, mode: str = "both", seed: int = 0) -> list[str]:
    """The orders a pair is judged in: ``both`` -> ["AB", "BA"] (Arena-Hard); ``random`` -> one order drawn
    from (seed, sample id), the same on every run (AlpacaEval); ``AB`` / ``BA`` -> that order."""
    if mode == "both":
        return ["AB", "BA"]
    if mode == "random":
        digest = hashlib.sha256(f"{seed}:{sample_id}".encode()).digest()
        return [random.Random(digest).choice(["AB", "BA"])]
    if mode in ("AB", "BA"):
        return [mode]
    raise AssayError(f"pairwise order mode must be both, random, AB or BA, got {mode!r}")


PAIRWISE_LABELS = {  # Arena-Hard's show_result.py: the verdict's score for the answer shown as A
    "A>B": 1.0,
    "A>>B": 1.0,
    "A=B": 0.5,
    "A<<B": 0.0,
    "A<B": 0.0,
    "B>A": 0.0,
    "B>>A": 0.0,
    "B=A": 0.5,
    "B<<A": 1.0,
    "B<A": 1.0,
}
STRONG_LABELS = frozenset({"A>>B", "A<<B", "B>>A", "B<<A"})


def parse_pairwise(patterns: Sequence[str] = (r"\[\[([AB<>=]+)\]\]", r"\[([AB<>=]+)\]")) -> Parser:
    """Arena-Hard's verdict reader (``gen_judgment.py`` ``get_score``): for each pattern in turn, every match
    in the upper-cased output; the last one wins. A label outside :data:`PAIRWISE_LABELS` (``[[A>>>B]]``,
    which the official ``show_result.py`` cannot count) is unparseable."""
    import re

    rxs = [re.compile(p) for p in patterns]

    def parse(output: str, logprobs: list[dict[str, Any]] | None = None) -> Parsed | None:
        for rx in rxs:
            matches = [m for m in rx.findall(output.upper()) if m != ""]
            if matches:
                label = matches[-1].strip("\n")
                return Parsed(label=label) if label in PAIRWISE_LABELS else None
        return None

    return parse


def pairwise_outcome(label: str, order: str) -> tuple[float, bool]:
    """``(score, strong)``: the score of ``candidates[0]`` (1 won, 0.5 tie, 0 lost) for a verdict given in
    ``order`` (``AB``: candidates[0] was shown as A; ``BA``: as B), and whether the verdict is strong
    (``>>``: Arena-Hard counts it ``weight`` times)."""
    score = PAIRWISE_LABELS[label]
    return (score if order == "AB" else 1.0 - score), label in STRONG_LABELS


def prompt_hash(messages: list[dict[str, Any]]) -> str:
    """sha256 of the messages as JSON (msgspec: keys in the order given, as the judge was sent them)."""
    import msgspec

    return hashlib.sha256(msgspec.json.encode(messages)).hexdigest()


# ---- the judge -----------------------------------------------------------------


ReuseKey = tuple[str, str, str, int, str]


def reuse_key(ev: Judged) -> ReuseKey:
    return (ev.sample_id, ev.scorer, ev.key, ev.judge_index, ev.prompt_hash)


def reusable(logged: Iterable[Judged] | dict[ReuseKey, Judged] | None) -> dict[ReuseKey, Judged]:
    """Logged ``Judged`` events by :func:`reuse_key`, the last one of each key: the calls that got an answer
    (a verdict given, even unparseable, is never asked again; a call that failed is)."""
    if isinstance(logged, dict):
        return dict(logged)
    return {
        reuse_key(ev): ev
        for ev in logged or ()
        if ev.status == "ok" or ev.output or ev.label is not None or ev.value is not None
    }


class Judge:
    """The run's judges: built lazily from ``judge_model_args`` through the model registry.

    This class is what the ``assay_judge`` hook gives the kernel: ``Judge(cfg, plugins, run, ...)`` opens a
    run's judges, :meth:`check` and :meth:`parse_args` read the configuration, :attr:`Failed` is the exception
    a judged scorer raises. ``reuse``: the logged ``Judged`` events (resume, rescore; those that got an answer
    are reused, see :func:`reusable`); ``reuse_from``: the run they come from when it is another run (rescore:
    each reused verdict is copied into the new log); ``call=False``: never call a judge (rescore without
    ``--rejudge``).
    """

    Failed = JudgeFailed

    @staticmethod
    def check(cfg: Any) -> None:
        """Check a :class:`assay.config.TaskConfig`'s judge settings (:func:`check_judge_config`)."""
        check_judge_config(cfg)

    @staticmethod
    def parse_args(text: str | None, flag: str = "--judge-model-args") -> Any:
        """``--judge-model-args`` as given on the command line (:func:`parse_judge_args`)."""
        return parse_judge_args(text, flag)

    def __init__(
        self,
        cfg: Any,
        plugins: Any,
        run: Any,
        *,
        reuse: Iterable[Judged] | dict[ReuseKey, Judged] | None = None,
        reuse_from: str | None = None,
        call: bool = True,
    ) -> None:
        self.cfg = cfg
        self.plugins = plugins
        self.run = run
        self.specs = judge_specs(cfg)
        self.strategy = cfg.judge_strategy
        self.reuse = reusable(reuse)
        self.reuse_from = reuse_from
        self.call = call
        self._models: dict[int, Any] = {}
        self._limiter: anyio.CapacityLimiter | None = None
        self.calls = 0  # judge requests made (attempts not counted)
        from assay.failures import FailureWatch

        self._watch = FailureWatch(None)  # the first judge calls all failing alike (a bad key, URL): stop

    @property
    def configured(self) -> bool:
        return bool(self.specs)

    def names(self) -> list[str]:
        return [str(s["model_id"]) for s in self.specs]

    def prompt_template(self, default: str) -> str:
        """The first judge's ``prompt_template`` when given, else the benchmark's ``default``."""
        for spec in self.specs:
            if spec.get("prompt_template"):
                return str(spec["prompt_template"])
        return default

    def view(self, scorer: str) -> JudgeView:
        return JudgeView(self, scorer)

    def _model(self, index: int) -> Any:
        model = self._models.get(index)
        if model is None:
            from assay.config import TaskConfig
            from assay.loading import model_config, select_model

            spec = self.specs[index]
            jcfg = TaskConfig(
                model=str(spec["model_id"]),
                api_url=spec.get("api_url"),
                api_key=spec.get("api_key"),
                eval_type=spec.get("eval_type"),
                model_args=dict(spec.get("model_args") or {}),
                generation_config=dict(spec.get("generation_config") or {}),
                timeout=spec.get("timeout", self.cfg.timeout),
                retries=self.cfg.retries,
            )
            _, factory = select_model(jcfg, self.plugins)
            model = self._models[index] = factory(model_config(jcfg), self.run)
        return model

    async def aclose(self) -> None:
        models, self._models = self._models, {}
        for model in models.values():
            await model.aclose()

    async def ask(
        self,
        sample: Any,
        messages: str | list[dict[str, Any]],
        *,
        parse: Parser,
        scorer: str = "",
        key: str = "",
        order: str | None = None,
        candidates: Sequence[str] = (),
        logprobs: int | None = None,
        generation_config: dict[str, Any] | None = None,
    ) -> JudgeResult:
        """Ask every configured judge (concurrently) and aggregate; each call is logged as ``Judged``.

        ``generation_config``: the benchmark's own settings for the call (AlpacaEval: ``max_tokens`` 1,
        ``temperature`` 1); a judge's ``generation_config`` in ``judge_model_args`` overrides them key by key."""
        if not self.specs:
            raise JudgeFailed('no judge configured: pass --judge-model-args \'{"model_id": ..., "api_url": ...}\'')
        verdicts: list[Verdict | None] = [None] * len(self.specs)

        async def one(i: int) -> None:
            verdicts[i] = await self._ask_one(
                i, sample, messages, parse, scorer, key, order, candidates, logprobs, generation_config
            )

        if len(self.specs) == 1:
            await one(0)
        else:
            async with anyio.create_task_group() as tg:
                for i in range(len(self.specs)):
                    tg.start_soon(one, i)
        return aggregate([v for v in verdicts if v is not None], self.cfg.judge_aggregation, self.cfg.judge_min_valid)

    def _messages(self, index: int, messages: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
        msgs = [{"role": "user", "content": messages}] if isinstance(messages, str) else [dict(m) for m in messages]
        system = self.specs[index].get("system_prompt")
        if system and not any(m.get("role") == "system" for m in msgs):
            msgs.insert(0, {"role": "system", "content": str(system)})
        return msgs

    async def _ask_one(
        self,
        index: int,
        sample: Any,
        messages: str | list[dict[str, Any]],
        parse: Parser,
        scorer: str,
        key: str,
        order: str | None,
        candidates: Sequence[str],
        logprobs: int | None,
        generation_config: dict[str, Any] | None = None,
    ) -> Verdict:
        name = str(self.specs[index]["model_id"])
        msgs = self._messages(index, messages)
        digest = prompt_hash(msgs)
        logged = self.reuse.get((sample.sample_id, scorer, key, index, digest))
        if logged is not None:
            verdict = self._read(logged, parse)
            if self.reuse_from is not None:  # another run's verdict: copied into this log, marked as such
                ev = attrs_evolve_judged(logged, verdict, self.reuse_from)
                self.run.emit(ev)
                verdict.event = ev
            return verdict
        base = Judged(
            sample_id=sample.sample_id,
            judge=name,
            judge_index=index,
            scorer=scorer,
            key=key,
            messages=msgs,
            prompt_hash=digest,
            order=order,
            candidates=list(candidates),
            benchmark=getattr(sample, "benchmark", None),
            subset=getattr(sample, "subset", "default"),
        )
        if not self.call:
            base.status = "judge_failed"
            base.reason = "no logged verdict for this prompt, and rescore without --rejudge calls no judge"
            self.run.emit(base)
            return Verdict(name, index, False, reason=base.reason, event=base)
        gen_cfg = {**(generation_config or {}), **dict(self.specs[index].get("generation_config") or {})}
        if logprobs is not None:
            gen_cfg.update({"logprobs": True, "top_logprobs": int(logprobs)})
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.cfg.judge_worker_num)
        attempt = 0
        started = time.perf_counter()

        def attempted(n: int) -> None:
            nonlocal attempt, started
            attempt, started = n, time.perf_counter()
            self.calls += 1

        try:
            async with self._limiter:
                timeout = self.specs[index].get("timeout", self.cfg.timeout)
                result = await call_model(
                    self._model(index),
                    GenerateRequest(sample_id=sample.sample_id, messages=msgs, generation_config=gen_cfg),
                    retries=self.cfg.retries,
                    timeout=float(timeout) if timeout else None,
                    on_attempt=attempted,
                )
        except AssayError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed judge call is a counted judge failure
            base.status = "judge_failed"
            base.attempt = max(1, attempt)
            base.latency = time.perf_counter() - started
            if isinstance(exc, TimeoutError):
                base.reason = "judge call: no answer within the timeout"
            else:
                base.reason = f"judge call failed after {attempt} attempt(s): {str(exc)[:500] or type(exc).__name__}"
            self.run.emit(base)
            self.run.flush()
            self._stop_if_systematic(exc, name)
            return Verdict(name, index, False, reason=base.reason, event=base)
        self._watch.success()
        base.output = result.output
        base.usage = result.usage
        base.logprobs = result.logprobs
        base.attempt = attempt
        base.latency = time.perf_counter() - started
        base.request_ids = list(result.request_ids)
        verdict = self._parse(name, index, result.output, result.logprobs, parse)
        base.label, base.value = verdict.label, verdict.value
        if not verdict.ok:
            base.status, base.reason = "judge_failed", verdict.reason
        self.run.emit(base)
        self.run.flush()  # a verdict paid for is on disk before anything else: resume never asks again
        verdict.event = base
        return verdict

    def _stop_if_systematic(self, exc: Exception, name: str) -> None:
        from assay.failures import RunFailed

        try:
            self._watch.failure(exc)
        except RunFailed:
            url = getattr(exc, "url", None)
            raise RunFailed(
                f"the run stopped: the first {self._watch.count} judge calls to {name!r} all failed the same way "
                f"and none succeeded: {(url + ': ') if url else ''}{exc}; check judge_model_args (api_url, api_key, "
                "model_id), then `assay resume` the run with --judge-model-args (failed calls are asked again)"
            ) from None

    @staticmethod
    def _parse(name: str, index: int, output: str, logprobs: Any, parse: Parser) -> Verdict:
        try:
            parsed = parse(output, logprobs)
        except Exception as exc:  # noqa: BLE001 - a parser that raises: the verdict is unparseable
            parsed = None
            why = f"unparseable verdict ({type(exc).__name__}: {exc})"
        else:
            why = "unparseable verdict"
        if parsed is None or (parsed.label is None and parsed.value is None):
            shown = output if len(output) <= 200 else output[:200] + "..."
            return Verdict(name, index, False, output=output, reason=f"{why}: {shown!r}", logprobs=logprobs)
        return Verdict(name, index, True, label=parsed.label, value=parsed.value, output=output, logprobs=logprobs)

    def _read(self, logged: Judged, parse: Parser) -> Verdict:
        """A logged verdict: a failed call stays failed; an answer is read again by the current parser."""
        if logged.status != "ok" and not logged.output and logged.label is None and logged.value is None:
            return Verdict(logged.judge, logged.judge_index, False, reason=logged.reason, event=logged)
        verdict = self._parse(logged.judge, logged.judge_index, logged.output, logged.logprobs, parse)
        verdict.event = logged
        return verdict


def attrs_evolve_judged(logged: Judged, verdict: Verdict, source: str) -> Judged:
    import msgspec

    return msgspec.structs.replace(
        logged,
        label=verdict.label,
        value=verdict.value,
        status="ok" if verdict.ok else "judge_failed",
        reason=None if verdict.ok else verdict.reason,
        reused_from=source,
    )


@attrs.define
class JudgeView:
    """What a scorer receives: the run's :class:`Judge` with the scorer's name filled in."""

    judge: Judge
    scorer: str

    @property
    def strategy(self) -> str:
        return self.judge.strategy

    @property
    def configured(self) -> bool:
        return self.judge.configured

    def prompt_template(self, default: str) -> str:
        return self.judge.prompt_template(default)

    @property
    def options(self) -> list[dict[str, Any]]:
        """Each judge's settings without its key (``score_type``, ``generation_config``...)."""
        return [{k: v for k, v in spec.items() if k != "api_key"} for spec in self.judge.specs]

    async def ask(self, sample: Any, messages: str | list[dict[str, Any]], **kwargs: Any) -> JudgeResult:
        kwargs.setdefault("scorer", self.scorer)
        return await self.judge.ask(sample, messages, **kwargs)
