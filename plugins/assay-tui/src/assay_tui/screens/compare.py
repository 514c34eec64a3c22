"""Runs side by side: scores per metric and the samples whose status differs."""

from __future__ import annotations

from typing import ClassVar

from assay.redact import visible
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from ..index import STATUS_NAMES, RunIndex
from ..vtable import VirtualTable
from ..base import ViewScreen
from ..cells import STATUS_STYLE, InertText, cell, escape, fmt_score, short


def compare_rows(ixs: list[RunIndex]) -> list[tuple[tuple[str, str, str], list[float | None]]]:
    """Score table of several runs: (dataset, subset, metric) -> the score of each run."""
    order: list[tuple[str, str, str]] = []
    scores: dict[tuple[str, str, str], list[float | None]] = {}
    for k, ix in enumerate(ixs):
        for r in ix.report_rows():
            key = (r["dataset"], r["subset"], r["metric"])
            if key not in scores:
                order.append(key)
                scores[key] = [None] * len(ixs)
            scores[key][k] = r["score"]
    return [(key, scores[key]) for key in order]


def differing_samples(ixs: list[RunIndex]) -> tuple[int, list[tuple[str, list[int]]]]:
    """Samples present in every run whose outcome (passed/failed/errored/...) differs."""
    first = ixs[0]
    common = 0
    out: list[tuple[str, list[int]]] = []
    others = [(ix.sid_index, ix.status_of) for ix in ixs[1:]]
    for i, sid in enumerate(first.sids):
        idxs = [i]
        for sid_index, _ in others:
            j = sid_index.get(sid)
            if j is None:
                break
            idxs.append(j)
        else:
            common += 1
            s0 = first.status_of[i]
            if any(st[j] != s0 for (_, st), j in zip(others, idxs[1:])):
                out.append((sid, idxs))
    return common, out


class CompareScreen(ViewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("d", "diffs", "Differences"),
        Binding("t", "scores", "Scores"),
    ]

    def __init__(self, ixs: list[RunIndex]) -> None:
        super().__init__()
        self.ixs = ixs
        self.labels = [chr(65 + k) for k in range(len(ixs))]
        self.diffs: list[tuple[str, list[int]]] = []
        self.common = 0

    def compose(self) -> ComposeResult:
        yield Static("", classes="title", id="compare-title")
        with TabbedContent(initial="scores-tab", id="compare-tabs"):
            with TabPane("Scores", id="scores-tab"):
                yield DataTable(cursor_type="row", zebra_stripes=True, id="compare-scores")
            with TabPane("Differences", id="diffs-tab"):
                yield Static("", classes="hint", id="diffs-summary")
                yield VirtualTable([("Sample", 0)] + [(lab, 14) for lab in self.labels], self._cells, id="diffs")
                with VerticalScroll(id="detail-box"):
                    yield Static("", id="diff-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#compare-scores", DataTable)
        table.add_columns(
            "Dataset",
            "Subset",
            "Metric",
            *self.labels,
            "Δ " + (f"{self.labels[-1]}-A" if len(self.labels) > 1 else ""),
        )
        for ix in self.ixs:
            self.app.want(ix.path)  # type: ignore[attr-defined]
        self.fill()
        self.ready = True

    def fill(self) -> None:
        legend = " · ".join(
            f"[b]{lab}[/b] = {escape(ix.run_id or ix.run_dir.name)} ({escape(ix.model or '?')})"
            for lab, ix in zip(self.labels, self.ixs)
        )
        pending = [lab for lab, ix in zip(self.labels, self.ixs) if not ix.complete]
        shared = set(self.ixs[0].datasets)
        for ix in self.ixs[1:]:
            shared &= set(ix.datasets)
        note = f"  [yellow]indexing {', '.join(pending)}…[/]" if pending else ""
        if not shared and not pending:
            note += "  [yellow]these runs share no benchmark[/]"
        self.query_one("#compare-title", Static).update(legend + note)
        table = self.query_one("#compare-scores", DataTable)
        table.clear()
        for (ds, subset, metric), scores in compare_rows(self.ixs):
            delta = "-"
            if scores[0] is not None and scores[-1] is not None:
                delta = f"{scores[-1] - scores[0]:+.4f}"
            table.add_row(cell(ds), cell(subset), cell(metric), *(fmt_score(s) for s in scores), delta)
        if pending:
            return
        self.common, self.diffs = differing_samples(self.ixs)
        self.query_one("#diffs-summary", Static).update(
            f"{self.common:,} samples in all runs · {len(self.diffs):,} with a different outcome"
        )
        vt = self.query_one("#diffs", VirtualTable)
        vt.set_count(len(self.diffs))
        self.show_detail(vt.cursor)

    def _cells(self, row: int) -> tuple[str, ...]:
        sid, idxs = self.diffs[row]
        cells = [sid]
        for ix, i in zip(self.ixs, idxs):
            st = STATUS_NAMES[ix.status_of[i]]
            cells.append(f"{st} {fmt_score(ix.value[i]) if st != 'errored' else ''}".strip())
        return tuple(cells)

    def show_detail(self, row: int) -> None:
        box = self.query_one("#diff-detail", Static)
        if not self.diffs or row >= len(self.diffs):
            box.update("(no differing samples)")
            return
        sid, idxs = self.diffs[row]
        t = InertText(visible(sid) + "\n", style="bold")
        for lab, ix, i in zip(self.labels, self.ixs, idxs):
            d = ix.detail(i)
            g = (d.get("generated") or {}).get("body", {})
            t.append(f"\n{lab} ", style="bold")
            t.append(STATUS_NAMES[ix.status_of[i]] + "\n", style=STATUS_STYLE.get(STATUS_NAMES[ix.status_of[i]]))
            for ev in d.get("scored", []):
                s = ev["body"]
                t.append(
                    f"  {s.get('metric')} = {fmt_score(s.get('value'))}  extracted: {short(s.get('extracted'), 200)}\n"
                )
            for ev in d.get("failed", []):
                b = ev["body"]
                t.append(f"  {b.get('stage')}: {b.get('error_type')}: {b.get('message')}\n", style="red")
            if g:
                t.append("  output: " + short(g.get("output") or "", 500) + "\n")
        box.update(t)

    def on_virtual_table_highlighted(self, event: VirtualTable.Highlighted) -> None:
        self.show_detail(event.row)

    def index_changed(self, ix: RunIndex) -> None:
        if ix in self.ixs and self.ready:
            self.fill()

    def action_diffs(self) -> None:
        self.query_one("#compare-tabs", TabbedContent).active = "diffs-tab"
        self.query_one("#diffs", VirtualTable).focus()

    def action_scores(self) -> None:
        self.query_one("#compare-tabs", TabbedContent).active = "scores-tab"
        self.query_one("#compare-scores", DataTable).focus()
