"""The ``assay view`` application: screens over run logs, all read-only projections."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from assay.redact import inert_markup, visible
from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from .index import ERRORED, FAILED, PASSED, STATUS_NAMES, Replayer, RunIndex, perf_metrics, throughput_series
from .runs import RunInfo, find_logs, read_info
from .vtable import VirtualTable

INDEX_SLICE = 32 << 20  # bytes indexed between two screen updates


# Log data (names, model ids, outputs, server messages) is untrusted: shown inert, never as markup or escapes.
def escape(text: Any) -> str:
    """Untrusted text for a markup string: control characters shown as escapes, markup escaped."""
    return inert_markup(text, multiline=False)


def cell(value: Any) -> Text:
    """A table cell of untrusted text: a ``Text`` (DataTable reads a str as markup), escapes shown."""
    return Text(visible("" if value is None else str(value), multiline=False))


class InertText(Text):
    """A ``Text`` whose appended strings have their control characters shown as escapes."""

    def append(self, text: Any, style: Any = None) -> InertText:
        return super().append(visible(text) if isinstance(text, str) else text, style)  # type: ignore[return-value]


def fmt_score(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.4f}"


def fmt_num(v: Any, unit: str = "", digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{digits}f}{unit}"


def fmt_ts(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


def short(value: Any, n: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= n else text[: n - 1] + "…"


STATUS_STYLE = {
    "passed": Style(color="green"),
    "failed": Style(color="red"),
    "errored": Style(color="yellow", bold=True),
    "pending": Style(dim=True),
    "generated": Style(dim=True),
}


# ---- the app --------------------------------------------------------------------------


class ViewApp(App[int]):
    """``assay view``: runs list, report, samples, compare, perf, live tail and replay."""

    TITLE = "assay view"
    CSS = """
    Screen { layout: vertical; }
    .title { height: auto; max-height: 3; background: $boost; padding: 0 1; }
    .warn { height: auto; max-height: 3; color: $warning; padding: 0 1; }
    .hint { height: 1; color: $text-muted; padding: 0 1; }
    DataTable { height: 1fr; }
    #detail-box { height: 1fr; border-top: solid $primary; }
    #detail { padding: 0 1; }
    #search { display: none; }
    #search.shown { display: block; }
    #replay-event-box { height: 1fr; border-top: solid $primary; }
    TabbedContent { height: 1fr; }
    TabbedContent > ContentSwitcher { height: 1fr; }
    TabPane { height: 1fr; padding: 0; }
    .formula { height: auto; color: $text-muted; padding: 0 1; }
    #replay-report { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False),
    ]
    INDEX_DELAY = 0.1  # seconds after the first paint before the background indexing starts

    def __init__(
        self, paths: list[str | os.PathLike[str]], *, replay: bool = False, live_interval: float = 1.0
    ) -> None:
        super().__init__()
        self.paths = [Path(p) for p in paths]
        self.start_replay = replay
        self.live_interval = live_interval
        self.infos: list[RunInfo] = []
        self.problems: list[str] = []
        self.indexes: dict[Path, RunIndex] = {}
        self.wanted: Path | None = None
        self._warned: set[str] = set()

    # ---- runs and indexes ----------------------------------------------------------

    def discover(self) -> bool:
        logs, self.problems = find_logs(self.paths)
        known = {i.path for i in self.infos}
        added = [read_info(p) for p in logs if p not in known]
        if added:  # a new list, swapped in whole: the UI thread may be iterating the old one
            self.infos = sorted(self.infos + added, key=lambda i: (i.started or 0, i.run_id))
        return bool(added)

    def index_for(self, path: Path) -> RunIndex:
        ix = self.indexes.get(path)
        if ix is None:
            ix = self.indexes[path] = RunIndex(path)
        return ix

    def want(self, path: Path) -> None:
        """Index this run before the others (a screen shows it)."""
        self.wanted = path
        if not self.index_for(path).complete:
            self.start_indexing()

    def on_mount(self) -> None:
        self.discover()
        self.push_screen(RunsScreen())
        for p in self.problems:
            self.notify(escape(p), severity="warning", timeout=8)
        # index after the first screen is painted: the runs list shows what head/tail/report.json say
        self.call_after_refresh(lambda: self.set_timer(self.INDEX_DELAY, self.start_indexing))
        if self.live_interval > 0:
            self.set_interval(self.live_interval, self.tail)
        if self.start_replay and self.infos:
            self.push_screen(ReplayScreen(self.infos[0].path))

    @property
    def all_indexed(self) -> bool:
        """Every run listed is fully indexed and no indexing or tail worker runs (tests, benchmarks)."""
        if any(w.group in ("index", "tail") and w.is_running for w in self.workers):
            return False
        return all(i.path in self.indexes and self.indexes[i.path].complete for i in self.infos)

    def start_indexing(self) -> None:
        self.run_worker(self._index_all, thread=True, group="index", exclusive=True, exit_on_error=False)

    def _next_to_index(self) -> RunIndex | None:
        if self.wanted is not None and not self.index_for(self.wanted).complete:
            return self.index_for(self.wanted)
        for info in list(self.infos):
            ix = self.index_for(info.path)
            if not ix.complete:
                return ix
        return None

    def _index_all(self) -> None:
        worker = get_current_worker()
        while not worker.is_cancelled:
            ix = self._next_to_index()
            if ix is None:
                return
            ix.update(max_bytes=INDEX_SLICE)
            if not worker.is_cancelled:
                self.call_from_thread(self.indexed, ix)

    def tail(self) -> None:
        """Follow logs that grow (live runs) and run directories that appear."""
        if any(w.group in ("index", "tail") and w.is_running for w in self.workers):
            return
        self.run_worker(self._tail_all, thread=True, group="tail", exclusive=True, exit_on_error=False)

    def _tail_all(self) -> None:
        if self.discover():
            self.call_from_thread(self.start_indexing)
        for ix in list(self.indexes.values()):
            if ix.complete and ix.update():
                self.call_from_thread(self.indexed, ix)

    def indexed(self, ix: RunIndex) -> None:
        """Called on the UI thread when an index read more lines."""
        for info in self.infos:
            if info.path == ix.path:
                if ix.complete:
                    if ix.kind == "perf":  # requests and failed requests (measure phase)
                        info.samples = sum(len(p.sent) for p in ix.perf.values())
                        info.errors = sum(len(p.ok) - sum(p.ok) for p in ix.perf.values())
                        info.score = None
                    else:
                        info.samples = ix.n_samples
                        info.errors = ix.n_errors
                        info.score = ix.headline()
                    info.status = ix.status
                if ix.model:
                    info.model = ix.model
        # corrupted lines pop up once; a torn tail (maybe a line being written) is only listed on screen
        for w in ix.warnings:
            if w not in self._warned:
                self._warned.add(w)
                self.notify(escape(w), title="log warning", severity="warning", timeout=8)
        for screen in self.screen_stack:
            handler = getattr(screen, "index_changed", None)
            if handler is not None:
                handler(ix)


