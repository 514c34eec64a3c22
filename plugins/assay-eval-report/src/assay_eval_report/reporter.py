"""The eval report: a streaming fold of an eval log into rows, and their table.

The fold keeps running sums per (dataset, subset, metric), so its memory is bounded by the number of
groups (plus the ids of failed samples, and of the repeats of a run with ``repeats > 1``: their
pass@k is :class:`assay_reportkit.passk.Repeats`' fold), not by the log. Registered through ``assay_reporters`` like any
other reporter, with ``body=True``: what it builds is the report itself (rows, status, errors), the
other reporters add sections to it.
"""

from __future__ import annotations

import gc
import math
import os
from pathlib import Path
from typing import Any

import msgspec

from assay.events import RawEnvelope
from assay.log import TornTail, decode_blocks
from assay_reportkit.passk import Repeats, doubling_ks, mean_pass_at_k

Z95 = 1.959963984540054  # two-sided 95% normal quantile


class _FoldBody(msgspec.Struct, gc=False):
    # the union of the body fields the eval fold reads; the rest is skipped by msgspec
    sample_id: str | None = None
    benchmark: str | None = None
    subset: str = "default"  # omitted from lines when it is the default
    category: str | None = None
    categories: list[str] | None = None
    metric: str | None = None
    value: float | None = None
    stage: str | None = None
    error: str | None = None
    error_kind: str | None = None
    error_type: str | None = None
    message: str | None = None
    model: str | None = None
    kind: str | None = None
    resolved: dict[str, Any] | None = None
    status: str | int | None = None
    num: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    details: dict[str, Any] | None = None


_FOLDED = {
    "Scored",
    "SampleLoaded",
    "Generated",
    "SampleFailed",
    "RunStarted",
    "RunFinished",
    "RunResumed",
    "MetricReported",
    "Judged",
}


class _FoldLine(msgspec.Struct, gc=False):
    # gc=False: a million short-lived tracked objects would trigger the cyclic GC over and over
    type: str
    body: _FoldBody


class _Acc:
    __slots__ = ("n", "s", "ss")

    def __init__(self) -> None:
        self.n = 0
        self.s = 0.0
        self.ss = 0.0


