"""``assay compare``: two or more runs side by side, a projection of their logs.

Eval runs are paired by sample id per (benchmark, subset, metric): the difference (B - A) of the
means over the shared samples, its 95% interval (paired percentile bootstrap, seeded) and a paired
test: the exact McNemar test (a two-sided binomial tail on the discordant pairs, written with
``math.comb``: scipy is not a dependency) when every value is 0 or 1, the paired bootstrap otherwise.
A sample that errored (no score for the metric) in either run is left out of the pair and counted.

Perf runs are compared from the reports of the reporter registered for their kind (assay-perf's
fold): each percentile of TTFT/TPOT/ITL/latency and the throughputs, per sweep point.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import msgspec

from assay.api import AssayError
from assay.log import decode_blocks, existing_log
from assay_reportkit.tables import Column, render_table

RESAMPLES = 10_000
SEED = 0
FLIPS_SHOWN = 5  # on the console; JSON lists them all
ALL_SUBSETS = "(all)"


class _Body(msgspec.Struct, gc=False):
    sample_id: str | None = None
    benchmark: str | None = None
    subset: str = "default"
    metric: str | None = None
    value: float | None = None
    kind: str | None = None
    model: str | None = None
    resolved: dict[str, Any] | None = None
    status: str | None = None
    num: int | None = None


class _Line(msgspec.Struct, gc=False):
    type: str
    body: _Body
    run_id: str = ""


_TYPES = {"Scored", "SampleLoaded", "Generated", "SampleFailed", "RunStarted", "RunFinished", "MetricReported"}


class SampleFold:
    """Per (benchmark, subset, metric) the value of each scored sample; the loaded and errored ids."""

    def __init__(self) -> None:
        self.run_id = ""
        self.kind = "eval"
        self.model = ""
        self.status = "running"
        self.events = 0
        self.values: dict[tuple[str, str, str], dict[str, float]] = {}
        self.loaded: dict[tuple[str, str], set[str]] = {}
        self.failed: dict[str, tuple[str, str]] = {}
        # metrics a benchmark reports only as a whole (embeddings' MTEB tasks): (value, num)
        self.reported: dict[tuple[str, str, str], tuple[float, int]] = {}

    def feed_path(self, path: Path) -> None:
        decoder = msgspec.json.Decoder(_Line)
        for lines in decode_blocks(path, decoder, strict_types=_TYPES):
            for line in lines:
                self._feed(line)
            self.events += len(lines)

    def _feed(self, line: _Line) -> None:
        t, b = line.type, line.body
        if t == "Scored":
            sid = b.sample_id
            if b.benchmark is None:  # older logs: the group is in the id
                bench, subset, _ = sid.split("/", 2)
            else:
                bench, subset = b.benchmark, b.subset
            self.values.setdefault((bench, subset, b.metric), {})[sid] = b.value
            self.failed.pop(sid, None)
        elif t == "SampleLoaded":
            self.loaded.setdefault((b.benchmark, b.subset), set()).add(b.sample_id)
        elif t == "Generated":
            self.failed.pop(b.sample_id, None)
            if b.model and not self.model:
                self.model = b.model
        elif t == "SampleFailed":
            if b.benchmark is None:
                bench, subset, _ = b.sample_id.split("/", 2)
            else:
                bench, subset = b.benchmark, b.subset
            self.failed[b.sample_id] = (bench, subset)
        elif t == "RunStarted":
            self.run_id = self.run_id or line.run_id
            self.kind = b.kind or "eval"
            resolved = b.resolved or {}
            self.model = resolved.get("model_id") or resolved.get("model") or self.model
        elif t == "RunFinished":
            self.status = b.status or "completed"
        elif t == "MetricReported":
            self.reported[(b.benchmark, b.subset, b.metric)] = (b.value, b.num or 0)


def _checked_path(run: str) -> Path:
    path = existing_log(run)
    if path.stat().st_size == 0:
        raise AssayError(f"{path} is empty: not a run")
    return path


def _kind(path: Path) -> str:
    from assay.report import run_kind

    return run_kind(path)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: the binomial(b + c, 1/2) tail of min(b, c), doubled."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    if n <= 1000:  # exact integers
        tail = sum(math.comb(n, i) for i in range(k + 1))
        return min(1.0, 2 * tail / 2**n)
    # large n: bigint binomials cost O(n) each; sum the pmf in log space instead (relative error ~1e-12)
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2) for i in range(k + 1)]
    top = max(logs)
    return min(1.0, 2 * math.exp(top) * math.fsum(math.exp(x - top) for x in logs))


def paired_bootstrap(diffs: Any, *, resamples: int = RESAMPLES, seed: int = SEED) -> tuple[float, float, float]:
    """95% percentile interval of the mean of ``diffs`` and the two-sided p-value of "mean 0".

    The p-value is that of the shifted (null) bootstrap: the share of resampled means whose distance
    from the observed mean is at least the observed mean's distance from 0 (add-one smoothed).
    """
    import numpy as np

    d = np.asarray(diffs, dtype=np.float64)
    n = d.size
    if n == 0:
        return (math.nan, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    values, counts = np.unique(d, return_counts=True)
    if values.size <= 64:
        # few distinct differences (0/1 metrics: -1, 0, 1): a resample is a multinomial draw of how
        # often each occurs, the same distribution as drawing n indices, in O(resamples) not O(n x resamples)
        means = rng.multinomial(n, counts / n, size=resamples) @ values / n
    else:
        means = np.empty(resamples)
        chunk = max(1, min(resamples, 2_000_000 // n))  # bounded memory: chunk x n indices at a time
        for lo in range(0, resamples, chunk):
            hi = min(resamples, lo + chunk)
            means[lo:hi] = d[rng.integers(0, n, size=(hi - lo, n))].mean(axis=1)
    observed = float(d.mean())
    low, high = np.percentile(means, [2.5, 97.5])
    extreme = int(np.count_nonzero(np.abs(means - observed) >= abs(observed) - 1e-12))
    p = min(1.0, (extreme + 1) / (resamples + 1))
    return (float(low), float(high), p)


def _row(
    bench: str,
    subset: str,
    metric: str,
    va: dict[str, float],
    vb: dict[str, float],
    fa: SampleFold,
    fb: SampleFold,
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    shared = sorted(va.keys() & vb.keys())
    if subset == ALL_SUBSETS:
        subsets_of = [k for k in fa.loaded if k[0] == bench] + [k for k in fb.loaded if k[0] == bench]
        loaded_a = set().union(*(fa.loaded.get(k, set()) for k in subsets_of))
        loaded_b = set().union(*(fb.loaded.get(k, set()) for k in subsets_of))
        err_a = sum(1 for g in fa.failed.values() if g[0] == bench)
        err_b = sum(1 for g in fb.failed.values() if g[0] == bench)
    else:
        loaded_a = fa.loaded.get((bench, subset), set())
        loaded_b = fb.loaded.get((bench, subset), set())
        err_a = sum(1 for g in fa.failed.values() if g == (bench, subset))
        err_b = sum(1 for g in fb.failed.values() if g == (bench, subset))
    # samples loaded in only one run (or, for logs without SampleLoaded, scored in only one)
    ids_a = loaded_a or va.keys()
    ids_b = loaded_b or vb.keys()
    row: dict[str, Any] = {
        "dataset": bench,
        "subset": subset,
        "metric": metric,
        "shared": len(shared),
        "only_in_a": len(ids_a - ids_b),
        "only_in_b": len(ids_b - ids_a),
        "errored_a": err_a,
        "errored_b": err_b,
        # loaded in both, but without this metric's score in one of them (errored, or not yet scored)
        "unpaired": len((ids_a & ids_b) - set(shared)),
    }
    a = [va[s] for s in shared]
    b = [vb[s] for s in shared]
    n = len(shared)
    row["score_a"] = sum(a) / n if n else None
    row["score_b"] = sum(b) / n if n else None
    row["diff"] = (row["score_b"] - row["score_a"]) if n else None
    binary = all(v in (0.0, 1.0) for v in a) and all(v in (0.0, 1.0) for v in b)
    low, high, p_boot = paired_bootstrap([y - x for x, y in zip(a, b)], resamples=resamples, seed=seed)
    row["ci_low"] = None if math.isnan(low) else low
    row["ci_high"] = None if math.isnan(high) else high
    if binary:
        a_only = [s for s, x, y in zip(shared, a, b) if x == 1.0 and y == 0.0]
        b_only = [s for s, x, y in zip(shared, a, b) if x == 0.0 and y == 1.0]
        row["test"] = "mcnemar_exact"
        row["p_value"] = mcnemar_exact(len(a_only), len(b_only)) if n else None
        row["right_in_a_only"] = a_only
        row["right_in_b_only"] = b_only
    else:
        row["test"] = "paired_bootstrap"
        row["p_value"] = None if math.isnan(p_boot) else p_boot
        row["changed"] = sum(1 for x, y in zip(a, b) if x != y)
    return row


def compare_eval(paths: list[Path], *, resamples: int = RESAMPLES, seed: int = SEED) -> dict[str, Any]:
    folds = []
    for p in paths:
        f = SampleFold()
        f.feed_path(p)
        folds.append(f)
    runs = [
        {"run": str(p.parent), "run_id": f.run_id, "model": f.model, "status": f.status, "kind": f.kind}
        for p, f in zip(paths, folds)
    ]
    base = folds[0]
    comparisons = []
    for i, other in enumerate(folds[1:], start=1):
        keys = sorted(base.values.keys() | other.values.keys())
        rows = []
        for bench, subset, metric in keys:
            rows.append(
                _row(bench, subset, metric, base.values.get((bench, subset, metric), {}),
                     other.values.get((bench, subset, metric), {}), base, other, resamples, seed)
            )  # fmt: skip
        # a benchmark with several subsets also gets one row over all its samples
        by_bench: dict[tuple[str, str], list[str]] = {}
        for bench, subset, metric in keys:
            by_bench.setdefault((bench, metric), []).append(subset)
        for (bench, metric), subsets in sorted(by_bench.items()):
            if len(subsets) > 1:
                va = {s: v for sub in subsets for s, v in base.values.get((bench, sub, metric), {}).items()}
                vb = {s: v for sub in subsets for s, v in other.values.get((bench, sub, metric), {}).items()}
                rows.append(_row(bench, ALL_SUBSETS, metric, va, vb, base, other, resamples, seed))
        # metrics reported only as a whole have no samples to pair: side by side, no interval, no test
        for key in sorted((base.reported.keys() | other.reported.keys()) - set(keys)):
            (va, na), (vb, nb) = base.reported.get(key, (None, 0)), other.reported.get(key, (None, 0))
            rows.append(
                {
                    "dataset": key[0],
                    "subset": key[1],
                    "metric": key[2],
                    "shared": None,
                    "num_a": na,
                    "num_b": nb,
                    "score_a": va,
                    "score_b": vb,
                    "diff": None if va is None or vb is None else vb - va,
                    "ci_low": None,
                    "ci_high": None,
                    "test": "none: aggregate only, no per-sample scores",
                    "p_value": None,
                }
            )
        comparisons.append({"a": 0, "b": i, "rows": rows})
    return {
        "kind": "eval",
        "runs": runs,
        "method": {
            "pairing": "by sample id, on the samples scored in both runs (the intersection)",
            "diff": "score_b - score_a, means over the shared samples",
            "ci": f"95% paired percentile bootstrap, {resamples} resamples, seed {seed}",
            "test_binary": "exact McNemar: two-sided binomial(discordant, 1/2) tail",
            "test_other": f"paired bootstrap (shifted null), {resamples} resamples, seed {seed}",
            "errored": "a sample without a score for the metric in either run is not paired; counted in "
            "errored_a / errored_b / unpaired",
        },
        "comparisons": comparisons,
    }


_PERF_STATS = ("ttft_s", "tpot_s", "itl_s", "e2e_latency_s")
_PERF_RATES = ("request_throughput", "output_token_throughput", "total_token_throughput")


def _point_key(point: dict[str, Any]) -> str:
    return json.dumps(point, sort_keys=True)


def _delta(a: Any, b: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"a": a, "b": b, "diff": None, "rel": None}
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        out["diff"] = b - a
        out["rel"] = (b - a) / a if a else None
    return out


def compare_perf(paths: list[Path]) -> dict[str, Any]:
    """Perf runs side by side, from the reports of the reporter registered for perf runs."""
    from assay.report import build_report

    reports = []
    for p in paths:
        sections = build_report(p).get("sections") or {}
        section = sections.get("perf") or next(
            (s for s in sections.values() if isinstance(s, dict) and "points" in s), None
        )
        if section is None:
            raise AssayError(f"{p}: no installed reporter reads perf runs (install assay-perf)")
        reports.append(section)
    base = reports[0]
    comparisons = []
    for i, other in enumerate(reports[1:], start=1):
        pa = {_point_key(pt["point"]): pt for pt in base.get("points", [])}
        pb = {_point_key(pt["point"]): pt for pt in other.get("points", [])}
        points = []
        for key in [k for k in pa if k in pb]:
            x, y = pa[key], pb[key]
            entry: dict[str, Any] = {"point": x["point"]}
            for name in _PERF_RATES:
                entry[name] = _delta(x.get(name), y.get(name))
            for name in _PERF_STATS:
                sx, sy = x.get(name) or {}, y.get(name) or {}
                stats = [k for k in sx if k != "n"] + [k for k in sy if k != "n" and k not in sx]
                entry[name] = {k: _delta(sx.get(k), sy.get(k)) for k in stats}
            entry["failed"] = _delta(x.get("failed"), y.get("failed"))
            points.append(entry)
        comparisons.append(
            {
                "a": 0,
                "b": i,
                "points": points,
                "only_in_a": [pa[k]["point"] for k in pa if k not in pb],
                "only_in_b": [pb[k]["point"] for k in pb if k not in pa],
            }
        )
    runs = [
        {"run": str(p.parent), "run_id": r.get("run_id"), "model": r.get("model"), "status": r.get("status")}
        for p, r in zip(paths, reports)
    ]
    return {"kind": "perf", "runs": runs, "comparisons": comparisons}


def compare(runs: list[str], *, resamples: int = RESAMPLES, seed: int = SEED) -> dict[str, Any]:
    if len(runs) < 2:
        raise AssayError("compare needs at least two runs")
    paths = [_checked_path(r) for r in runs]
    kinds = [_kind(p) for p in paths]
    perf = ["perf" in k for k in kinds]
    if any(perf) and not all(perf):
        mixed = ", ".join(f"{p.parent.name}: {k}" for p, k in zip(paths, kinds))
        raise AssayError(f"cannot compare perf runs with eval runs ({mixed})")
    if all(perf):
        return compare_perf(paths)
    return compare_eval(paths, resamples=resamples, seed=seed)


# ---- console -----------------------------------------------------------------------------------------


def _p(v: Any) -> str:
    return "-" if v is None else (f"{v:.2e}" if v < 1e-3 else f"{v:.4f}")


def render(result: dict[str, Any], console: Any = None) -> None:
    from rich.console import Console

    from assay.redact import inert_text, visible

    console = console or Console()
    runs = result["runs"]

    def name(i: int) -> str:
        r = runs[i]
        status = "" if r.get("status") == "completed" else f", {r.get('status')}"  # a partial run says so
        return f"{r.get('run_id') or r['run']} ({r.get('model') or '?'}{status})"

    for comp in result["comparisons"]:
        a, b = comp["a"], comp["b"]
        title = f"A = {name(a)}  vs  B = {name(b)}"
        if result["kind"] == "perf":
            _render_perf(comp, title, console)
            continue
        notes = []
        for r in comp["rows"]:
            aggregate = r["shared"] is None
            where = f"{visible(r['dataset'], multiline=False)}/{visible(r['subset'], multiline=False)}"
            if aggregate:
                notes.append(f"{where}: {visible(r['metric'], multiline=False)} is reported as a whole: no test")
                continue
            if r["only_in_a"] or r["only_in_b"]:
                notes.append(
                    f"{where}: compared on the {r['shared']} shared samples "
                    f"({r['only_in_a']} only in A, {r['only_in_b']} only in B)"
                )
            if r["errored_a"] or r["errored_b"]:
                notes.append(
                    f"{where}: errored samples left out of the pairs ({r['errored_a']} in A, {r['errored_b']} in B)"
                )
            for label, key in (
                ("right in A, wrong in B", "right_in_a_only"),
                ("wrong in A, right in B", "right_in_b_only"),
            ):
                ids = r.get(key) or []
                if ids:
                    shown = ", ".join(visible(s, multiline=False) for s in ids[:FLIPS_SHOWN])
                    more = f" (+{len(ids) - FLIPS_SHOWN} more)" if len(ids) > FLIPS_SHOWN else ""
                    notes.append(f"{where} {visible(r['metric'], multiline=False)}: {label}: {len(ids)}: {shown}{more}")
        console.print(render_table(inert_text(title, multiline=False), _EVAL_COLUMNS, comp["rows"]))
        for note in dict.fromkeys(notes):
            console.print(inert_text(note, multiline=False))


def _flips(r: dict[str, Any]) -> str:
    if r["shared"] is None:
        return "-"
    if r["test"] == "mcnemar_exact":
        return f"-{len(r['right_in_a_only'])} / +{len(r['right_in_b_only'])}"
    return f"{r['changed']} changed"


def _right(header: str, key: Any, fmt: Any = None) -> Column:
    return Column(header, key, fmt, justify="right")


_EVAL_COLUMNS = (
    Column("Dataset", "dataset"),
    Column("Subset", "subset"),
    Column("Metric", "metric"),
    _right("N", lambda r: f"{r['num_a']}/{r['num_b']}" if r["shared"] is None else r["shared"]),
    _right("A", "score_a", "{:.4f}"),
    _right("B", "score_b", "{:.4f}"),
    _right("B-A", "diff", "{:+.4f}"),
    _right("95% CI", lambda r: None if r["ci_low"] is None else f"[{r['ci_low']:+.4f}, {r['ci_high']:+.4f}]"),
    _right("p", "p_value", _p),
    Column("Test", lambda r: {"mcnemar_exact": "McNemar", "paired_bootstrap": "bootstrap"}.get(r["test"], "aggregate")),
    _right("A→B flips", _flips),
)
_PERF_COLUMNS = (
    Column("Metric", "metric"),
    Column("Stat", "stat"),
    _right("A", "a", "{:.2f}"),
    _right("B", "b", "{:.2f}"),
    _right("B-A", "diff", "{:+.2f}"),
    _right("B/A-1", "rel", "{:+.1%}"),
)


def _render_perf(comp: dict[str, Any], title: str, console: Any) -> None:
    from assay.redact import inert_text

    for pt in comp["points"]:
        p = pt["point"]
        label = ", ".join(f"{k}={v}" for k, v in p.items() if v is not None)
        rows = [{"metric": name, "stat": "per s", **pt[name]} for name in _PERF_RATES]
        for name in _PERF_STATS:
            for stat, d in pt[name].items():
                ms = {k: (None if d[k] is None else d[k] * 1000) for k in ("a", "b", "diff")}
                rows.append({"metric": name.removesuffix("_s"), "stat": f"{stat} ms", **ms, "rel": d["rel"]})
        console.print(render_table(inert_text(f"{title}  [{label}]", multiline=False), _PERF_COLUMNS, rows))
    for key in ("only_in_a", "only_in_b"):
        if comp[key]:
            console.print(inert_text(f"points {key.replace('_', ' ')}: {comp[key]}", multiline=False))