# ---- runs list ----------------------------------------------------------------------


class ViewScreen(Screen[None]):
    ready = False  # set once on_mount has built the widgets; index updates wait for it


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


def run_title(ix: RunIndex) -> str:
    state = ix.status if ix.complete else f"indexing {100 * ix.offset / max(1, os.path.getsize(ix.path)):.0f}%"
    return (
        f"[b]{escape(ix.run_id or ix.run_dir.name)}[/b] · {escape(ix.model or '?')} · {escape(ix.kind)} · "
        f"{escape(state)} · {ix.events:,} events"
    )


def warnings_text(ix: RunIndex) -> str:
    ws = list(ix.warnings)
    if ix.complete and ix.torn_warning:
        ws.append(ix.torn_warning)
    return "\n".join("⚠ " + escape(w) for w in ws)


def reporter_sections(path: Path, datasets: set[str], width: int = 100) -> Text:
    """What the plugin reporters registered for an eval run render for it (as ``assay report`` prints them)."""
    import io

    from assay.plugins import host
    from assay.report import run_kind
    from rich.console import Console

    out = Text()
    try:
        kind = run_kind(path)
    except Exception:  # noqa: BLE001 - a damaged log is reported by the screen's own reader
        return out
    if kind != "eval":
        return out
    for name, entry in sorted(host().reporters().items()):
        benchmarks = entry.options.get("benchmarks")
        if benchmarks and not datasets & set(benchmarks):
            continue
        try:
            if kind not in (entry.options.get("kinds") or getattr(entry.obj, "kinds", ())):
                continue
            console = Console(file=io.StringIO(), record=True, width=width, force_terminal=True)
            entry.obj.render(entry.obj.build(path), console)
            out.append_text(Text.from_ansi(console.export_text(styles=True)))
        except Exception as exc:  # noqa: BLE001 - one reporter's bug must not hide the report
            out.append(f"reporter {name} ({entry.distribution}) failed: {type(exc).__name__}: {exc}\n", style="red")
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


