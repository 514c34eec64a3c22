"""ProcessBench's F1, a projection of the event log (official ``code/run_eval.py``)::

    acc1 = mean(match over samples with label != -1)   # error_acc
    acc2 = mean(match over samples with label == -1)   # correct_acc
    f1 = 2 * acc1 * acc2 / (acc1 + acc2)

per subset, and the mean F1 over the subsets present (the paper's "Avg. F1"). The denominator
is every loaded sample: one with no score (a failed request) counts as a miss in its own
group, so a failure never raises a score. A score of 0 on both sides gives F1 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from assay_reportkit.tables import Column, TableReporter, fixed, read_bodies

SCORER = "process_bench_match"
BENCHMARK = "process_bench"


class _Body(msgspec.Struct):
    sample_id: str | None = None
    scorer: str | None = None
    value: float | None = None
    benchmark: str | None = None
    subset: str | None = None
    target: Any = None
    scorers: list[str] | None = None


def f1(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return 2 * a * b / (a + b) if a + b else 0.0


def fold(log_path: Path) -> dict[str, Any]:
    group: dict[str, tuple[str, bool]] = {}  # sample_id -> (subset, erroneous)
    value: dict[str, float] = {}
    for type_, b in read_bodies(log_path, _Body):  # the kernel's reader
        if type_ == "SampleLoaded" and b.sample_id and SCORER in (b.scorers or ()):
            try:
                label = int(b.target)
            except (TypeError, ValueError):
                continue
            group.setdefault(b.sample_id, (b.subset or "default", label != -1))
        elif type_ == "Scored" and b.scorer == SCORER and b.sample_id and b.value is not None:
            value[b.sample_id] = b.value
    sums: dict[tuple[str, bool], list[float]] = {}
    for sid, key in group.items():
        acc = sums.setdefault(key, [0.0, 0])
        acc[0] += value.get(sid, 0.0)
        acc[1] += 1
    rows = []
    for subset in sorted({s for s, _ in sums}, key=_order):
        err, cor = sums.get((subset, True)), sums.get((subset, False))
        a1 = err[0] / err[1] if err else None
        a2 = cor[0] / cor[1] if cor else None
        rows.append(
            {
                "dataset": BENCHMARK,
                "subset": subset,
                "error_num": err[1] if err else 0,
                "error_acc": a1,
                "correct_num": cor[1] if cor else 0,
                "correct_acc": a2,
                "f1": f1(a1, a2),
            }
        )
    scores = [r["f1"] for r in rows if r["f1"] is not None]
    return {"rows": rows, "mean_f1": sum(scores) / len(scores) if scores else None}


def _order(subset: str) -> tuple[int, str]:
    from .benchmark import SUBSETS

    return (SUBSETS.index(subset) if subset in SUBSETS else len(SUBSETS), subset)


class F1Report(TableReporter):
    title = "ProcessBench (official run_eval.py): error / correct accuracy and F1, in %"
    columns = (
        Column("Subset", "subset"),
        Column("Err num", "error_num"),
        Column("Error acc", "error_acc", fixed(1, 100)),
        Column("Corr num", "correct_num"),
        Column("Correct acc", "correct_acc", fixed(1, 100)),
        Column("F1", "f1", fixed(1, 100)),
    )
    projection = fold

    def table(self, report: dict[str, Any]) -> Any:
        table = super().table(report)
        if table is not None:
            mean = report.get("mean_f1")
            table.add_row("Avg. F1", "", "", "", "", "-" if mean is None else f"{100 * mean:.1f}")
        return table


REPORTER = F1Report()  # the instance registered by name
