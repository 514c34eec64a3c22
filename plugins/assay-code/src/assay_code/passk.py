"""pass@k over the repeats of each problem, and what the executions did: a projection of the log.

For every problem (benchmark, subset, local id) and every metric of ``code_pass``: n = repeats
loaded, c = repeats scored 1. A repeat that errored (a sandbox error, a failed generation) stays in
n and is not correct, as the kernel's own table counts errors, unless the run was made with
``ignore_errors``; then n counts the scored repeats only. pass@k is the unbiased estimator of
Chen et al. (2021), 1 - C(n-c, k) / C(n, k), averaged over problems, for k in 1, 5, 10 where
every problem has n >= k.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay_reportkit.passk import RepeatBody, Repeats, mean_pass_at_k
from assay_reportkit.tables import Column, TableReporter, read_bodies

SCORER = "code_pass"
KS = (1, 5, 10)


class _Body(RepeatBody):
    verdict: str | None = None
    stage: str | None = None
    resolved: dict[str, Any] | None = None


def fold(log_path: Path) -> dict[str, Any]:
    reps = Repeats(SCORER)  # the kernel's fold of the repeats of each problem
    verdicts: dict[tuple[str, str], dict[str, int]] = {}
    errored: dict[tuple[str, str], set[str]] = {}
    ignore_errors = False
    for type_, b in read_bodies(log_path, _Body):
        key = reps.add(type_, b)
        if type_ == "Executed" and key is not None:
            counts = verdicts.setdefault(key[:2], {})
            counts[b.verdict or "?"] = counts.get(b.verdict or "?", 0) + 1
        elif type_ == "SampleFailed" and key is not None:
            errored.setdefault(key[:2], set()).add(b.sample_id or "")
        elif type_ == "RunStarted":
            ignore_errors = bool((b.resolved or {}).get("ignore_errors"))
    rows = []
    for group, problems in reps.groups().items():
        scored_ids = {sid for (p, _m), by in reps.values.items() if p[:2] == group for sid in by}
        errors = len(errored.get(group, set()) - scored_ids)
        for metric in sorted(reps.metrics.get(group, {"pass"})):
            items = reps.counts(problems, metric, scored_only=ignore_errors)
            if not items:
                continue
            n_min = min(n for n, _ in items)
            for k in KS:
                if k > n_min:
                    continue
                rows.append(
                    {
                        "dataset": group[0],
                        "subset": group[1],
                        "metric": f"{metric}@{k}",
                        "k": k,
                        "score": mean_pass_at_k(items, k),
                        "problems": len(items),
                        "samples_per_problem": n_min,
                        "errors": errors,
                    }
                )
    executions = [
        {"dataset": g[0], "subset": g[1], "verdicts": dict(sorted(v.items()))} for g, v in sorted(verdicts.items())
    ]
    return {"rows": rows, "executions": executions}


class PassAtK(TableReporter):
    title = "code: pass@k (unbiased estimator over the repeats of each problem)"
    columns = (
        Column("Dataset", "dataset"),
        Column("Subset", "subset"),
        Column("Metric", "metric"),
        Column("Problems", "problems", justify="right"),
        Column("Samples/problem", "samples_per_problem"),
        Column("Errors", "errors", justify="right"),
        Column("Score", "score", "{:.4f}", justify="right"),
    )
    projection = fold

    def notes(self, report: dict[str, Any]) -> list[str]:
        return [
            f"executions of {e['dataset']}/{e['subset']}: " + ", ".join(f"{k} {v}" for k, v in e["verdicts"].items())
            for e in report.get("executions") or []
        ]


REPORTER = PassAtK()
