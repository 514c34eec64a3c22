"""The progress display: one :class:`Display` protocol, a rich bar on a terminal, nothing otherwise.

The runner only calls ``advance`` / ``set_total`` / ``close``; which display it gets is decided once,
by :func:`open_display` (as inspect_ai's ``Display``: one interface, several displays).
"""

from __future__ import annotations

import sys
import time
from typing import Protocol


class Display(Protocol):
    def advance(self) -> None:
        """One sample is done."""

    def set_total(self, total: int) -> None:
        """The number of samples, once loading has seen them all (samples are loaded as they are sent)."""

    def close(self) -> None: ...


class NoDisplay:
    """No terminal, or ``progress: false``: nothing is shown."""

    def advance(self) -> None:
        return None

    def set_total(self, total: int) -> None:
        return None

    def close(self) -> None:
        return None


class RichDisplay:
    """A progress line with rate and ETA on stderr."""

    def __init__(self, total: int | None, label: str) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("[progress.data.speed]{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        self.task = self.bar.add_task(label, total=total, rate="")
        self.t0 = time.perf_counter()
        self.done = 0
        self.bar.start()

    def advance(self) -> None:
        self.done += 1
        rate = self.done / max(1e-9, time.perf_counter() - self.t0)
        self.bar.update(self.task, advance=1, rate=f"{rate:.1f} samples/s")

    def set_total(self, total: int) -> None:
        self.bar.update(self.task, total=total)

    def close(self) -> None:
        self.bar.stop()


def open_display(total: int | None, enabled: bool, label: str) -> Display:
    """The rich bar when ``enabled`` and stderr is a terminal (``label`` is rich markup: pass it inert)."""
    if enabled and total != 0 and sys.stderr.isatty():
        return RichDisplay(total, label)
    return NoDisplay()
