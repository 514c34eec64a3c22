"""A run's report: the kernel's table and every registered reporter's output."""

from __future__ import annotations

from typing import Any, ClassVar

from assay.redact import visible
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static, Tree

from ..index import RunIndex
from ..base import ViewScreen, run_title, warnings_text
from ..cells import cell, fmt_score
from ..sections import reporter_sections, reporter_trees
from .perf import PerfScreen
from .replay import ReplayScreen
from .samples import SamplesScreen


def _value(v: Any) -> str:
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else fmt_score(v)


def report_tree(name: str, title: str, nodes: list[dict[str, Any]]) -> Tree:
    """A reporter's tree as a Tree widget, every node open; each label is the node's name, padded so
    that its figures (``data``: column -> value) line up, shown inert (names come from data files)."""
    guide = 4  # Tree's default guide_depth: the indent of one level
    icon = 2  # the expand icon ("▼ ") before a node with children (and the root)
    columns = list(dict.fromkeys(k for n in _walk(nodes) for k in n[1].get("data", {})))

    def prefix(depth: int, node: dict[str, Any]) -> int:
        return (depth + 1) * guide + (icon if node.get("children") else 0)

    # where the figures start, for the root (the title) and every node: they line up in columns
    start = 2 + max(
        [icon + len(visible(title, multiline=False))]
        + [prefix(d, n) + len(visible(str(n.get("label", "")), multiline=False)) for d, n in _walk(nodes)]
    )
    widths = {c: max([len(c)] + [len(_value(n.get("data", {}).get(c))) for _, n in _walk(nodes)]) for c in columns}
    header = Text(visible(title, multiline=False).ljust(start - icon), style="bold")
    header.append("".join(f"{c:>{widths[c] + 2}}" for c in columns))
    tree: Tree = Tree(header, id=f"tree-{name}", classes="report-tree")
    tree.show_root = True
    tree.guide_depth = guide

    def add(parent: Any, items: list[dict[str, Any]], depth: int) -> None:
        for n in items:
            name_text = visible(str(n.get("label", "")), multiline=False)
            label = Text(name_text.ljust(start - prefix(depth, n)))
            data = n.get("data") or {}
            label.append("".join(f"{_value(data[c]) if c in data else '':>{widths[c] + 2}}" for c in columns))
            kids = n.get("children") or []
            if kids:
                add(parent.add(label, data=n, expand=True), kids, depth + 1)
            else:
                parent.add_leaf(label, data=n)

    add(tree.root, nodes, 0)
    tree.root.expand()
    return tree


def _walk(nodes: list[dict[str, Any]], depth: int = 0) -> list[tuple[int, dict[str, Any]]]:
    out: list[tuple[int, dict[str, Any]]] = []
    for n in nodes:
        out.append((depth, n))
        out += _walk(n.get("children") or [], depth + 1)
    return out


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
        yield Static("the reporters' sections are being built…", classes="hint", id="report-sections-wait")
        yield Static("enter: the samples of a row · errors count as 0 unless the run ignored them", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#report", DataTable)
        table.add_columns("Dataset", "Subset", "Metric", "Num", "Score", "Err", "95% CI", "Category")
        self.fill()
        table.focus()
        self.ready = True
        # plugin reporters' sections, rendered by the reporters themselves (a new reporter needs no TUI code),
        # built in a thread: a reporter folds the whole log (seconds for a million events), the screen stays live
        datasets = {r["dataset"] for r in self.rows}
        types = set(self.ix.event_types) if self.ix.complete else None  # (a copy: the index goes on reading)
        width = max(40, self.app.size.width)
        # started once the table is on screen: the build competes with the screen for the interpreter
        self.call_after_refresh(
            self.run_worker,
            lambda: self._build_sections(datasets, types, width),
            thread=True,
            group="sections",
            exit_on_error=False,
        )

    def _build_sections(self, datasets: set[str], types: set[str] | None, width: int) -> None:
        sections = reporter_sections(self.ix.path, datasets, width, trees=True, types=types)
        trees = reporter_trees(self.ix.path, datasets, types)
        self.app.call_from_thread(self._show_sections, sections, trees)

    def _show_sections(self, sections: Text, trees: list[tuple[str, str, list[dict[str, Any]]]]) -> None:
        if not self.is_attached:
            return  # the screen was closed while its reporters were built
        self.query_one("#report-sections-wait", Static).remove()
        if sections.plain.strip():
            self.mount(Static(sections, id="report-sections"), after=self.query_one("#report-warn"))
        # reporters that give a tree (a collection: collection -> dataset -> subset) get a Tree widget
        for name, title, nodes in reversed(trees):
            self.mount(report_tree(name, title, nodes), after=self.query_one("#report-warn"))

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