def wilson(successes: float, n: int) -> tuple[float, float]:
    """Wilson score interval: right near 0 and 1, where the normal one is not."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    z2 = Z95 * Z95
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # at 0 of n (n of n) the bound is exactly 0 (1); rounding would leave 5.55e-17
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return (lo, hi)


def mean_ci(s: float, ss: float, n: int, bounds: tuple[float, float] | None = None) -> tuple[float, float]:
    """Normal interval of a mean from its sums (sample variance, n-1), clipped to ``bounds``."""
    if n < 2:
        return (math.nan, math.nan)
    mean = s / n
    var = max(0.0, (ss - n * mean * mean) / (n - 1))
    half = Z95 * math.sqrt(var / n)
    if bounds is not None:
        return (max(bounds[0], mean - half), min(bounds[1], mean + half))
    return (mean - half, mean + half)


def _as_list(metrics: str | list[str]) -> list[str]:
    return [metrics] if isinstance(metrics, str) else metrics


class EvalFold:
    """Streaming fold of an eval log into report rows."""

    def __init__(self) -> None:
        self.model = ""
        self.run_id = ""
        self.kind = "eval"
        self.status = "running"
        self.ignore_errors = False
        self.loaded: dict[tuple[str, str], int] = {}
        self.category: dict[tuple[str, str], str] = {}
        self.more_categories: dict[tuple[str, str], list[str]] = {}
        self.acc: dict[tuple[str, str, str], _Acc] = {}
        self.binary: dict[tuple[str, str, str], bool] = {}
        self.unit: dict[tuple[str, str, str], bool] = {}  # every value in [0, 1]: a bounded score
        self.error: str | None = None  # RunFinished.error
        self._unit = False  # the (dataset, metric) being turned into rows is bounded by [0, 1]
        self.failed: dict[str, tuple[str, str]] = {}
        # metrics a failed sample was scored on before a scorer raised: it counts once per metric
        self.partial: dict[str, set[str]] = {}
        self._last: tuple[str | None, str | list[str]] = (None, [])  # the last Scored sample, its metric(s)
        self.failure_kind: dict[str, str] = {}  # sample id -> why it failed (its last failure)
        self.failure_example: dict[str, str] = {}  # why -> the message of its latest failure
        self.reported: dict[tuple[str, str, str], _FoldBody] = {}
        self.events = 0
        self.torn = TornTail()
        self.status_seen = False  # a RunFinished/RunResumed was folded (merging keeps the latest)
        # judged benchmarks: a judge failure is out of the score (never a 0) and counted beside it
        self.judge_failed: dict[str, tuple[str, str]] = {}
        self.judged_groups: set[tuple[str, str]] = set()
        self.rescued: set[str] = set()  # judge-failed samples scored later in the log (parallel merge)
        self.judge_why: dict[str, str] = {}  # judge-failed sample -> its message
        # repeats: the repeats loaded and scored per problem, for pass@k / mean@k (assay_reportkit.passk's fold)
        self.reps = Repeats(None)
        self.repeats: dict[str, int] = {}  # benchmark -> repeats > 1, from RunStarted
        self.aggregation: dict[str, str] = {}

    @staticmethod
    def _group(sample_id: str) -> tuple[str, str]:
        # logs written before Scored/SampleFailed carried their benchmark and subset
        bench, subset, _ = sample_id.split("/", 2)
        return bench, subset

    def feed_path(self, path: Path, block: int = 1 << 20, start: int = 0, end: int | None = None) -> None:
        was_enabled = gc.isenabled()
        gc.disable()  # the fold allocates no cycles; collection passes only cost time
        try:
            decoder = msgspec.json.Decoder(_FoldLine)
            for lines in decode_blocks(
                path, decoder, strict_types=_FOLDED, torn=self.torn, block=block, start=start, end=end
            ):
                self.feed(lines)
        finally:
            if was_enabled:
                gc.enable()

    def merge(self, later: EvalFold) -> None:
        """Fold in the state of the part of the log that comes after this one."""
        self.events += later.events
        self.model = self.model or later.model
        if later.status_seen:
            self.status, self.status_seen, self.error = later.status, True, later.error
        for k, n in later.loaded.items():
            self.loaded[k] = self.loaded.get(k, 0) + n
        for k, c in later.category.items():
            self.category.setdefault(k, c)
        for k, c in later.more_categories.items():
            self.more_categories.setdefault(k, c)
        for k, a in later.acc.items():
            mine = self.acc.setdefault(k, _Acc())
            mine.n, mine.s, mine.ss = mine.n + a.n, mine.s + a.s, mine.ss + a.ss
            self.binary[k] = self.binary.get(k, True) and later.binary[k]
            self.unit[k] = self.unit.get(k, True) and later.unit.get(k, True)
        self.failed.update(later.failed)
        for sid, metrics in later.partial.items():
            self.partial.setdefault(sid, set()).update(metrics)
        sid, metrics = self._last
        if sid in later.failed:  # a sample's group cut in two by the byte ranges
            self.partial.setdefault(sid, set()).update(_as_list(metrics))
        if later._last[0] is not None:
            self._last = later._last
        self.failure_kind.update(later.failure_kind)
        self.failure_example.update(later.failure_example)
        self.reported.update(later.reported)
        for sid in list(self.judge_failed):
            if sid in later.rescued:
                del self.judge_failed[sid]
        self.judge_failed.update(later.judge_failed)
        self.judge_why.update(later.judge_why)
        self.judged_groups |= later.judged_groups
        self.torn = later.torn
        self.reps.merge(later.reps)

    def feed(self, lines: list[_FoldLine]) -> None:
        self.events += len(lines)
        loaded, acc, failed, binary = self.loaded, self.acc, self.failed, self.binary
        last_sid, last_metrics = self._last
        for line in lines:
            t = line.type
            b = line.body
            if t == "Scored":
                sid = b.sample_id
                metric = b.metric
                bench = b.benchmark
                if bench is None:  # a log written before Scored carried its group
                    bench, subset, _ = sid.split("/", 2)
                    key = (bench, subset, metric)
                else:
                    key = (bench, b.subset, metric)
                a = acc.get(key)
                if a is None:
                    a = acc[key] = _Acc()
                    binary[key] = True
                v = b.value
                a.n += 1
                a.s += v
                a.ss += v * v
                if v != 0.0 and v != 1.0:
                    binary[key] = False
                    if not 0.0 <= v <= 1.0:
                        self.unit[key] = False
                if sid != last_sid:  # a str while the sample has one metric: no allocation per sample
                    last_sid = sid
                    last_metrics = metric
                elif type(last_metrics) is str:
                    last_metrics = [last_metrics, metric]
                else:
                    last_metrics.append(metric)
                if failed and sid in failed:
                    del failed[sid]
                if "#" in sid:
                    self.reps.add(t, b)
                if self.judge_failed and sid in self.judge_failed:
                    del self.judge_failed[sid]
                    self.rescued.add(sid)
            elif t == "Judged":
                self.judged_groups.add((b.benchmark, b.subset) if b.benchmark else self._group(b.sample_id))
            elif t == "SampleFailed" and b.stage == "judge":
                self.judge_failed[b.sample_id] = (b.benchmark, b.subset) if b.benchmark else self._group(b.sample_id)
                self.judge_why[b.sample_id] = (b.message or "")[:300].replace("\n", " ")
            elif t == "SampleLoaded":
                key2 = (b.benchmark, b.subset)
                loaded[key2] = loaded.get(key2, 0) + 1
                if "#" in b.sample_id:
                    self.reps.add(t, b)
                if b.category and key2 not in self.category:
                    self.category[key2] = b.category
                if b.categories and key2 not in self.more_categories:
                    self.more_categories[key2] = b.categories
            elif t == "Generated":
                if b.model and not self.model:
                    self.model = b.model
                if failed and b.sample_id in failed:
                    del failed[b.sample_id]
            elif t == "SampleFailed":
                failed[b.sample_id] = (b.benchmark, b.subset) if b.benchmark else self._group(b.sample_id)
                if b.stage == "score" and last_sid == b.sample_id:
                    # a sample's Scored and its scorer failures are one group: what did score, counts
                    self.partial.setdefault(b.sample_id, set()).update(_as_list(last_metrics))
                why = b.error_kind or b.error_type or "error"
                if b.stage and b.stage != "generate":
                    why = f"{b.stage}: {why}"
                self.failure_kind[b.sample_id] = why
                self.failure_example[why] = (b.message or "")[:300].replace("\n", " ")
            elif t == "RunStarted":
                self.kind = b.kind or "eval"
                resolved = b.resolved or {}
                self.model = resolved.get("model_id") or resolved.get("model") or self.model
                self.ignore_errors = bool(resolved.get("ignore_errors"))
                self._read_repeats(resolved)
            elif t == "MetricReported":
                self.reported[(b.benchmark, b.subset, b.metric)] = b
            elif t == "RunFinished":
                self.status = b.status or "completed"
                self.error = b.error
                self.status_seen = True
            elif t == "RunResumed":
                self.status = "running"
                self.error = None
                self.status_seen = True
        self._last = (last_sid, last_metrics)

    def _read_repeats(self, resolved: dict[str, Any]) -> None:
        default = resolved.get("repeats") or 1
        dargs = resolved.get("dataset_args") or {}
        for bench in resolved.get("datasets") or []:
            given = dargs.get(bench) or {}
            n = given.get("repeats") or default
            if isinstance(n, int) and n > 1:
                self.repeats[bench] = n
            if given.get("aggregation"):
                self.aggregation[bench] = given["aggregation"]

    def repeat_rows(self) -> list[dict[str, Any]]:
        """mean@n and pass@k (k = 1, 2, 4, ..., n; the unbiased estimator) of each binary metric of a
        benchmark run with repeats > 1 (``aggregation: mean`` turns them off). A problem's n is the
        repeats loaded; an errored or unscored repeat counts as wrong."""
        rows: list[dict[str, Any]] = []
        metrics: dict[tuple[str, str], set[str]] = {}
        for bench, subset, metric in self.acc:
            metrics.setdefault((bench, subset), set()).add(metric)
        by_metric: dict[tuple[str, str], list[tuple[str, list[tuple[int, int]]]]] = {}
        for (bench, subset), problems in self.reps.groups().items():
            if bench not in self.repeats or self.aggregation.get(bench) == "mean":
                continue
            for metric in sorted(metrics.get((bench, subset), ())):
                if not self.binary.get((bench, subset, metric), False):
                    continue
                by_metric.setdefault((bench, metric), []).append((subset, self.reps.counts(problems, metric)))
        for (bench, metric), subsets in by_metric.items():
            groups = list(subsets)
            if len(groups) > 1:
                groups.append(("OVERALL", [it for _, items in subsets for it in items]))
            for subset, items in groups:
                n_min = min(n for n, _ in items)
                named = [(f"mean@{n_min}", sum(c / n for n, c in items) / len(items))]
                named += [(f"pass@{k}", mean_pass_at_k(items, k)) for k in doubling_ks(n_min)]
                for name, value in named:
                    rows.append(
                        {
                            "model": self.model,
                            "dataset": bench,
                            "metric": name if metric == "acc" else f"{metric}_{name}",
                            "category": "-",
                            "subset": subset,
                            "num": len(items),
                            "score": value,
                            "errors": 0,
                            "ci_low": None,
                            "ci_high": None,
                            "average": "repeats",
                        }
                    )
        return rows

    def rows(self) -> list[dict[str, Any]]:
        self._jf: dict[tuple[str, str], int] = {}
        for g in self.judge_failed.values():
            self._jf[g] = self._jf.get(g, 0) + 1
        for g in self._jf:
            self.judged_groups.add(g)
        errors: dict[tuple[str, str], int] = {}
        scored_anyway: dict[tuple[str, str, str], int] = {}  # failed samples a metric did score
        for sid, g in self.failed.items():
            errors[g] = errors.get(g, 0) + 1
            for m in self.partial.get(sid, ()):
                scored_anyway[(*g, m)] = scored_anyway.get((*g, m), 0) + 1

        def errors_of(bench: str, subset: str, metric: str) -> int:
            # each sample counts once per metric: a Scored one is in the sums, not among the errors
            return errors.get((bench, subset), 0) - scored_anyway.get((bench, subset, metric), 0)

        rows: list[dict[str, Any]] = []
        by_dataset: dict[str, dict[str, list[tuple[str, _Acc, int, int]]]] = {}
        for (bench, subset, metric), a in sorted(self.acc.items()):
            by_dataset.setdefault(bench, {}).setdefault(metric, []).append(
                (subset, a, errors_of(bench, subset, metric), self.loaded.get((bench, subset), 0))
            )
        # groups with errors (or judge failures) only, no score at all, still show up
        for bench, subset in [*errors, *(g for g in self._jf if g not in errors)]:
            metrics = by_dataset.setdefault(bench, {})
            if not metrics:
                metrics["acc"] = []
            for metric, items in metrics.items():
                if not any(s == subset for s, *_ in items):
                    items.append(
                        (subset, _Acc(), errors_of(bench, subset, metric), self.loaded.get((bench, subset), 0))
                    )
        for bench, metrics in by_dataset.items():
            for metric, items in metrics.items():
                binary = all(self.binary.get((bench, s, metric), True) for s, *_ in items)
                self._unit = all(self.unit.get((bench, s, metric), True) for s, *_ in items)
                subset_rows = []
                for subset, a, err, loaded in items:
                    subset_rows.append(
                        self._row(
                            bench, metric, self.category.get((bench, subset), "default"), subset, a, err, loaded, binary
                        )
                    )
                rows.extend(subset_rows)
                cats: dict[str, list[tuple[str, _Acc, int, int]]] = {}
                for it in items:
                    cats.setdefault(self.category.get((bench, it[0]), "default"), []).append(it)
                    for extra in self.more_categories.get((bench, it[0]), []):
                        cats.setdefault(extra, []).append(it)
                if len(cats) > 1:
                    for cat, its in sorted(cats.items()):
                        rows.append(self._merged(bench, metric, cat, "OVERALL", its, binary))
                if len(items) > 1:
                    rows.append(self._merged(bench, metric, "-", "OVERALL", items, binary))
                    macro = subset_rows
                    scores = [r["score"] for r in macro if r["score"] is not None and not math.isnan(r["score"])]
                    rows.append(
                        {
                            "model": self.model,
                            "dataset": bench,
                            "metric": metric,
                            "category": "-",
                            "subset": "OVERALL (macro)",
                            "num": sum(r["num"] for r in macro),
                            "score": sum(scores) / len(scores) if scores else None,
                            "errors": sum(r["errors"] for r in macro),
                            "ci_low": None,
                            "ci_high": None,
                            "average": "macro",
                        }
                    )
        for (bench, subset, metric), b in self.reported.items():
            rows.append(
                {
                    "model": (b.details or {}).get("model") or self.model,
                    "dataset": bench,
                    "metric": metric,
                    "category": b.category or "default",
                    "subset": subset,
                    "num": b.num or 0,
                    "score": b.value,
                    "errors": errors.get((bench, subset), 0),
                    "ci_low": b.ci_low,
                    "ci_high": b.ci_high,
                }
            )
        rows.extend(self.repeat_rows())
        return rows

    def _merged(self, bench: str, metric: str, cat: str, subset: str, items: list[Any], binary: bool) -> dict[str, Any]:
        total = _Acc()
        err = loaded = 0
        jf = sum(self._jf.get((bench, it[0]), 0) for it in items)
        judged = any((bench, it[0]) in self.judged_groups for it in items)
        for _, a, e, lo in items:
            total.n += a.n
            total.s += a.s
            total.ss += a.ss
            err += e
            loaded += lo
        row = self._row(bench, metric, cat, subset, total, err, loaded, binary, judge=(judged, jf))
        row["average"] = "micro"
        return row

    def _row(
        self,
        bench: str,
        metric: str,
        cat: str,
        subset: str,
        a: _Acc,
        err: int,
        loaded: int,
        binary: bool,
        judge: tuple[bool, int] | None = None,
    ) -> dict[str, Any]:
        n = a.n + (0 if self.ignore_errors else err)
        score = a.s / n if n else None
        if n and binary:
            lo, hi = wilson(a.s, n)
        elif n:
            lo, hi = mean_ci(a.s, a.ss + 0.0, n, (0.0, 1.0) if self._unit else None)
        else:
            lo = hi = math.nan
        row = {
            "model": self.model,
            "dataset": bench,
            "metric": metric,
            "category": cat,
            "subset": subset,
            "num": n,
            "score": score,
            "errors": err,
            "ci_low": None if math.isnan(lo) else lo,
            "ci_high": None if math.isnan(hi) else hi,
        }
        judged, jf = (
            judge if judge is not None else ((bench, subset) in self.judged_groups, self._jf.get((bench, subset), 0))
        )
        if judged:  # judge failures: out of the score and the denominator, counted here
            row["judged"] = a.n
            row["judge_failures"] = jf
            shown = "-" if score is None else f"{score:.3f}"
            row["coverage"] = f"{shown} on {a.n}/{a.n + jf} judged; {jf} judge failure{'s' if jf != 1 else ''}"
            loaded -= jf
        if loaded > a.n + err:
            row["pending"] = loaded - a.n - err
        return row


def _first_run_id(path: Path) -> str:
    with open(path, "rb") as f:
        first = f.readline()
    try:
        return msgspec.json.decode(first, type=RawEnvelope).run_id
    except (msgspec.DecodeError, msgspec.ValidationError):
        return ""


PARALLEL_MIN_BYTES = 32 << 20


def _split_points(path: Path, parts: int) -> list[tuple[int, int]]:
    """Cut a log into ``parts`` byte ranges that each begin at a line start."""
    size = path.stat().st_size
    cuts = [0]
    with open(path, "rb") as f:
        for k in range(1, parts):
            f.seek(max(cuts[-1], size * k // parts))
            f.readline()  # to the start of the next line
            cuts.append(min(size, f.tell()))
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def _fold_part(path: Path, start: int, end: int) -> EvalFold:
    fold = EvalFold()
    fold.feed_path(path, start=start, end=end)
    return fold


def _clear_recovered(fold: EvalFold, path: Path, start: int) -> None:
    """A sample that failed in an earlier part and was scored later (a resumed run) is not failed."""
    decoder = msgspec.json.Decoder(_FoldLine)
    for lines in decode_blocks(path, decoder, strict_types=_FOLDED, start=start):
        for line in lines:
            sid = line.body.sample_id
            if sid in fold.failed and line.type in ("Scored", "Generated"):
                del fold.failed[sid]


def fold_log(path: Path, *, workers: int | None = None) -> EvalFold:
    """The eval fold of a log; a large log is cut into byte ranges folded in parallel processes.

    The fold is a sum of independent parts, so the parts merge exactly; the one order-dependent
    fact (a sample failed, then scored after a resume) is settled by a second look at what follows
    the part that holds the failure. Any damage is reported by a sequential pass, with its line number.
    """
    workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    if workers < 2 or path.stat().st_size < PARALLEL_MIN_BYTES:
        fold = EvalFold()
        fold.feed_path(path)
        return fold
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ranges = _split_points(path, workers)
    try:
        with ProcessPoolExecutor(len(ranges), mp_context=multiprocessing.get_context("fork")) as pool:
            parts = list(pool.map(_fold_part, [path] * len(ranges), *zip(*ranges)))
    except Exception:  # noqa: BLE001 - damage (or a broken pool): the sequential fold says where
        fold = EvalFold()
        fold.feed_path(path)  # raises again on damage, with the line number counted from the start
        return fold
    fold = parts[0]
    for (start, _), part in zip(ranges[1:], parts[1:]):
        if fold.failed:
            _clear_recovered(fold, path, start)
        fold.merge(part)
    return fold


def build_eval(path: Path, *, workers: int | None = None) -> dict[str, Any]:
    return _report_of(fold_log(path, workers=workers), path)


class _Pass:
    """The eval fold fed by the kernel's one read of the log (:func:`assay.log.fold_together`)."""

    line = _FoldLine
    strict_types = _FOLDED

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fold = EvalFold()
        self.feed = self.fold.feed

    def result(self, torn: TornTail) -> dict[str, Any]:
        self.fold.torn = torn
        return _report_of(self.fold, self.path)


