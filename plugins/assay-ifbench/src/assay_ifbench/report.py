"""The breakdown of the official report (allenai/IFBench ``evaluation_lib.print_report``): instruction-level
accuracy per category (the id's prefix, ``count``, ``format``, ...) and per instruction id, strict and loose.

A projection over the log's ``Scored`` events (``inst_level_*``, whose ``extracted`` is the instruction id);
samples that errored have no such events and are counted apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

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


class IFBenchReporter:
    kinds: ClassVar[set[str]] = {"eval"}

    def build(self, log_path: Path) -> dict[str, Any]:
        return fold(Path(log_path))

    def render(self, report: dict[str, Any], console: Any) -> None:
        rows = report.get("categories") or []
        if not rows:
            return
        from assay.redact import inert_text
        from rich.table import Table

        n = report.get("errored_samples")
        table = Table(
            title="IFBench by category",
            caption=f"{n} errored sample(s) left out" if n else None,
        )
        for col in ("Category", "Num", "Strict", "Loose"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                inert_text(r["category"], multiline=False),
                str(r["num"]),
                *("-" if r[k] is None else f"{r[k]:.4f}" for k in ("strict", "loose")),
            )
        console.print(table)


REPORTER = IFBenchReporter()
