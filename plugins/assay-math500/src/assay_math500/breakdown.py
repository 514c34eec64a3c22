"""Accuracy of MATH-500 by level and by subject at once: a projection of the event log.

The kernel's report groups by subset (the levels, by default), and a subset has one
category, so one run cannot show both groupings there. This reporter reads the log and
adds rows for both: ``level=3``, ``subject=Algebra``. The denominator is every loaded
sample (an errored or unscored sample counts as wrong), as the kernel's report does
without ``--ignore-errors``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from assay_reportkit.tables import Column, TableReporter, read_bodies

SCORER = "math_acc"


class _Body(msgspec.Struct):
    sample_id: str | None = None
    scorer: str | None = None
    metric: str | None = None
    value: float | None = None
    scorers: list[str] | None = None
    benchmark: str | None = None
    metadata: dict[str, Any] | None = None


def fold(log_path: Path) -> dict[str, Any]:
    groups_of: dict[str, tuple[str, tuple[str, str]]] = {}
    totals: dict[tuple[str, str, str], list[float]] = {}
    for type_, b in read_bodies(log_path, _Body):  # the kernel's reader
        if type_ == "SampleLoaded" and b.sample_id and SCORER in (b.scorers or ()) and b.metadata:
            if b.sample_id in groups_of:
                continue
            keys = (f"Level {b.metadata.get('level')}", str(b.metadata.get("subject")))
            groups_of[b.sample_id] = (b.benchmark or "", keys)
            for dim, val in zip(("level", "subject"), keys):
                totals.setdefault((b.benchmark or "", dim, val), [0.0, 0])[1] += 1
        elif type_ == "Scored" and b.scorer == SCORER and b.metric == "acc" and b.value:
            hit = groups_of.get(b.sample_id or "")
            if hit is not None:
                bench, keys = hit
                for dim, val in zip(("level", "subject"), keys):
                    totals[(bench, dim, val)][0] += b.value
    rows = [
        {"dataset": bench, "metric": "acc", "category": dim, "subset": val, "num": n, "score": s / n if n else None}
        for (bench, dim, val), (s, n) in sorted(totals.items())
    ]
    return {"rows": rows}


class Breakdown(TableReporter):
    title = "MATH-500 accuracy by level and by subject (errored samples count as wrong)"
    columns = (
        Column("Dataset", "dataset"),
        Column("By", "category"),
        Column("Group", "subset"),
        Column("Num", "num"),
        Column("Score", "score", "{:.4f}"),
    )
    projection = fold


REPORTER = Breakdown()  # the instance registered by name