def _report_of(fold: EvalFold, path: Path) -> dict[str, Any]:
    fold.run_id = _first_run_id(path)
    out: dict[str, Any] = {
        "kind": "eval",
        "run_id": fold.run_id,
        "model": fold.model,
        "status": fold.status,
        "events": fold.events,
        "rows": fold.rows(),
        "errored_samples": len(fold.failed),
        **(
            {"judge_failures": len(fold.judge_failed), "judge_failures_by_kind": judge_failure_summary(fold)}
            if fold.judged_groups or fold.judge_failed
            else {}
        ),
        "samples_loaded": sum(fold.loaded.values()),
        "errors_by_kind": error_summary(fold),
        "denominator": "scored samples" if fold.ignore_errors else "scored + errored samples (errors count as 0)",
    }
    if fold.error:
        out["error"] = fold.error
    if fold.torn.length:
        out["torn_bytes"] = fold.torn.length
        out["warnings"] = [f"{path}: ignored a torn last line ({fold.torn.length} bytes, never acknowledged)"]
    return out


def judge_failure_summary(fold: EvalFold) -> list[dict[str, Any]]:
    """Judge failures by kind (unparseable verdict, failed call, disagreement), each with an example."""
    kinds: dict[str, list[Any]] = {}
    for sid in fold.judge_failed:
        message = fold.judge_why.get(sid, "")
        kind = next(
            (k for k, words in _JUDGE_KINDS if any(w in message for w in words)),
            "other",
        )
        entry = kinds.setdefault(kind, [0, message])
        entry[0] += 1
    return [{"kind": k, "count": c, "example": ex} for k, (c, ex) in sorted(kinds.items(), key=lambda kv: -kv[1][0])]


