"""EvalScope's output tree, both ways.

The layout (EvalScope 1.x, ``evalscope/utils/io_utils.py:OutputsStructure`` and
``evalscope/api/evaluator/cache.py``)::

    <run>/configs/task_config_*.yaml
    <run>/predictions/<model>/<dataset>_<subset>.jsonl   ModelResult: index, model, model_output, messages, metadata
    <run>/reviews/<model>/<dataset>_<subset>.jsonl       ReviewResult: index, input (<=1.1) / messages, target,
                                                         sample_score {score {value {metric: v}, extracted_prediction,
                                                         prediction, explanation, metadata, main_score_name},
                                                         sample_id, group_id, sample_metadata}
    <run>/reports/<model>/<dataset>.json                  Report: name, dataset_name, model_name, score, metrics
                                                         [{name: "mean_<metric>", num, score, macro_score, categories
                                                         [{name: [..], num, score, macro_score, subsets [{name, score, num}]}]}]

An exported run keeps assay's own ids and scorer names in ``metadata.assay`` of each line, so that
importing it back gives the same samples, ids and report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assay.api import AssayError
from assay_datasets import read_json
from assay.events import Usage

from .common import Imported, as_float, name_part

_STOP = {"length": "max_tokens", "stop": "stop", "tool_calls": "tool_calls", "content_filter": "content_filter"}
_FINISH = {v: k for k, v in _STOP.items()}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    from assay_datasets import read_jsonl

    return [obj for _, obj in read_jsonl(path, allow_empty=True)]


def _text_of(content: Any) -> tuple[str, str | None]:
    """(text, reasoning) of a ChatMessage's content: a string, or a list of typed parts."""
    if content is None:
        return "", None
    if isinstance(content, str):
        return content, None
    texts, reasoning = [], []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            texts.append(str(part.get("text", "")))
        elif part.get("type") == "reasoning":
            reasoning.append(str(part.get("reasoning", "")))
    return "".join(texts), ("".join(reasoning) if reasoning else None)


def _plain_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for m in messages:
        text, _ = _text_of(m.get("content"))
        out.append({"role": m.get("role", "user"), "content": text})
    return out


def find_tree(path: Path) -> Path:
    """The run directory: ``path`` itself, or its one timestamped child holding predictions/ or reviews/."""
    if (path / "reviews").is_dir() or (path / "predictions").is_dir():
        return path
    if path.is_dir():
        runs = sorted(p for p in path.iterdir() if (p / "reviews").is_dir() or (p / "predictions").is_dir())
        if len(runs) == 1:
            return runs[0]
        if runs:
            names = ", ".join(p.name for p in runs)
            raise AssayError(f"{path} holds {len(runs)} EvalScope runs ({names}); name one of them")
    raise AssayError(f"{path}: not an EvalScope output directory (no predictions/ or reviews/ in it or in a child)")


def _split_name(stem: str, datasets: list[str]) -> tuple[str, str]:
    """``<dataset>_<subset>`` with the dataset known from reports/ (the longest that fits), else the
    installed assay benchmarks, else the part before the first underscore."""
    for name in sorted(datasets, key=len, reverse=True):
        if stem.startswith(name + "_"):
            return name, stem[len(name) + 1 :]
    if "_" not in stem:
        return stem, "default"
    from assay.plugins import host

    for name in sorted(host().benchmarks(), key=len, reverse=True):
        if stem.startswith(name + "_"):
            return name, stem[len(name) + 1 :]
    dataset, subset = stem.split("_", 1)
    return dataset, subset


