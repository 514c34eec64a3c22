"""A perf run: metrics per load point and the TTFT, latency and throughput plots."""

from __future__ import annotations

import json
import time
from typing import ClassVar

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static, TabbedContent, TabPane

from ..index import RunIndex, throughput_series
from ..base import ViewScreen, run_title, warnings_text
from ..sections import reporter_sections


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
        self.sections_at = -1.0  # monotonic time of the last reporter build (live runs rebuild at most every 2 s)

    def compose(self) -> ComposeResult:
        from textual_plotext import PlotextPlot

        yield Static("", classes="title", id="perf-title")
        yield Static("", classes="warn", id="perf-warn")
        with TabbedContent(initial="metrics", id="perf-tabs"):
            with TabPane("Metrics", id="metrics"):
                # the perf reporter's own tables (the figures of `assay report`), not a second fold
                with VerticalScroll(id="perf-sections-box"):
                    yield Static("", id="perf-sections")
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
        now = time.monotonic()
        if ix.complete and (self.sections_at < 0 or now - self.sections_at >= 2.0 or ix.status != "running"):
            if self.sections_at < 0:
                self.query_one("#perf-sections", Static).update("the perf reporter's tables are being built…")
            self.sections_at = now
            width = max(40, self.app.size.width - 2)
            # in a thread: the reporter folds the whole log; one build at a time, the newest wins
            self.run_worker(lambda: self._build_sections(width), thread=True, group="sections", exclusive=True)
        elif self.sections_at < 0:
            self.query_one("#perf-sections", Static).update("indexing…")
        with ix.lock:
            points = [p for p in ix.perf.values() if len(p.sent)]
            series = [
                (
                    point_label(p.point),
                    np.frombuffer(p.ttft, np.float64).copy(),
                    np.frombuffer(p.latency, np.float64).copy(),
                    throughput_series(p),
                )
                for p in points
            ]
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

    def _build_sections(self, width: int) -> None:
        sections = reporter_sections(self.ix.path, set(), width)
        if not sections.plain.strip():
            sections = Text("no reporter for perf runs is installed (assay-perf)")
        self.app.call_from_thread(self._show_sections, sections)

    def _show_sections(self, sections: Text) -> None:
        if self.is_attached:  # (not closed while its reporter was built)
            self.query_one("#perf-sections", Static).update(sections)

    def index_changed(self, ix: RunIndex) -> None:
        if ix is self.ix and self.ready:
            self.fill()

    def action_tab(self, name: str) -> None:
        self.query_one("#perf-tabs", TabbedContent).active = name
