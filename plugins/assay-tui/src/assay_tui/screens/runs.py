"""The runs list: every run found under the given paths, marked for compare, opened."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from assay.redact import visible
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from ..index import RunIndex
from ..runs import RunInfo
from ..base import ViewScreen
from ..cells import cell, escape, fmt_score, fmt_ts
from .compare import CompareScreen
from .perf import PerfScreen
from .replay import ReplayScreen
from .report import ReportScreen

if TYPE_CHECKING:
    from ..app import ViewApp


class RunsScreen(ViewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open"),
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("p", "perf", "Perf"),
        Binding("r", "replay", "Replay"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.marked: set[Path] = set()

    def compose(self) -> ComposeResult:
        yield Static("", classes="title", id="runs-title")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="runs")
        yield Static("", classes="warn", id="runs-warn")
        yield Footer()

    @property
    def app_(self) -> ViewApp:
        return self.app  # type: ignore[return-value]

    def on_mount(self) -> None:
        table = self.query_one("#runs", DataTable)
        table.add_columns("Run", "Model", "Datasets", "Status", "Samples", "Err", "Score", "Started (UTC)", "Kind")
        self.fill()
        table.focus()
        self.ready = True

    def _progress(self, info: RunInfo) -> tuple[str, str, str]:
        ix = self.app_.indexes.get(info.path)
        if ix is not None and not ix.complete:
            pct = 100 * ix.offset / max(1, info.size or 1)
            return f"{min(pct, 99.9):.0f}%…", "…", fmt_score(info.score)
        return (
            "-" if info.samples is None else str(info.samples),
            "-" if info.errors is None else str(info.errors),
            fmt_score(info.score) if info.kind != "perf" else "perf",
        )

    def fill(self) -> None:
        table = self.query_one("#runs", DataTable)
        row = table.cursor_row
        table.clear()
        for info in self.app_.infos:
            samples, errors, score = self._progress(info)
            status = Text(
                visible(info.status, multiline=False),
                style="green" if info.status == "completed" else ("yellow" if info.status == "running" else "red"),
            )
            table.add_row(
                cell(("*" if info.path in self.marked else " ") + info.run_id),
                cell(info.model),
                cell(",".join(info.datasets)),
                status,
                samples,
                errors,
                score,
                fmt_ts(info.started),
                cell(info.kind),
                key=str(info.path),
            )
        if self.app_.infos:
            table.move_cursor(row=min(row, len(self.app_.infos) - 1))
        n = len(self.app_.infos)
        where = ", ".join(str(p) for p in self.app_.paths)
        self.query_one("#runs-title", Static).update(
            f"[b]assay view[/b] — {n} run{'s' if n != 1 else ''} in {escape(where)}"
            + ("" if n else "  [yellow](no runs found)[/]")
        )
        self.show_warnings()

    def current(self) -> RunInfo | None:
        infos = self.app_.infos
        table = self.query_one("#runs", DataTable)
        if not infos or table.cursor_row < 0 or table.cursor_row >= len(infos):
            return None
        return infos[table.cursor_row]

    def show_warnings(self) -> None:
        info = self.current()
        lines = list(self.app_.problems)
        if info is not None:
            ix = self.app_.indexes.get(info.path)
            lines += ix.warnings if ix is not None else []
            torn = ix.torn_warning if ix is not None and ix.complete else None
            lines += [w for w in info.warnings if "unterminated" not in w or torn or ix is None or not ix.complete]
            if torn and torn not in lines:
                lines.append(torn)
        self.query_one("#runs-warn", Static).update("\n".join("⚠ " + escape(w) for w in dict.fromkeys(lines)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_warnings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def index_changed(self, ix: RunIndex) -> None:
        if self.ready:
            self.fill()

    def action_open(self) -> None:
        info = self.current()
        if info is None:
            return
        ix = self.app_.index_for(info.path)
        self.app_.want(info.path)
        self.app.push_screen(PerfScreen(ix) if info.kind == "perf" else ReportScreen(ix))

    def action_mark(self) -> None:
        info = self.current()
        if info is None:
            return
        self.marked ^= {info.path}
        self.fill()

    def action_compare(self) -> None:
        paths = [i.path for i in self.app_.infos if i.path in self.marked]
        if len(paths) < 2:
            self.notify("mark two or more runs with space, then press c", severity="warning")
            return
        self.app.push_screen(CompareScreen([self.app_.index_for(p) for p in paths]))

    def action_perf(self) -> None:
        info = self.current()
        if info is not None:
            self.app_.want(info.path)
            self.app.push_screen(PerfScreen(self.app_.index_for(info.path)))

    def action_replay(self) -> None:
        info = self.current()
        if info is not None:
            self.app.push_screen(ReplayScreen(info.path))


# ---- report --------------------------------------------------------------------------
