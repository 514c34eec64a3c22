"""SLA auto-tune (EvalScope's ``--sla-*`` flags): the highest concurrency or rate that meets SLA targets.

``--sla-params`` is a JSON list of constraint groups, each an object ``{metric: condition}``; the
conditions of one group must all hold (AND), and each group gets its own answer. Metrics
(seconds for times, as EvalScope): ``avg_latency``, ``pNN_latency``, ``avg_ttft``, ``pNN_ttft``,
``avg_tpot``, ``pNN_tpot``, ``avg_itl``, ``pNN_itl`` (NN any percentile), ``rps`` (requests/s),
``tps`` (output tokens/s), ``error_rate`` (failed / sent requests). Conditions: ``"<= X"``, ``"< X"``, ``">= X"``, ``"> X"``, or
``"max"`` / ``"min"`` (the measured value of the variable that maximises / minimises the metric
among those meeting the group's other conditions).

A value of the variable is measured ``--sla-num-runs`` times (one sweep point each, with
``number = round(value * --sla-number-multiplier)``); each metric is the mean over those runs.
A value *passes* a group when each averaged metric meets its condition and, unless the group has
an ``error_rate`` condition, no request failed (EvalScope's rule). The search (doubling from the first ``--parallel``/``--rate`` until a value
fails or ``--sla-upper-bound``, halving towards ``--sla-lower-bound`` if the first fails, then
bisection on integers) only chooses what to measure; measured values are reused across groups.
The answer is a projection of the log: the largest passing value below the smallest failing one
(all passing: the largest measured); none when the smallest measured value fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from assay.api import AssayError

_METRIC = re.compile(r"^(avg|p\d+(?:\.\d+)?)_(latency|ttft|tpot|itl)$")
_FIELDS = {"latency": "e2e_latency_s", "ttft": "ttft_s", "tpot": "tpot_s", "itl": "itl_s"}
_COND = re.compile(r"^\s*(<=|<|>=|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


def parse_params(text: Any) -> list[dict[str, tuple[str, float | None]]]:
    """``--sla-params`` (JSON text, a list, or one object) as groups of ``metric -> (op, threshold)``."""
    if isinstance(text, str):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AssayError(f"--sla-params: invalid JSON at column {exc.colno}: {exc.msg}") from None
    else:
        data = text
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data or not all(isinstance(g, dict) and g for g in data):
        raise AssayError('--sla-params: expected a JSON list of objects, e.g. [{"p99_latency": "<=2"}]')
    groups = []
    for g in data:
        group: dict[str, tuple[str, float | None]] = {}
        for metric, cond in g.items():
            if not (_METRIC.match(metric) or metric in ("rps", "tps", "error_rate")):
                raise AssayError(
                    f"--sla-params: unknown metric {metric!r} (avg_/pNN_ + latency, ttft, tpot, itl; rps; tps; "
                    "error_rate)"
                )
            if isinstance(cond, str) and cond.strip().lower() in ("max", "min"):
                group[metric] = (cond.strip().lower(), None)
                continue
            m = _COND.match(str(cond))
            if not m:
                raise AssayError(f"--sla-params: {metric}: {cond!r} is not <=X, <X, >=X, >X, max or min")
            group[metric] = (m.group(1), float(m.group(2)))
        if sum(op in ("max", "min") for op, _ in group.values()) > 1:
            raise AssayError("--sla-params: one max/min objective per group")
        groups.append(group)
    return groups


def percentiles_needed(groups: list[dict[str, tuple[str, float | None]]]) -> list[float]:
    out = []
    for g in groups:
        for metric in g:
            m = _METRIC.match(metric)
            if m and m.group(1) != "avg":
                out.append(float(m.group(1)[1:]))
    return out


def metric_value(summary: dict[str, Any], metric: str) -> float | None:
    """One metric of one point's summary (the perf report's point object)."""
    if metric == "rps":
        return summary.get("request_throughput")
    if metric == "tps":
        return summary.get("output_token_throughput")
    if metric == "error_rate":
        return summary["failed"] / summary["requests"] if summary.get("requests") else None
    m = _METRIC.match(metric)
    assert m, metric
    stats = summary.get(_FIELDS[m.group(2)])
    if not stats:
        return None
    key = "mean" if m.group(1) == "avg" else f"p{float(m.group(1)[1:]):g}"
    return stats.get(key)


def _meets(value: float | None, op: str, x: float | None) -> bool:
    if value is None:
        return False
    if op in ("max", "min"):
        return True
    assert x is not None
    return {"<=": value <= x, "<": value < x, ">=": value >= x, ">": value > x}[op]


def value_of(point: dict[str, Any], variable: str) -> float | None:
    return point.get("rate") if variable == "rate" else point.get("parallel")


def curve(points: list[dict[str, Any]], variable: str, metrics: list[str]) -> list[dict[str, Any]]:
    """Per measured value of the variable: runs, failed requests, and each metric averaged over the runs."""
    by: dict[float, list[dict[str, Any]]] = {}
    for pt in points:
        if "sla_run" not in pt["point"]:
            continue
        v = value_of(pt["point"], variable)
        if v is not None:
            by.setdefault(v, []).append(pt)
    out = []
    for v in sorted(by):
        runs = by[v]
        row: dict[str, Any] = {
            "value": v,
            "runs": len(runs),
            "requests": sum(r["requests"] for r in runs),
            "failed": sum(r["failed"] for r in runs),
        }
        for metric in metrics:
            vals = [metric_value(r, metric) for r in runs]
            row[metric] = None if any(x is None for x in vals) else sum(vals) / len(vals)  # type: ignore[arg-type]
        out.append(row)
    return out


def passes(row: dict[str, Any], group: dict[str, tuple[str, float | None]]) -> bool:
    if row["failed"] and "error_rate" not in group:
        return False
    return all(_meets(row.get(m), op, x) for m, (op, x) in group.items())


def answer(rows: list[dict[str, Any]], group: dict[str, tuple[str, float | None]]) -> float | None:
    """The projection's answer for one group over the measured rows (sorted by value)."""
    objective = next(((m, op) for m, (op, _) in group.items() if op in ("max", "min")), None)
    ok = [r for r in rows if passes(r, group)]
    if objective is not None:
        if not ok:
            return None
        m, op = objective
        best = (max if op == "max" else min)(ok, key=lambda r: r[m])
        return best["value"]
    failing = [r["value"] for r in rows if not passes(r, group)]
    limit = min(failing) if failing else float("inf")
    below = [r["value"] for r in ok if r["value"] < limit]
    return max(below) if below else None


