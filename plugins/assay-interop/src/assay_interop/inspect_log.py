"""inspect_ai logs: ``.eval`` (a zip: header.json, samples/<id>_epoch_<n>.json, summaries.json...) and
``.json`` (one EvalLog: version, status, eval, plan, results, stats, samples).

Each sample's ``scores`` maps a scorer name to a Score (``value``, ``answer``, ``explanation``); a
value is turned into a number as inspect's ``value_to_float`` does ("C" 1, "P" 0.5, "I" and "N" 0,
yes/true 1, no/false 0, numbers as they are); a dict value gives one metric per key. The benchmark is
the task name (without its package, ``inspect_evals/``), the metric the scorer's name, so the report's
row is the mean that inspect reports as the scorer's ``accuracy``. A sample with an ``error`` is an
errored sample (inspect leaves it out of its metrics; assay counts it as 0 unless --ignore-errors).
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path
from typing import Any

from assay.api import AssayError
from assay_datasets import read_json
from assay.events import Usage

from .common import Imported, name_part


def value_to_float(value: Any) -> float:
    if isinstance(value, bool | int | float):
        v = float(value)
        return v if math.isfinite(v) else 0.0
    if value == "C":
        return 1.0
    if value == "P":
        return 0.5
    if value in ("I", "N"):
        return 0.0
    if isinstance(value, str):
        low = value.lower()
        if low in ("yes", "true"):
            return 1.0
        if low in ("no", "false"):
            return 0.0
        try:
            v = float(low)
        except ValueError:
            return 0.0
        return v if math.isfinite(v) else 0.0
    return 0.0


def _load(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if path.suffix == ".json":
        log = read_json(path)
        return log, list(log.get("samples") or [])
    if path.suffix != ".eval":
        raise AssayError(f"{path}: an inspect log ends in .eval or .json")
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            header = (
                json.loads(z.read("header.json"))
                if "header.json" in names
                else json.loads(z.read("_journal/start.json"))
            )
            samples = [json.loads(z.read(n)) for n in names if n.startswith("samples/") and n.endswith(".json")]
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise AssayError(f"{path}: not a readable inspect .eval log ({exc})") from None
    samples.sort(key=lambda s: (int(s.get("epoch") or 1), _order(s.get("id"))))
    return header, samples


def _order(sid: Any) -> tuple[int, Any]:
    return (0, sid) if isinstance(sid, int) else (1, str(sid))


def _text(content: Any) -> tuple[str, str | None]:
    if content is None:
        return "", None
    if isinstance(content, str):
        return content, None
    texts, reasoning = [], []
    for part in content:
        if isinstance(part, dict):
            if part.get("type") == "text":
                texts.append(str(part.get("text", "")))
            elif part.get("type") == "reasoning":
                reasoning.append(str(part.get("reasoning", "")))
    return "".join(texts), ("".join(reasoning) if reasoning else None)


def read_log(path: Path) -> tuple[str, list[Imported], dict[str, Any]]:
    log, raw = _load(path)
    ev = log.get("eval") or {}
    task = name_part(str(ev.get("task") or path.stem).rsplit("/", 1)[-1])
    model = str(ev.get("model") or "inspect")
    samples = []
    for s in raw:
        epoch = int(s.get("epoch") or 1)
        inp = s.get("input")
        if isinstance(inp, list):
            messages = [{"role": m.get("role", "user"), "content": _text(m.get("content"))[0]} for m in inp]
        else:
            messages = [
                {"role": m.get("role", "user"), "content": _text(m.get("content"))[0]}
                for m in (s.get("messages") or [])
                if m.get("role") != "assistant"
            ] or [{"role": "user", "content": str(inp or "")}]
        target = s.get("target")
        if isinstance(target, list) and len(target) == 1:
            target = target[0]
        out = s.get("output") or {}
        choice = (out.get("choices") or [None])[0]
        output = reasoning = None
        if choice:
            output, reasoning = _text((choice.get("message") or {}).get("content"))
        u = out.get("usage")
        item = Imported(
            benchmark=task,
            subset="default",
            local_id=name_part(s.get("id")),
            repeat=epoch - 1,
            messages=messages,
            choices=s.get("choices") or None,
            target=target,
            metadata=dict(s.get("metadata") or {}),
            model=model,
            output=output,
            reasoning=reasoning,
            finish_reason=(choice or {}).get("stop_reason"),
            latency=out.get("time"),
            usage=None
            if not u
            else Usage(
                prompt_tokens=u.get("input_tokens"),
                completion_tokens=u.get("output_tokens"),
                total_tokens=u.get("total_tokens"),
                reasoning_tokens=u.get("reasoning_tokens"),
            ),
            scorer="inspect",
        )
        for scorer, score in (s.get("scores") or {}).items():
            value = (score or {}).get("value")
            if isinstance(value, dict):
                for k, v in value.items():
                    item.scores[f"{scorer}_{k}"] = value_to_float(v)
                    item.extracted[f"{scorer}_{k}"] = score.get("answer")
            else:
                item.scores[scorer] = value_to_float(value)
                item.extracted[scorer] = score.get("answer")
            item.explanation = score.get("explanation")
        err = s.get("error")
        if err:
            message = err.get("message") if isinstance(err, dict) else str(err)
            item.error = ("InspectError", str(message))
            item.scores = {}
            if not output:
                item.output = None
        samples.append(item)
    reported = {
        r.get("name"): {k: (m or {}).get("value") for k, m in (r.get("metrics") or {}).items()}
        for r in ((log.get("results") or {}).get("scores") or [])
    }
    reported["status"] = log.get("status")
    return model, samples, reported
