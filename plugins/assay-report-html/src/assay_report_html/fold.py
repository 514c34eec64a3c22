"""The two folds the HTML report needs beyond the report dict: the samples (for the sample browser) and
the raw request times of a perf run (for the distribution and over-time charts).

The score tables come from the kernel's report and the other reporters' sections, never from here.
"""

from __future__ import annotations

import json
import math
from array import array
from pathlib import Path
from typing import Any

import msgspec

MAX_SAMPLES = 50_000  # samples embedded in one file; the rest are counted
MAX_TEXT = 20_000  # characters kept of one text field (input, output, reasoning)
MAX_CHARS = 64_000_000  # characters of sample text in one file, all samples together


class _Body(msgspec.Struct):
    sample_id: str | None = None
    benchmark: str | None = None
    subset: str = "default"
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    choices: list[Any] | None = None
    target: Any = None
    output: str | None = None
    reasoning: str | None = None
    latency: float | None = None
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    metric: str | None = None
    value: float | None = None
    extracted: Any = None
    explanation: str | None = None
    scorer: str | None = None
    stage: str | None = None
    error_type: str | None = None
    error_kind: str | None = None
    message: str | None = None
    final: bool = True
    verdict: str | None = None
    reason: str | None = None
    # RequestTimed
    sent: float | None = None
    scheduled: float | None = None
    chunk_times: list[float] = []
    end: float | None = None
    ok: bool = True
    output_tokens: int | None = None
    phase: str = "measure"
    point: dict[str, Any] = {}
    self_driven: bool = False


class _Line(msgspec.Struct):
    type: str
    body: _Body


_SAMPLE_TYPES = {"SampleLoaded", "Generated", "Scored", "SampleFailed", "Executed"}


def _cut(text: Any) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        if type(text) is int or (type(text) is float and math.isfinite(text)):
            return repr(text)  # what json.dumps writes for them (an extracted answer is often a number)
        text = json.dumps(text, ensure_ascii=False, default=str)
    if len(text) > MAX_TEXT:
        return text[:MAX_TEXT] + f"\n[... {len(text) - MAX_TEXT} more characters not shown]"
    return text


def _input(b: _Body) -> str:
    if b.messages:
        parts = []
        for m in b.messages:
            content = m.get("content")
            if isinstance(content, list):  # multi-part content: its text parts
                content = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            parts.append(f"[{m.get('role', '?')}]\n{content}")
        return "\n\n".join(parts)
    return b.prompt or ""