def section(points: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, Any]:
    """The report's ``sla`` section, from the folded points and the logged options."""
    groups = parse_params(config.get("sla_params"))
    variable = config.get("sla_variable") or "parallel"
    metrics = sorted({m for g in groups for m in g})
    rows = curve(points, variable, metrics)
    out_groups = []
    for g in groups:
        out_groups.append(
            {
                "conditions": {m: (op if x is None else f"{op} {x:g}") for m, (op, x) in g.items()},
                "passes": {str(r["value"]): passes(r, g) for r in rows},
                "answer": answer(rows, g),
            }
        )
    return {"variable": variable, "num_runs": config.get("sla_num_runs"), "curve": rows, "groups": out_groups}


async def search(
    group: dict[str, tuple[str, float | None]],
    start: int,
    lower: int,
    upper: int,
    measure: Callable[[int], Awaitable[dict[str, Any]]],
) -> None:
    """Measure values of the variable (``measure(v)`` returns that value's averaged row, cached by the
    caller) until the group's boundary is found; the answer itself is :func:`answer` over the log."""
    objective = next(((m, op) for m, (op, _) in group.items() if op in ("max", "min")), None)
    v = min(max(start, lower), upper)
    if objective is not None:  # climb while the objective improves and the other conditions hold
        m, op = objective
        best = None
        while True:
            row = await measure(v)
            if not passes(row, group):
                return
            if best is not None and not (row[m] > best if op == "max" else row[m] < best):
                return
            best = row[m]
            if v >= upper:
                return
            v = min(v * 2, upper)
    good: int | None = None
    bad: int | None = None
    if passes(await measure(v), group):
        good = v
        while good < upper:
            nv = min(good * 2, upper)
            if passes(await measure(nv), group):
                good = nv
            else:
                bad = nv
                break
        if bad is None:
            return
    else:
        bad = v
        while bad > lower:
            nv = max(bad // 2, lower)
            if passes(await measure(nv), group):
                good = nv
                break
            bad = nv
        if good is None:
            return
    while bad - good > 1:
        mid = (good + bad) // 2
        if passes(await measure(mid), group):
            good = mid
        else:
            bad = mid