def read_tree(path: Path, model: str | None = None) -> tuple[str, list[Imported], dict[str, Any]]:
    """(model, samples, the tree's own reports) of an EvalScope run directory."""
    root = find_tree(path)
    models = sorted(
        {p.name for d in ("predictions", "reviews") if (root / d).is_dir() for p in (root / d).iterdir() if p.is_dir()}
    )
    if model is None:
        if len(models) != 1:
            raise AssayError(
                f"{root} holds results of {len(models)} models ({', '.join(models)}); pick one with --model"
            )
        model = models[0]
    elif model not in models:
        raise AssayError(f"{root}: no results of model {model!r} (it holds {', '.join(models) or 'none'})")
    reports: dict[str, Any] = {}
    for f in sorted((root / "reports" / model).glob("*.json")):
        data = read_json(f)
        reports[data.get("dataset_name") or f.stem] = data
    stems = sorted(
        {f.stem for d in ("predictions", "reviews") for f in (root / d / model).glob("*.jsonl")},
    )
    samples: list[Imported] = []
    for stem in stems:
        dataset, subset = _split_name(stem, list(reports))
        preds = {}
        pred_file = root / "predictions" / model / f"{stem}.jsonl"
        if pred_file.exists():
            preds = {r["index"]: r for r in _jsonl(pred_file)}
        reviews = {}
        review_file = root / "reviews" / model / f"{stem}.jsonl"
        if review_file.exists():
            reviews = {r["index"]: r for r in _jsonl(review_file)}
        for index in list(preds) + [i for i in reviews if i not in preds]:
            samples.append(_sample(dataset, subset, index, preds.get(index), reviews.get(index), model, stem))
    return model, samples, reports


def _sample(
    dataset: str, subset: str, index: Any, pred: dict | None, review: dict | None, model: str, stem: str
) -> Imported:
    where = f"{stem}.jsonl index {index}"
    meta = dict((pred or {}).get("metadata") or (review or {}).get("sample_score", {}).get("sample_metadata") or {})
    mine = meta.pop("assay", None) or {}
    s = Imported(
        benchmark=mine.get("benchmark") or name_part(dataset),
        subset=mine.get("subset") or name_part(subset),
        local_id=str(mine.get("local_id", index)),
        repeat=int(mine.get("repeat", 0)),
        sample_id=mine.get("sample_id"),
        category=mine.get("category"),
        scorers=list(mine.get("scorers") or []),
        choices=mine.get("choices"),
        metadata=meta,
        model=model,
    )
    messages = (pred or {}).get("messages") or (review or {}).get("messages") or []
    if any(m.get("source") for m in messages):  # EvalScope marks what it sent (input) and got (generate)
        inputs = [m for m in messages if m.get("source") != "generate"]
    else:
        inputs = messages[:-1] if messages and messages[-1].get("role") == "assistant" else messages
    if mine.get("prompt") is not None:
        s.prompt = mine["prompt"]
    elif inputs:
        s.messages = _plain_messages(inputs)
    elif review and review.get("input"):
        s.messages = [{"role": "user", "content": review["input"]}]
    s.target = mine["target"] if "target" in mine else (review or {}).get("target")
    if pred is not None:
        out = pred.get("model_output") or {}
        s.model = out.get("model") or pred.get("model") or model
        if mine.get("failure"):  # generated, then a scorer failed (assay's own export)
            s.error = (mine["failure"][0], mine["failure"][1])
        if out.get("error"):
            s.error = (mine.get("error_type") or "ModelError", str(out["error"]))
        else:
            choice = (out.get("choices") or [{}])[0]
            s.output, s.reasoning = _text_of((choice.get("message") or {}).get("content"))
            stop = choice.get("stop_reason")
            s.finish_reason = mine.get("finish_reason") or _FINISH.get(stop, stop)
            s.latency = out.get("time")
            u = out.get("usage")
            if u:
                s.usage = Usage(
                    prompt_tokens=u.get("input_tokens"),
                    completion_tokens=u.get("output_tokens"),
                    total_tokens=u.get("total_tokens"),
                    reasoning_tokens=u.get("reasoning_tokens"),
                )
    if review is not None:
        score = (review.get("sample_score") or {}).get("score") or {}
        s.scores = {str(k): as_float(v, where) for k, v in (score.get("value") or {}).items()}
        s.scorer = mine.get("scorer") or "evalscope"
        extracted = mine.get("extracted") or {}
        s.extracted = {m: extracted.get(m, score.get("extracted_prediction")) for m in s.scores}
        s.explanation = score.get("explanation")
        if s.output is None and score.get("prediction") is not None:
            s.output = str(score["prediction"])
    return s


