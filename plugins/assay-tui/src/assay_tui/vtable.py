"""A virtual table: a ScrollView that renders only the visible rows (Line API).

Rows are produced on demand by a callback, so a list of a million rows costs an
array of row numbers, not a million widgets or cells.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from assay.redact import visible
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


class VirtualTable(ScrollView, can_focus=True):
    """``columns``: (title, width or 0 for "the rest"); ``cells(row) -> tuple[str, ...]``."""

    DEFAULT_CSS = """
    VirtualTable { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "PgUp", show=False),
        Binding("pagedown", "page(1)", "PgDn", show=False),
        Binding("home", "jump(0)", "Top", show=False),
        Binding("end", "jump(-1)", "End", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class Highlighted(Message):
        def __init__(self, table: VirtualTable, row: int) -> None:
            super().__init__()
            self.table = table
            self.row = row

    class Selected(Message):
        def __init__(self, table: VirtualTable, row: int) -> None:
            super().__init__()
            self.table = table
            self.row = row

    def __init__(
        self,
        columns: Sequence[tuple[str, int]],
        cells: Callable[[int], Sequence[str]],
        styles: Callable[[int], Style | None] | None = None,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.columns = list(columns)
        self._cells = cells
        self._styles = styles
        self._count = 0
        self._cache: dict[int, Sequence[str]] = {}

    # ---- data -------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return self._count

    def set_count(self, n: int, *, keep_cursor: bool = True) -> None:
        self._count = n
        self._cache.clear()
        self.virtual_size = Size(self.size.width, n + 1)
        cur = self.cursor if keep_cursor else 0
        self.cursor = max(0, min(cur, n - 1))
        self.refresh()

    def invalidate(self) -> None:
        self._cache.clear()
        self.refresh()

    def row_cells(self, row: int) -> Sequence[str]:
        c = self._cache.get(row)
        if c is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            c = self._cache[row] = self._cells(row)
        return c

    # ---- rendering ----------------------------------------------------------------

    def _widths(self, total: int) -> list[int]:
        fixed = sum(w for _, w in self.columns if w) + len(self.columns) - 1
        rest = max(4, total - fixed)
        return [w or rest for _, w in self.columns]

    @staticmethod
    def _fit(text: str, width: int) -> str:
        text = text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
        if len(text) > width:
            return text[: max(0, width - 1)] + "…"
        return text.ljust(width)

    def _line(self, cells: Sequence[str], widths: list[int]) -> str:
        # cells hold log data: control characters shown as escapes, never sent to the terminal
        return " ".join(self._fit(visible(str(c), multiline=False), w) for c, w in zip(cells, widths))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        widths = self._widths(width)
        if y == 0:
            text = self._line([t for t, _ in self.columns], widths)
            style = Style(bold=True, underline=True)
            return Strip([Segment(text[:width].ljust(width), style)], width)
        row = self.scroll_offset.y + y - 1
        if row >= self._count or row < 0:
            return Strip.blank(width, self.rich_style)
        text = self._line(self.row_cells(row), widths)[:width].ljust(width)
        style = self.rich_style
        extra = self._styles(row) if self._styles else None
        if extra is not None:
            style = style + extra
        if row == self.cursor:
            style = style + Style(reverse=True, bold=self.has_focus)
        return Strip([Segment(text, style)], width)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, self._count + 1)

    # ---- cursor ---------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        if not self._count:
            return
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.Highlighted(self, new))

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.size.height - 1)
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        if self._count:
            self.cursor = max(0, min(self._count - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.size.height - 2))

    def action_jump(self, where: int) -> None:
        if self._count:
            self.cursor = 0 if where == 0 else self._count - 1

    def action_select(self) -> None:
        if self._count:
            self.post_message(self.Selected(self, self.cursor))

    def on_click(self, event: events.Click) -> None:
        row = self.scroll_offset.y + event.y - 1
        if 0 <= row < self._count:
            self.cursor = row

    def refresh_rows(self) -> None:
        self._cache.clear()
        self.refresh(Region(0, 0, self.size.width, self.size.height))
