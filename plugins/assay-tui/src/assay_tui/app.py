"""The ``assay view`` application: screens over run logs, all read-only projections."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import get_current_worker

from .index import RunIndex
from .runs import RunInfo, find_logs, read_info
from .cells import escape
from .screens.replay import ReplayScreen
from .screens.runs import RunsScreen

INDEX_SLICE = 32 << 20  # bytes indexed between two screen updates


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
    .report-tree { height: 1fr; border-top: solid $primary; }
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


def run_app(paths: list[str], *, replay: bool = False) -> int:
    app = ViewApp(paths, replay=replay)
    app.run()
    return 0