# ---- export ------------------------------------------------------------------------------------------


def _round(v: float | None) -> float:
    return 0.0 if v is None else round(float(v), 4)  # as EvalScope's normalize_score


def export_tree(run: Path, out: Path) -> dict[str, int]:
    """Write EvalScope's output tree for one assay eval run; returns counts of what was written."""
    import yaml
    from assay.events import BodyRegistry
    from assay.log import existing_log, iter_events
    from assay.report import build_report

    path = existing_log(run)
    report = build_report(path)
    if report.get("kind", "eval") != "eval":
        raise AssayError(f"{path}: only eval runs export to EvalScope's layout (this is a {report['kind']!r} run)")
    config: dict[str, Any] = {}
    samples: dict[str, dict[str, Any]] = {}
    for ev in iter_events(
        path,
        BodyRegistry(),
        types={"RunStarted", "SampleLoaded", "Generated", "Scored", "SampleFailed"},
    ):
        b = ev.body
        if ev.type == "RunStarted":
            config = dict(b.config)
            continue
        s = samples.setdefault(b.sample_id, {"scores": [], "failures": []})
        if ev.type == "SampleLoaded":
            s["loaded"] = b
        elif ev.type == "Generated":
            s["generated"] = b
            s["failures"] = [f for f in s["failures"] if f.stage != "generate"]
        elif ev.type == "Scored":
            s["scores"].append(b)
        elif ev.type == "SampleFailed":
            s["failures"].append(b)
    model = str(report.get("model") or config.get("model") or "model")
    model_dir = name_part(model.rstrip("/").rsplit("/", 1)[-1])
    if out.exists() and any(out.iterdir()):
        raise AssayError(f"{out} is not empty; export into a new directory")
    for d in ("configs", "logs", "predictions", "reviews", "reports"):
        (out / d).mkdir(parents=True, exist_ok=True)
    (out / "configs" / f"task_config_{report.get('run_id') or 'assay'}.yaml").write_text(
        yaml.safe_dump({**config, "model_id": model, "exported_from": str(path.parent)}, allow_unicode=True),
        encoding="utf-8",
    )
    files: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    counters: dict[tuple[str, str], int] = {}
    for sid, s in samples.items():
        loaded = s.get("loaded")
        if loaded is None:
            continue
        key = (loaded.benchmark, loaded.subset)
        index = counters.get(key, 0)
        counters[key] = index + 1
        preds, reviews = files.setdefault(key, ([], []))
        gen = s.get("generated")
        mine: dict[str, Any] = {
            "sample_id": sid,
            "benchmark": loaded.benchmark,
            "subset": loaded.subset,
            "local_id": loaded.local_id,
            "repeat": loaded.repeat,
            "target": loaded.target,
            "scorers": loaded.scorers,
        }
        for k in ("category", "choices", "prompt"):
            if getattr(loaded, k) is not None:
                mine[k] = getattr(loaded, k)
        inputs = list(loaded.messages or [{"role": "user", "content": loaded.prompt or ""}])
        inputs = [{**m, "source": "input"} for m in inputs]
        final = [f for f in s["failures"] if f.final]
        if gen is not None:
            content: Any = gen.output
            if gen.reasoning:
                content = [{"type": "reasoning", "reasoning": gen.reasoning}, {"type": "text", "text": gen.output}]
            if gen.finish_reason and gen.finish_reason not in _STOP:
                mine["finish_reason"] = gen.finish_reason
            assistant = {"role": "assistant", "content": content, "source": "generate", "model": gen.model}
            u = gen.usage
            model_output: dict[str, Any] = {
                "model": gen.model,
                "choices": [{"message": assistant, "stop_reason": _STOP.get(gen.finish_reason or "", "unknown")}],
                "usage": None
                if u is None
                else {
                    "input_tokens": u.prompt_tokens or 0,
                    "output_tokens": u.completion_tokens or 0,
                    "total_tokens": u.total_tokens or 0,
                    "reasoning_tokens": u.reasoning_tokens,
                },
                "time": gen.latency,
                "metadata": None,
                "error": None,
            }
            messages = [*inputs, assistant]
            if final and not s["scores"]:
                mine["failure"] = [final[-1].error_type, final[-1].message]
        elif final:
            mine["error_type"] = final[-1].error_type
            model_output = {"model": model, "choices": [], "usage": None, "time": None, "metadata": None}
            model_output["error"] = final[-1].message
            messages = inputs
        else:
            continue  # loaded, never generated nor failed: nothing to write
        preds.append(
            json.dumps(
                {
                    "index": index,
                    "model": model,
                    "model_output": model_output,
                    "messages": messages,
                    "metadata": {**loaded.metadata, "assay": mine},
                },
                ensure_ascii=False,
                default=str,
            )
        )
        if s["scores"]:
            scored = s["scores"]
            mine_r = {
                **mine,
                "scorer": scored[0].scorer,
                "extracted": {x.metric: x.extracted for x in scored},
            }
            first = scored[0]
            review = {
                "index": index,
                "input": "\n\n".join(str(m.get("content", "")) for m in inputs),
                "target": None if loaded.target is None else str(loaded.target),
                "messages": messages,
                "sample_score": {
                    "score": {
                        "value": {x.metric: x.value for x in scored},
                        "extracted_prediction": None if first.extracted is None else str(first.extracted),
                        "prediction": gen.output if gen is not None else None,
                        "explanation": first.explanation,
                        "metadata": {},
                        "main_score_name": first.metric,
                    },
                    "sample_id": index,
                    "group_id": index,
                    "sample_metadata": {**loaded.metadata, "assay": mine_r},
                },
            }
            reviews.append(json.dumps(review, ensure_ascii=False, default=str))
    for (bench, subset), (preds, reviews) in files.items():
        for kind, lines in (("predictions", preds), ("reviews", reviews)):
            if lines:
                f = out / kind / model_dir / f"{bench}_{subset}.jsonl"
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    n_reports = _write_reports(report, model, model_dir, out)
    return {
        "samples": sum(counters.values()),
        "predictions": sum(len(p) for p, _ in files.values()),
        "reviews": sum(len(r) for _, r in files.values()),
        "reports": n_reports,
    }


