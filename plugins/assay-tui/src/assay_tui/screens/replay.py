"""Replay a log event by event with the report folded so far."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from ..index import Replayer
from ..base import ViewScreen
from ..cells import InertText, cell, escape, fmt_score


SPEEDS = [1, 10, 100, 1000, 10_000, 100_000]  # events per second


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