def detail_text(d: dict[str, Any]) -> Text:
    """The detail pane of one sample: input, output, reasoning, scores, timings, errors."""
    t = InertText()

    def head(title: str) -> None:
        t.append(f"\n{title}\n", style="bold underline")

    t.append(d["sample_id"], style="bold")
    loaded = (d.get("loaded") or {}).get("body", {})
    if loaded:
        if loaded.get("category"):
            t.append(f"  category: {loaded['category']}")
        head("Target")
        t.append(short(loaded.get("target"), 2000) + "\n")
        if loaded.get("choices"):
            head("Choices")
            for k, c in enumerate(loaded["choices"]):
                t.append(f"  {chr(65 + k) if k < 26 else k}. {c}\n")
        if loaded.get("messages"):
            head("Messages")
            for m in loaded["messages"]:
                t.append(f"[{m.get('role', '?')}] ", style="bold cyan")
                content = m.get("content")
                t.append((content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)) + "\n")
        if loaded.get("prompt") is not None:
            head("Prompt")
            t.append(str(loaded["prompt"]) + "\n")
    gen_ev = d.get("generated")
    if gen_ev:
        g = gen_ev["body"]
        head("Output")
        if g.get("error"):
            t.append(f"error: {g['error']}\n", style="red")
        t.append((g.get("output") or "") + "\n")
        if g.get("reasoning"):
            head("Reasoning")
            t.append(g["reasoning"] + "\n", style="italic")
        if g.get("choice_logprobs"):
            t.append(f"choice log-probs: {g['choice_logprobs']}\n")
    if d.get("scored"):
        head("Scores")
        for ev in d["scored"]:
            s = ev["body"]
            t.append(f"{s.get('scorer')}/{s.get('metric')} = {fmt_score(s.get('value'))}", style="bold")
            t.append(f"  extracted: {short(s.get('extracted'), 300)}\n")
            if s.get("explanation"):
                t.append(f"  {s['explanation']}\n", style="dim")
    if gen_ev:
        g = gen_ev["body"]
        head("Timings")
        u = g.get("usage") or {}
        t.append(
            f"latency {fmt_num(g.get('latency'), ' s', 3)} · attempt {g.get('attempt', 1)} · finish {g.get('finish_reason') or '-'}"
            f" · tokens in {u.get('prompt_tokens', '-')} out {u.get('completion_tokens', '-')}"
            + (f" reasoning {u['reasoning_tokens']}" if u.get("reasoning_tokens") else "")
            + f" · at {time.strftime('%H:%M:%S', time.gmtime(gen_ev.get('ts', 0)))} UTC (seq {gen_ev.get('seq')})\n"
        )
    if d.get("failed"):
        head("Errors")
        for ev in d["failed"]:
            b = ev["body"]
            t.append(
                f"{b.get('stage')}: {b.get('error_type')}: {b.get('message')} (attempt {b.get('attempt', 1)})\n",
                style="red",
            )
    if not loaded and not gen_ev:
        t.append("\n(no events for this sample yet)")
    return t


