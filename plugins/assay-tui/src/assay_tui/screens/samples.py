"""The samples of one benchmark/subset: a virtual table, filters, search and one sample's whole story."""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar

import numpy as np
from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from ..index import ERRORED, FAILED, PASSED, STATUS_NAMES, RunIndex
from ..vtable import VirtualTable
from ..base import ViewScreen
from ..cells import STATUS_STYLE, InertText, escape, fmt_num, fmt_score, short


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