def _write_reports(report: dict[str, Any], model: str, model_dir: str, out: Path) -> int:
    """reports/<model>/<dataset>.json from the report's subset rows (the OVERALL rows are EvalScope's means)."""
    by_dataset: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for r in report.get("rows", []):
        if r.get("average") is None and r.get("score") is not None:
            by_dataset.setdefault(r["dataset"], {}).setdefault(r["metric"], []).append(r)
    for dataset, metrics in by_dataset.items():
        out_metrics = []
        for metric, rows in metrics.items():
            cats: dict[str, list[dict[str, Any]]] = {}
            for r in rows:
                cats.setdefault(r["category"], []).append(r)
            categories = []
            for cat, rs in cats.items():
                num = sum(r["num"] for r in rs)
                categories.append(
                    {
                        "name": [cat],
                        "num": num,
                        "score": _round(sum(r["score"] * r["num"] for r in rs) / num if num else 0.0),
                        "macro_score": _round(sum(r["score"] for r in rs) / len(rs)),
                        "subsets": [{"name": r["subset"], "score": _round(r["score"]), "num": r["num"]} for r in rs],
                    }
                )
            num = sum(c["num"] for c in categories)
            out_metrics.append(
                {
                    "name": f"mean_{metric}",
                    "num": num,
                    "score": _round(sum(r["score"] * r["num"] for r in rows) / num if num else 0.0),
                    "macro_score": _round(sum(c["score"] for c in categories) / len(categories)),
                    "categories": categories,
                }
            )
        data = {
            "name": f"{model}@{dataset}",
            "dataset_name": dataset,
            "dataset_pretty_name": dataset,
            "dataset_description": "",
            "model_name": model,
            "score": out_metrics[0]["score"],
            "metrics": out_metrics,
            "analysis": "N/A",
        }
        f = out / "reports" / model_dir / f"{dataset}.json"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(data, indent=4, ensure_ascii=False), encoding="utf-8")
    return len(by_dataset)