class SamplesScreen(ViewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("a", "filter('all')", "All"),
        Binding("s", "filter('passed')", "Passed"),
        Binding("f", "filter('failed')", "Failed"),
        Binding("e", "filter('errored')", "Errored"),
        Binding("slash", "search", "Search"),
        Binding("tab", "focus_next", "Detail", show=False),
    ]
    SEARCH_IN_THREAD = 20_000

    def __init__(self, ix: RunIndex, dataset: str, subset: str) -> None:
        super().__init__()
        self.ix = ix
        self.dataset = dataset
        self.subset = subset
        self.filter = "all"
        self.query_text = ""
        self.rows = np.zeros(0, np.int32)
        self.counts: dict[str, int] = {}
        self._fh: Any = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="title", id="samples-title")
        yield Input(placeholder="search id, prompt, output, target… (enter to apply, esc to clear)", id="search")
        yield VirtualTable(
            [("Sample", 18), ("Status", 8), ("Score", 6), ("Extracted", 0), ("Target", 14)],
            self._cells,
            self._style,
            id="samples",
        )
        with VerticalScroll(id="detail-box"):
            yield Static("", id="detail")
        yield Footer()

    def on_mount(self) -> None:
        self.recompute(keep=False)
        self.query_one("#samples", VirtualTable).focus()
        self.ready = True

    def on_unmount(self) -> None:
        if self._fh is not None:
            self._fh.close()

    def _file(self) -> Any:
        if self._fh is None:
            self._fh = open(self.ix.path, "rb")  # noqa: SIM115 - kept open while the screen shows rows
        return self._fh

    def _cells(self, row: int) -> tuple[str, ...]:
        i = int(self.rows[row])
        r = self.ix.row(i, self._file())
        prefix = f"{self.dataset}/"
        sid = r["sample_id"].removeprefix(prefix)
        if not self.subset.startswith("OVERALL"):
            sid = sid.split("/", 1)[-1]
        ext = r["extracted"]
        return (
            sid,
            r["status"],
            fmt_score(r["score"]) if r["status"] != "errored" else "-",
            "" if ext is None else short(ext),
            "" if r["target"] is None else short(r["target"]),
        )

    def _style(self, row: int) -> Style | None:
        i = int(self.rows[row])
        return STATUS_STYLE.get(STATUS_NAMES[self.ix.status_of[i]])

    def recompute(self, keep: bool = True) -> None:
        ix = self.ix
        members = ix.members(ix.group(self.dataset, self.subset))
        st = ix.statuses()[members] if len(members) else np.zeros(0, np.uint8)
        self.counts = {
            "all": len(members),
            "passed": int((st == PASSED).sum()),
            "failed": int((st == FAILED).sum()),
            "errored": int((st == ERRORED).sum()),
        }
        code = {"passed": PASSED, "failed": FAILED, "errored": ERRORED}.get(self.filter)
        rows = members if code is None else members[st == code]
        if self.query_text:
            if len(rows) > self.SEARCH_IN_THREAD:
                self._search_thread(rows, self.query_text, keep)
                self._show_title(searching=True)
                return
            rows = ix.search(rows, self.query_text)
        self._apply(rows, keep)

    @work(thread=True, exclusive=True, group="search")
    def _search_thread(self, rows: np.ndarray, needle: str, keep: bool) -> None:
        found = self.ix.search(rows, needle)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._apply, found, keep)

    def _apply(self, rows: np.ndarray, keep: bool) -> None:
        self.rows = rows
        table = self.query_one("#samples", VirtualTable)
        table.set_count(len(rows), keep_cursor=keep)
        self._show_title()
        self.show_detail(table.cursor)

    def _show_title(self, searching: bool = False) -> None:
        c = self.counts
        where = self.dataset if self.subset.startswith("OVERALL") else f"{self.dataset} / {self.subset}"
        filt = "all" if self.filter == "all" else self.filter
        q = f" · search: {escape(self.query_text)!s}" if self.query_text else ""
        state = " · searching…" if searching else ""
        self.query_one("#samples-title", Static).update(
            f"[b]{escape(where)}[/b] — {c.get('all', 0):,} samples · [green]passed {c.get('passed', 0):,}[/] · "
            f"[red]failed {c.get('failed', 0):,}[/] · [yellow]errored {c.get('errored', 0):,}[/] · "
            f"showing {filt}: {len(self.rows):,}{q}{state}"
        )

    def show_detail(self, row: int) -> None:
        box = self.query_one("#detail", Static)
        if not len(self.rows) or row >= len(self.rows):
            box.update("(no samples match)" if self.counts.get("all") else "(no samples yet)")
            return
        box.update(detail_text(self.ix.detail(int(self.rows[row]))))
        self.query_one("#detail-box", VerticalScroll).scroll_home(animate=False)

    def on_virtual_table_highlighted(self, event: VirtualTable.Highlighted) -> None:
        self.show_detail(event.row)

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        self.query_one("#detail-box", VerticalScroll).focus()

    def index_changed(self, ix: RunIndex) -> None:
        if ix is self.ix and self.ready:
            self.recompute(keep=True)

    def action_filter(self, name: str) -> None:
        self.filter = name
        self.recompute(keep=False)

    def action_search(self) -> None:
        inp = self.query_one("#search", Input)
        inp.add_class("shown")
        inp.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_text = event.value.strip()
        event.input.remove_class("shown")
        self.recompute(keep=False)
        self.query_one("#samples", VirtualTable).focus()

    def action_back(self) -> None:
        inp = self.query_one("#search", Input)
        if inp.has_focus or inp.has_class("shown") or self.query_text:
            inp.value = ""
            inp.remove_class("shown")
            if self.query_text:
                self.query_text = ""
                self.recompute(keep=False)
            self.query_one("#samples", VirtualTable).focus()
            return
        self.app.pop_screen()


# ---- compare --------------------------------------------------------------------------


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