_JUDGE_KINDS = (
    ("unparseable verdict", ("unparseable verdict",)),
    ("judge call failed", ("judge call",)),
    ("judges disagree", ("judges disagree", "no majority")),
    ("no logged verdict", ("no logged verdict",)),
    ("no judge configured", ("no judge configured",)),
)


def error_summary(fold: EvalFold) -> list[dict[str, Any]]:
    """Why samples errored: each kind with its count and one example message, most frequent first."""
    counts: dict[str, int] = {}
    for sid in fold.failed:
        why = fold.failure_kind.get(sid, "error")
        counts[why] = counts.get(why, 0) + 1
    return [
        {"kind": why, "count": n, "example": fold.failure_example.get(why, "")}
        for why, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}"


_COLUMNS = ("Model", "Dataset", "Metric", "Category", "Subset", "Num", "Score", "Errors", "CI low", "CI high")
_NUMERIC = {"Num", "Score", "Errors", "CI low", "CI high"}  # aligned right in --format markdown


class EvalReporter:
    """``build(path)``: the eval report of a log; ``render(report, console)``: its table and error summary;
    ``plain_table(report)``: its table as plain values and its numeric columns (``assay report --format
    markdown|csv``)."""

    def build(self, path: Path, *, workers: int | None = None) -> dict[str, Any]:
        return build_eval(path, workers=workers)

    def pass_fold(self, path: Path, *, workers: int | None = None) -> _Pass | None:
        """The fold for the kernel's one read of the log; None for a log large enough to fold in parallel."""
        workers = workers if workers is not None else min(4, os.cpu_count() or 1)
        if workers >= 2 and path.stat().st_size >= PARALLEL_MIN_BYTES:
            return None
        return _Pass(path)

    def plain_table(self, report: dict[str, Any]) -> tuple[tuple[str, ...], list[list[Any]], set[str]]:
        """Columns, rows of plain values and the numeric columns (see ``assay.report.table``)."""
        keys = ("model", "dataset", "metric", "category", "subset", "num", "score", "errors", "ci_low", "ci_high")
        return _COLUMNS, [[r[k] for k in keys] for r in report.get("rows", [])], _NUMERIC

    def render(self, report: dict[str, Any], console: Any) -> None:
        from rich.table import Table
        from rich.text import Text

        from assay.redact import inert_text, scrub

        def cell(v: Any) -> Any:  # names come from data files and flags: shown inert (no escapes, no markup)
            return inert_text("" if v is None else scrub(str(v)), multiline=False)

        if report.get("rows"):
            table = Table(title=cell(f"run {report.get('run_id', '')} ({report.get('status', '')})"))
            for col in ("Model", "Dataset", "Metric", "Category", "Subset", "Num", "Score", "Errors", "95% CI"):
                table.add_column(col, justify="right" if col in ("Num", "Score", "Errors") else "left")
            for r in report["rows"]:
                ci = "-" if r["ci_low"] is None else f"[{r['ci_low']:.4f}, {r['ci_high']:.4f}]"
                subset = r["subset"] + (f" ({r['pending']} pending)" if r.get("pending") else "")
                table.add_row(
                    cell(r["model"]),
                    cell(r["dataset"]),
                    cell(r["metric"]),
                    cell(r["category"]),
                    cell(subset),
                    str(r["num"]),
                    _fmt(r["score"])
                    + (f" on {r['judged']}/{r['judged'] + r['judge_failures']} judged" if "judged" in r else ""),
                    str(r["errors"]),
                    cell(ci),
                )
            console.print(table)
            console.print(
                f"errored samples: {report.get('errored_samples', 0)}; denominator: {report.get('denominator')}; "
                "CI: Wilson for 0/1 metrics, normal otherwise"
            )
            if "judge_failures" in report:
                console.print(
                    f"judge failures: {report['judge_failures']} (left out of the score and its denominator, never a 0)"
                )
                for e in report.get("judge_failures_by_kind", []):
                    console.print(Text(f"  {e['count']} x {e['kind']}: {scrub(e['example'])}"))
        if report.get("errors_by_kind"):
            console.print("why samples errored:")
            for e in report["errors_by_kind"]:
                # plain Text: server messages are shown as they are, never read as markup
                console.print(Text(f"  {e['count']} x {e['kind']}: {e['example']}"))


REPORTER = EvalReporter()
FoldBody = _FoldBody  # public: projections that feed EvalFold.feed() extend it
FoldLine = _FoldLine
