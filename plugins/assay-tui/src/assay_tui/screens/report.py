"""A run's report: the kernel's table and every registered reporter's output."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from ..index import RunIndex
from ..base import ViewScreen, run_title, warnings_text
from ..cells import cell, fmt_score
from ..sections import reporter_sections
from .perf import PerfScreen
from .replay import ReplayScreen
from .samples import SamplesScreen


class ReportScreen(ViewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("enter", "samples", "Samples"),
        Binding("p", "perf", "Perf"),
        Binding("r", "replay", "Replay"),
    ]

    def __init__(self, ix: RunIndex) -> None:
        super().__init__()
        self.ix = ix
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Static("", classes="title", id="report-title")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="report")
        yield Static("", classes="warn", id="report-warn")
        yield Static("enter: the samples of a row · errors count as 0 unless the run ignored them", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#report", DataTable)
        table.add_columns("Dataset", "Subset", "Metric", "Num", "Score", "Err", "95% CI", "Category")
        self.fill()
        table.focus()
        self.ready = True
        # plugin reporters' sections, rendered by the reporters themselves (a new reporter needs no TUI code)
        sections = reporter_sections(self.ix.path, {r["dataset"] for r in self.rows}, max(40, self.app.size.width))
        if sections.plain.strip():
            self.mount(Static(sections, id="report-sections"), after=self.query_one("#report-warn"))

    def fill(self) -> None:
        ix = self.ix
        self.query_one("#report-title", Static).update(run_title(ix))
        self.query_one("#report-warn", Static).update(warnings_text(ix))
        table = self.query_one("#report", DataTable)
        row = table.cursor_row
        self.rows = ix.report_rows()
        table.clear()
        for r in self.rows:
            ci = "-" if r.get("ci_low") is None else f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
            subset = r["subset"] + (f" (+{r['pending']} pending)" if r.get("pending") else "")
            table.add_row(
                cell(r["dataset"]),
                cell(subset),
                cell(r["metric"]),
                str(r["num"]),
                fmt_score(r["score"]),
                str(r["errors"]),
                cell(ci),
                cell(r.get("category") or ""),
            )
        if self.rows:
            table.move_cursor(row=max(0, min(row, len(self.rows) - 1)))

    def index_changed(self, ix: RunIndex) -> None:
        if ix is self.ix and self.ready:
            self.fill()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_samples()

    def action_samples(self) -> None:
        table = self.query_one("#report", DataTable)
        if not self.rows or table.cursor_row < 0:
            return
        r = self.rows[min(table.cursor_row, len(self.rows) - 1)]
        self.app.push_screen(SamplesScreen(self.ix, r["dataset"], r["subset"]))

    def action_perf(self) -> None:
        self.app.push_screen(PerfScreen(self.ix))

    def action_replay(self) -> None:
        self.app.push_screen(ReplayScreen(self.ix.path))


# ---- samples ---------------------------------------------------------------------------
