"""Accuracy of MATH-500 by level and by subject at once: a projection of the event log.

The kernel's report groups by subset (the levels, by default), and a subset has one
category, so one run cannot show both groupings there. This reporter reads the log and
adds rows for both: ``level=3``, ``subject=Algebra``. The denominator is every loaded
sample (an errored or unscored sample counts as wrong), as the kernel's report does
without ``--ignore-errors``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import msgspec
from assay.log import decode_blocks

SCORER = "math_acc"


class _Body(msgspec.Struct):
    sample_id: str | None = None
    scorer: str | None = None
    metric: str | None = None
    value: float | None = None
    scorers: list[str] | None = None
    benchmark: str | None = None
    metadata: dict[str, Any] | None = None


class _Line(msgspec.Struct):
    type: str
    body: _Body


def fold(log_path: Path) -> dict[str, Any]:
    decoder = msgspec.json.Decoder(_Line)
    groups_of: dict[str, tuple[str, tuple[str, str]]] = {}
    totals: dict[tuple[str, str, str], list[float]] = {}
    # the kernel's block reader: torn tail skipped, broken lines reported with their number,
    # other plugins' events whose fields clash with _Line skipped
    for lines in decode_blocks(log_path, decoder, strict_types=set()):
        for ev in lines:
            b = ev.body
            if ev.type == "SampleLoaded" and b.sample_id and SCORER in (b.scorers or ()) and b.metadata:
                if b.sample_id in groups_of:
                    continue
                keys = (f"Level {b.metadata.get('level')}", str(b.metadata.get("subject")))
                groups_of[b.sample_id] = (b.benchmark or "", keys)
                for dim, val in zip(("level", "subject"), keys):
                    totals.setdefault((b.benchmark or "", dim, val), [0.0, 0])[1] += 1
            elif ev.type == "Scored" and b.scorer == SCORER and b.metric == "acc" and b.value:
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


class Breakdown:
    kinds: ClassVar[set[str]] = {"eval"}

    def build(self, log_path: Path) -> dict[str, Any]:
        return fold(Path(log_path))

    def render(self, report: dict[str, Any], console: Any) -> None:
        rows = report.get("rows") or []
        if not rows:
            return
        from assay.redact import inert_text
        from rich.table import Table

        table = Table(title="MATH-500 accuracy by level and by subject (errored samples count as wrong)")
        for col in ("Dataset", "By", "Group", "Num", "Score"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                inert_text(r["dataset"], multiline=False),  # names from the data files: shown inert
                inert_text(r["category"], multiline=False),
                inert_text(r["subset"], multiline=False),
                str(r["num"]),
                "-" if r["score"] is None else f"{r['score']:.4f}",
            )
        console.print(table)


REPORTER = Breakdown()  # the instance registered by name
