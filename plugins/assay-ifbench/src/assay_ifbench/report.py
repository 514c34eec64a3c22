"""The breakdown of the official report (allenai/IFBench ``evaluation_lib.print_report``): instruction-level
accuracy per category (the id's prefix, ``count``, ``format``, ...) and per instruction id, strict and loose.

A projection over the log's ``Scored`` events (``inst_level_*``, whose ``extracted`` is the instruction id);
samples that errored have no such events and are counted apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay_reportkit.tables import Column, TableReporter, render_table

METRICS = ("inst_level_strict_acc", "inst_level_loose_acc")


def fold(path: Path) -> dict[str, Any]:
    from assay.log import iter_events

    # instruction id -> [strict followed, strict total, loose followed, loose total]
    counts: dict[str, list[int]] = {}
    errored: set[str] = set()
    for ev in iter_events(path, types={"Scored", "SampleFailed"}):
        b = ev.body
        if (b.benchmark or b.sample_id.split("/", 1)[0]) != "ifbench":
            continue
        if ev.type == "SampleFailed":
            errored.add(b.sample_id)
            continue
        if b.metric not in METRICS or not isinstance(b.extracted, str):
            continue
        c = counts.setdefault(b.extracted, [0, 0, 0, 0])
        i = 2 * METRICS.index(b.metric)
        c[i] += b.value == 1.0
        c[i + 1] += 1
    by_category: dict[str, list[int]] = {}
    for iid, c in counts.items():
        t = by_category.setdefault(iid.split(":")[0], [0, 0, 0, 0])
        for i in range(4):
            t[i] += c[i]
    return {
        "categories": [_row("category", k, c) for k, c in sorted(by_category.items())],
        "instructions": [_row("instruction", k, c) for k, c in sorted(counts.items())],
        "errored_samples": len(errored),
    }


def _row(key: str, name: str, c: list[int]) -> dict[str, Any]:
    return {
        key: name,
        "num": c[1],
        "strict": c[0] / c[1] if c[1] else None,
        "loose": c[2] / c[3] if c[3] else None,
    }


class IFBenchReporter(TableReporter):
    title = "IFBench by category"
    section = "categories"
    columns = (
        Column("Category", "category"),
        Column("Num", "num"),
        Column("Strict", "strict", "{:.4f}"),
        Column("Loose", "loose", "{:.4f}"),
    )

    def fold(self, log_path: Path) -> dict[str, Any]:
        return fold(log_path)

    def table(self, report: dict[str, Any]) -> Any:
        rows = self.rows_of(report)
        n = report.get("errored_samples")
        caption = f"{n} errored sample(s) left out" if n else None
        return render_table(self.title, self.columns, rows, caption=caption) if rows else None


REPORTER = IFBenchReporter()
