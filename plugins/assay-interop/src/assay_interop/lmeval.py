"""lm-evaluation-harness ``--output_path DIR --log_samples`` results.

The layout (``lm_eval/loggers/evaluation_tracker.py``)::

    DIR/<model_name_sanitized>/results_<date>.json           results {task: {"alias", "<metric>,<filter>": v,
                                                              "<metric>_stderr,<filter>": se}}, n-samples, config...
    DIR/<model_name_sanitized>/samples_<task>_<date>.jsonl   one line per (doc, filter): doc_id, doc, target (str),
                                                              arguments {gen_args_i: {arg_j}}, resps, filtered_resps,
                                                              filter, metrics [names], <metric>: value, doc_hash...

A document is one assay sample (benchmark = the task, subset ``default``, id = ``doc_id``); each of its
lines (one per filter: ``strict-match``, ``flexible-extract``, ``none``) adds its metrics, named as lm-eval
names its figures (``exact_match,strict-match``), so each report row is one of lm-eval's own figures. The
response (``resps[0][0]``) is the output; each filter's filtered response is that metric's extracted answer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assay.api import AssayError
from assay_datasets import read_json, read_jsonl

from .common import Imported, as_float, name_part

_SAMPLES = re.compile(r"^samples_(?P<task>.+)_(?P<date>\d{4}-\d{2}-\d{2}T[\d\-.]+)\.jsonl$")
_RESULTS = re.compile(r"^results_(?P<date>\d{4}-\d{2}-\d{2}T[\d\-.]+)\.json$")


def find_files(path: Path) -> tuple[Path | None, list[Path]]:
    """(the latest results JSON, the samples files of that same run) under ``path`` (the --output_path
    directory, the model's directory, or a results file)."""
    if path.is_file():
        m = _RESULTS.match(path.name)
        folder, date = path.parent, (m.group("date") if m else None)
    else:
        folder = path
        subdirs = [p for p in path.iterdir() if p.is_dir() and any(p.glob("samples_*.jsonl"))]
        if not any(path.glob("samples_*.jsonl")) and len(subdirs) == 1:
            folder = subdirs[0]
        elif not any(path.glob("samples_*.jsonl")) and subdirs:
            raise AssayError(f"{path} holds results of several models ({', '.join(p.name for p in subdirs)}); name one")
        results = sorted(folder.glob("results_*.json"))
        date = _RESULTS.match(results[-1].name).group("date") if results and _RESULTS.match(results[-1].name) else None
    samples = []
    for f in sorted(folder.glob("samples_*.jsonl")):
        m = _SAMPLES.match(f.name)
        if m and (date is None or m.group("date") == date):
            samples.append(f)
    if not samples:
        raise AssayError(f"{path}: no lm-eval samples_<task>_<date>.jsonl files (run lm-eval with --log_samples)")
    result = folder / f"results_{date}.json" if date else None
    return (result if result is not None and result.exists() else None), samples


def _prompt(arguments: Any) -> str | None:
    # saved as {"gen_args_0": {"arg_0": context, "arg_1": gen_kwargs | continuation}}, or as a list
    if isinstance(arguments, dict):
        first = arguments.get("gen_args_0") or {}
        return None if first.get("arg_0") is None else str(first.get("arg_0"))
    if isinstance(arguments, list) and arguments and isinstance(arguments[0], list) and arguments[0]:
        return str(arguments[0][0])
    return None


def read_output(path: Path) -> tuple[str, list[Imported], dict[str, Any]]:
    results_file, sample_files = find_files(path)
    results = read_json(results_file) if results_file else {}
    model = str(results.get("model_name") or (results.get("config") or {}).get("model_args") or "lm-eval")
    samples: dict[tuple[str, Any], Imported] = {}
    for f in sample_files:
        task = _SAMPLES.match(f.name).group("task")
        for n, row in read_jsonl(f):
            where = f"{f}:{n}"
            metrics = row.get("metrics")
            if not isinstance(metrics, list):  # older logs: every numeric key that is not bookkeeping
                skip = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "doc_hash",
                        "prompt_hash", "target_hash"}  # fmt: skip
                metrics = [k for k, v in row.items() if k not in skip and isinstance(v, int | float)]
            flt = str(row.get("filter") or "none")
            s = samples.get((task, row.get("doc_id")))
            if s is None:  # the first filter's line of this document
                resps = row.get("resps") or []
                first = resps[0] if resps else None
                output = first[0] if isinstance(first, list) and first else first
                s = samples[(task, row.get("doc_id"))] = Imported(
                    benchmark=name_part(task),
                    subset="default",
                    local_id=str(row.get("doc_id")),
                    prompt=_prompt(row.get("arguments")),
                    target=row.get("target"),
                    metadata={"doc": row.get("doc"), "doc_hash": row.get("doc_hash")},
                    model=model,
                    output=None if output is None else str(output),
                    scorer="lm-eval",
                )
            filtered = row.get("filtered_resps") or []
            answer = filtered[0] if len(filtered) == 1 else filtered
            for m in metrics:
                if m in row:  # named as lm-eval names its figures: "<metric>,<filter>"
                    s.scores[f"{m},{flt}"] = as_float(row[m], where)
                    s.extracted[f"{m},{flt}"] = answer
    reported = {
        task: {k: v for k, v in figures.items() if k != "alias"}
        for task, figures in (results.get("results") or {}).items()
    }
    return model, list(samples.values()), reported