# ---- perf -------------------------------------------------------------------------------


PERF_ROWS = [
    ("requests", lambda m: str(m["requests"])),
    ("ok / failed", lambda m: f"{m['ok']} / {m['failed']}"),
    ("errors", lambda m: ", ".join(f"{k}: {v}" for k, v in sorted(m["errors"].items())) or "-"),
    ("window (s)", lambda m: fmt_num(m["window_s"], "", 2)),
    ("requests/s", lambda m: fmt_num(m["req_per_s"], "", 2)),
    ("output tok/s", lambda m: fmt_num(m["out_tok_per_s"], "", 1)),
    ("TTFT mean (s)", lambda m: fmt_num(m["ttft"]["mean"])),
    ("TTFT p50/p99", lambda m: f"{fmt_num(m['ttft']['p50'])} / {fmt_num(m['ttft']['p99'])}"),
    ("latency mean (s)", lambda m: fmt_num(m["latency"]["mean"])),
    ("latency p50/p99", lambda m: f"{fmt_num(m['latency']['p50'])} / {fmt_num(m['latency']['p99'])}"),
    ("TPOT mean (s)", lambda m: fmt_num(m["tpot"]["mean"])),
    ("ITL mean/p99 (s)", lambda m: f"{fmt_num(m['itl']['mean'])} / {fmt_num(m['itl']['p99'])}"),
    ("queue wait (s)", lambda m: fmt_num(m["queue_wait_mean"])),
]


def point_label(point: str) -> str:
    if not point:
        return "all"
    try:
        d = json.loads(point)
        return " ".join(f"{k}={v}" for k, v in d.items() if v is not None)
    except ValueError:
        return point


