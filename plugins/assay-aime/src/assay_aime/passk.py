"""pass@k over the repeats of each problem: a projection of the event log (a reporter).

For every problem (benchmark, subset, local id) scored by ``aime_acc``: n = repeats loaded,
c = repeats whose ``acc`` is 1 (an errored or unscored repeat counts as wrong). pass@k is
the unbiased estimator 1 - C(n-c, k)/C(n, k) (Chen et al., 2021), averaged over problems,
for k = 1, 2, 4, ... and k = n; mean@k is the mean over problems of c/n (equal to the
kernel's mean of ``acc`` when no sample errored). The fold is the kernel's
(:class:`assay_reportkit.passk.Repeats`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay_reportkit.passk import RepeatBody, Repeats, doubling_ks, mean_pass_at_k
from assay_reportkit.tables import Column, TableReporter, read_bodies

SCORER = "aime_acc"

ks_for = doubling_ks  # k = 1, 2, 4, ... and n


def fold(log_path: Path, scorer: str = SCORER) -> dict[str, Any]:
    reps = Repeats(scorer)
    for type_, body in read_bodies(log_path, RepeatBody):
        reps.add(type_, body)
    rows = []
    for (bench, subset), problems in reps.groups().items():
        items = reps.counts(problems, "acc")
        n_min = min(n for n, _ in items)
        common = {"num": len(items), "problems": len(items), "samples_per_problem": n_min}
        for k in ks_for(n_min):
            rows.append(
                {
                    "dataset": bench,
                    "subset": subset,
                    "category": "-",
                    "metric": f"pass@{k}",
                    "k": k,
                    "score": mean_pass_at_k(items, k),
                    **common,
                }
            )
        rows.append(
            {
                "dataset": bench,
                "subset": subset,
                "category": "-",
                "metric": f"mean@{n_min}",
                "k": n_min,
                "score": sum(c / n for n, c in items) / len(items),
                **common,
            }
        )
    return {"rows": rows}


class PassAtK(TableReporter):
    title = "AIME pass@k (unbiased estimator over the repeats of each problem)"
    columns = (
        Column("Dataset", "dataset"),
        Column("Subset", "subset"),
        Column("Metric", "metric"),
        Column("Problems", "problems"),
        Column("Samples/problem", "samples_per_problem"),
        Column("Score", "score", "{:.4f}"),
    )
    projection = fold


REPORTER = PassAtK()  # the instance registered by name
