"""The two folds the HTML report needs beyond the report dict: the samples (for the sample browser) and
the raw request times of a perf run (for the distribution and over-time charts).

The score tables come from the kernel's report and the other reporters' sections, never from here.
"""

from __future__ import annotations

import json
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


def fold_samples(path: Path) -> dict[str, Any]:
    """Every sample of an eval log: input, output, reasoning, scores, errors, and a status
    (``passed``/``failed`` by its first metric, ``errored`` when it failed and has no score).

    At most MAX_SAMPLES samples and MAX_CHARS characters of their text are kept (the first ones in the
    log); the samples left out are counted in ``not_shown``."""
    from assay.log import decode_blocks

    samples: dict[str, dict[str, Any]] = {}
    dropped = 0
    chars = 0
    decoder = msgspec.json.Decoder(_Line)
    for lines in decode_blocks(path, decoder, strict_types=set()):
        for line in lines:
            t, b = line.type, line.body
            if t not in _SAMPLE_TYPES or b.sample_id is None:
                continue
            s = samples.get(b.sample_id)
            if s is None:
                if len(samples) >= MAX_SAMPLES or chars > MAX_CHARS:
                    dropped += t == "SampleLoaded"
                    continue
                s = samples[b.sample_id] = {
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
                chars += len(s["input"])
                s["target"] = _cut(b.target)
                if b.choices:
                    s["choices"] = [_cut(c) for c in b.choices]
            elif t == "Generated":
                s["output"] = _cut(b.output)
                s["reasoning"] = _cut(b.reasoning)
                chars += len(s["output"]) + len(s["reasoning"])
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
    out = []
    for s in samples.values():
        if s["scores"]:
            first = s["scores"][0]["value"]
            s["status"] = "passed" if first >= 0.5 else "failed"
            s["score"] = first
        elif s["errors"]:
            s["status"] = "errored"
        else:
            s["status"] = "pending"
        out.append(s)
    return {"samples": out, "not_shown": dropped}


def fold_requests(path: Path) -> dict[str, Any]:
    """Per sweep point, each measured request's TTFT and latency, and completions over run time."""
    from assay.log import decode_blocks

    points: dict[str, dict[str, Any]] = {}
    t0 = None
    # flat arrays of doubles (8 bytes a value): a million requests stay small
    ends, tokens = array("d"), array("d")  # end and output tokens of each succeeded request
    for lines in decode_blocks(path, msgspec.json.Decoder(_Line), strict_types=set()):
        for line in lines:
            b = line.body
            if line.type != "RequestTimed" or b.phase != "measure" or b.sent is None or b.end is None:
                continue
            origin = b.scheduled if b.scheduled is not None else b.sent
            t0 = origin if t0 is None else min(t0, origin)
            key = "null" if b.point is None else json.dumps(b.point, sort_keys=True)  # an eval's requests: one point
            p = points.setdefault(key, {"point": b.point, "ttft": array("d"), "e2e": array("d")})
            if not b.ok:
                continue
            if b.chunk_times:
                p["ttft"].append(b.chunk_times[0] - b.sent)
                p["e2e"].append(b.chunk_times[-1] - b.sent)
            ends.append(b.end)
            tokens.append(b.output_tokens or 0)
    timeline = []
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
    return {"points": list(points.values()), "timeline": timeline}