class PerfScreen(ViewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("m", "tab('metrics')", "Metrics"),
        Binding("t", "tab('ttft')", "TTFT"),
        Binding("l", "tab('latency')", "Latency"),
        Binding("h", "tab('throughput')", "Throughput"),
    ]

    def __init__(self, ix: RunIndex) -> None:
        super().__init__()
        self.ix = ix
        self.metrics: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        from textual_plotext import PlotextPlot

        yield Static("", classes="title", id="perf-title")
        yield Static("", classes="warn", id="perf-warn")
        with TabbedContent(initial="metrics", id="perf-tabs"):
            with TabPane("Metrics", id="metrics"):
                yield DataTable(cursor_type="row", zebra_stripes=True, id="perf-table")
                yield Static(
                    "TTFT = first chunk - sent; latency = last content - sent; TPOT = (latency - TTFT)/(tokens - 1); "
                    "ITL = gaps between chunks (pooled); throughput over the window first scheduled..last end",
                    classes="formula",
                )
            with TabPane("TTFT", id="ttft"):
                yield PlotextPlot(id="ttft-plot")
            with TabPane("Latency", id="latency"):
                yield PlotextPlot(id="latency-plot")
            with TabPane("Throughput", id="throughput"):
                yield PlotextPlot(id="throughput-plot")
        yield Footer()

    def on_mount(self) -> None:
        self.fill()
        self.ready = True

    def fill(self) -> None:
        from textual_plotext import PlotextPlot

        ix = self.ix
        self.query_one("#perf-title", Static).update(run_title(ix))
        self.query_one("#perf-warn", Static).update(warnings_text(ix))
        with ix.lock:
            points = list(ix.perf.values())
            self.metrics = [perf_metrics(p) for p in points if len(p.sent)]
            series = [
                (
                    point_label(p.point),
                    np.frombuffer(p.ttft, np.float64).copy(),
                    np.frombuffer(p.latency, np.float64).copy(),
                    throughput_series(p),
                )
                for p in points
                if len(p.sent)
            ]
        table = self.query_one("#perf-table", DataTable)
        table.clear(columns=True)
        table.add_column("Metric")
        for m in self.metrics:
            table.add_column(cell(point_label(m["point"])))
        if not self.metrics:
            table.add_row("no RequestTimed events in this log" if ix.complete else "indexing…")
        else:
            for name, fn in PERF_ROWS:
                table.add_row(name, *(cell(fn(m)) for m in self.metrics))
        for plot_id, pick, title in (("ttft-plot", 1, "TTFT (s)"), ("latency-plot", 2, "E2E latency (s)")):
            plot = self.query_one(f"#{plot_id}", PlotextPlot)
            plt = plot.plt
            plt.clear_data()
            plt.clear_figure()
            for s in series:
                data = s[pick][~np.isnan(s[pick])]
                if len(data):
                    plt.hist(data.tolist(), bins=30, label=s[0])
            plt.title(f"{title} distribution")
            plt.xlabel("seconds")
            plt.ylabel("requests")
            plot.refresh()
        plot = self.query_one("#throughput-plot", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        for label, _, _, (xs, _reqs, toks) in series:
            if xs:
                plt.plot(xs, toks, label=f"{label} tok/s")
        plt.title("output tokens/s over time (1 s buckets)")
        plt.xlabel("seconds since the first request")
        plot.refresh()

    def index_changed(self, ix: RunIndex) -> None:
        if ix is self.ix and self.ready:
            self.fill()

    def action_tab(self, name: str) -> None:
        self.query_one("#perf-tabs", TabbedContent).active = name


# ---- replay -------------------------------------------------------------------------------


SPEEDS = [1, 10, 100, 1000, 10_000, 100_000]


class ReplayScreen(ViewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("space", "toggle", "Play/Pause", priority=True),
        Binding("right", "step(1)", "Step", priority=True),
        Binding("n", "step(100)", "+100"),
        Binding("plus,equals_sign", "speed(1)", "Faster"),
        Binding("minus", "speed(-1)", "Slower"),
        Binding("home", "restart", "Restart", priority=True),
    ]

    def __init__(self, path: Path, *, tick: float = 0.1) -> None:
        super().__init__()
        self.path = path
        self.player = Replayer(path)
        self.playing = False
        self.speed_i = 1
        self.tick = tick
        self._carry = 0.0
        self._timer: Any = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="title", id="replay-status")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="replay-report")
        with VerticalScroll(id="replay-event-box"):
            yield Static("", id="replay-event")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#replay-report", DataTable).add_columns("Dataset", "Subset", "Metric", "Num", "Score", "Err")
        self._timer = self.set_interval(self.tick, self._on_tick, pause=True)
        self.show()

    def on_unmount(self) -> None:
        self.player.close()

    @property
    def total(self) -> int | None:
        ix = self.app.indexes.get(self.path) if hasattr(self.app, "indexes") else None  # type: ignore[attr-defined]
        return ix.events if ix is not None and ix.complete else None

    def show(self) -> None:
        p = self.player
        total = self.total
        where = f"event {p.position:,}" + (f" / {total:,}" if total is not None else "")
        state = "▶ playing" if self.playing else "⏸ paused"
        counts = " ".join(f"{k}:{v}" for k, v in sorted(p.counts.items()))
        self.query_one("#replay-status", Static).update(
            f"[b]replay[/b] {escape(self.path.parent.name)} · {where} · {state} · {SPEEDS[self.speed_i]:,} events/s\n{escape(counts)}"
        )
        table = self.query_one("#replay-report", DataTable)
        table.clear()
        for r in p.fold.rows():
            table.add_row(
                cell(r["dataset"]),
                cell(r["subset"]),
                cell(r["metric"]),
                str(r["num"]),
                fmt_score(r["score"]),
                str(r["errors"]),
            )
        ev = p.last
        text = InertText()
        for w in p.warnings:
            text.append("⚠ " + w + "\n", style="yellow")
        if ev is None:
            text.append("(at the start: press space to play, → to step)")
        else:
            text.append(f"#{p.last_line} {ev.get('type')} seq={ev.get('seq')} ts={ev.get('ts')}\n", style="bold")
            text.append(json.dumps(ev.get("body"), indent=1, ensure_ascii=False, default=str)[:4000])
        self.query_one("#replay-event", Static).update(text)

    def _on_tick(self) -> None:
        self._carry += SPEEDS[self.speed_i] * self.tick
        n = int(self._carry)
        if n:
            self._carry -= n
            got = self.player.step(n)
            if got < n and (self.total is not None and self.player.position >= self.total):
                self.action_toggle(force=False)
            self.show()

    def action_toggle(self, force: bool | None = None) -> None:
        self.playing = (not self.playing) if force is None else force
        if self._timer is not None:
            (self._timer.resume if self.playing else self._timer.pause)()
        self.show()

    def action_step(self, n: int) -> None:
        self.player.step(n)
        self.show()

    def action_speed(self, d: int) -> None:
        self.speed_i = max(0, min(len(SPEEDS) - 1, self.speed_i + d))
        self.show()

    def action_restart(self) -> None:
        self.player.restart()
        self.show()


def run_app(paths: list[str], *, replay: bool = False) -> int:
    app = ViewApp(paths, replay=replay)
    app.run()
    return 0