class RunFold:
    """Both folds in one read of the log: fed a block of lines at a time, by :func:`fold_run` or by the
    kernel's one read at the end of a run (``HtmlReporter.pass_fold``, :func:`assay.log.fold_together`)."""

    line = _Line
    strict_types: set[str] = set()  # another plugin's event with clashing fields is skipped

    def __init__(self) -> None:
        self.samples: dict[str, dict[str, Any]] = {}
        self.dropped = 0
        self.chars = 0
        self.points: dict[str, dict[str, Any]] = {}
        self.t0: float | None = None
        # flat arrays of doubles (8 bytes a value): a million requests stay small
        self.ends, self.tokens = array("d"), array("d")  # end and output tokens of each succeeded request

    def feed(self, lines: list[Any]) -> None:
        for line in lines:
            t = line.type
            if t == "RequestTimed":
                self._request(line.body)
            elif t in _SAMPLE_TYPES and line.body.sample_id is not None:
                self._sample(t, line.body)

    def result(self, torn: Any = None) -> dict[str, Any]:
        return {**self.sample_result(), "requests": self.request_result()}

    def _sample(self, t: str, b: _Body) -> None:
        s = self.samples.get(b.sample_id)
        if s is None:
            if len(self.samples) >= MAX_SAMPLES or self.chars > MAX_CHARS:
                self.dropped += t == "SampleLoaded"
                return
            s = self.samples[b.sample_id] = {
                "id": b.sample_id,
                "benchmark": b.benchmark or b.sample_id.split("/", 1)[0],
                "subset": b.subset,
                "input": "",
                "target": "",
                "output": "",
                "reasoning": "",
                "scores": [],
                "errors": [],
            }
        if t == "SampleLoaded":
            s["benchmark"], s["subset"] = b.benchmark or s["benchmark"], b.subset
            s["input"] = _cut(_input(b))
            self.chars += len(s["input"])
            s["target"] = _cut(b.target)
            if b.choices:
                s["choices"] = [_cut(c) for c in b.choices]
        elif t == "Generated":
            s["output"] = _cut(b.output)
            s["reasoning"] = _cut(b.reasoning)
            self.chars += len(s["output"]) + len(s["reasoning"])
            s["latency"] = b.latency
            if b.usage:
                s["tokens"] = b.usage.get("completion_tokens")
            s["errors"] = [e for e in s["errors"] if e["stage"] != "generate"]  # a retry that succeeded
        elif t == "Scored":
            s["scores"].append(
                {
                    "metric": b.metric,
                    "value": b.value,
                    "extracted": _cut(b.extracted),
                    "explanation": _cut(b.explanation),
                }
            )
        elif t == "SampleFailed":
            s["errors"].append(
                {
                    "stage": b.stage or "",
                    "kind": b.error_kind or b.error_type or "error",
                    "message": _cut(b.message),
                }
            )
        elif t == "Executed":
            s.setdefault("executions", []).append(f"{b.verdict}" + (f" ({b.reason})" if b.reason else ""))

    def _request(self, b: _Body) -> None:
        if b.phase != "measure" or b.sent is None or b.end is None:
            return
        origin = b.scheduled if b.scheduled is not None else b.sent
        self.t0 = origin if self.t0 is None else min(self.t0, origin)
        # an eval's requests: the empty point (one key for all, without a json.dumps each; as assay_perf keys them)
        key = json.dumps(b.point, sort_keys=True) if b.point else "{}"
        p = self.points.setdefault(key, {"point": b.point, "ttft": array("d"), "e2e": array("d")})
        if not b.ok:
            return
        if b.chunk_times:
            p["ttft"].append(b.chunk_times[0] - b.sent)
            p["e2e"].append(b.chunk_times[-1] - b.sent)
        self.ends.append(b.end)
        self.tokens.append(b.output_tokens or 0)

    def sample_result(self) -> dict[str, Any]:
        out = []
        for s in self.samples.values():
            if s["scores"]:
                first = s["scores"][0]["value"]
                s["status"] = "passed" if first >= 0.5 else "failed"
                s["score"] = first
            elif s["errors"]:
                s["status"] = "errored"
            else:
                s["status"] = "pending"
            out.append(s)
        return {"samples": out, "not_shown": self.dropped}

    def request_result(self) -> dict[str, Any]:
        timeline = []
        ends, tokens, t0 = self.ends, self.tokens, self.t0
        if ends and t0 is not None:
            span = max(ends) - t0
            width = max(span / 30, 1e-3)  # 30 bins over the run
            bins: dict[int, list[float]] = {}
            for end, n_tokens in zip(ends, tokens):
                k = int((end - t0) / width)
                acc = bins.setdefault(k, [0, 0])
                acc[0] += 1
                acc[1] += n_tokens
            for k in range(max(bins) + 1):
                n, tok = bins.get(k, [0, 0])
                timeline.append(((k + 0.5) * width, n / width, tok / width))
        return {"points": list(self.points.values()), "timeline": timeline}


def fold_run(path: Path) -> dict[str, Any]:
    """:func:`fold_samples` and :func:`fold_requests` in one read: ``samples``, ``not_shown``, ``requests``."""
    from assay.log import decode_blocks

    fold = RunFold()
    for lines in decode_blocks(path, msgspec.json.Decoder(_Line), strict_types=RunFold.strict_types):
        fold.feed(lines)
    return fold.result()


def fold_samples(path: Path) -> dict[str, Any]:
    """Every sample of an eval log: input, output, reasoning, scores, errors, and a status
    (``passed``/``failed`` by its first metric, ``errored`` when it failed and has no score).

    At most MAX_SAMPLES samples and MAX_CHARS characters of their text are kept (the first ones in the
    log); the samples left out are counted in ``not_shown``."""
    folded = fold_run(path)
    return {"samples": folded["samples"], "not_shown": folded["not_shown"]}


def fold_requests(path: Path) -> dict[str, Any]:
    """Per sweep point, each measured request's TTFT and latency, and completions over run time."""
    return fold_run(path)["requests"]
