"""Table reporters: a declared section of rows becomes a JSON section and a Rich table of inert text.

A reporter that shows one table of rows (most benchmark-specific reporters) subclasses
:class:`TableReporter`, names its ``title`` and ``columns`` and declares its ``projection``: a
function of the log path that returns the JSON section (``{"rows": [...], ...}``). The helper gives
``build`` and ``render``: every cell is shown as inert text (names come from data files, the log
and model output; escapes stay visible, markup is never interpreted), ``None`` is shown as ``-``,
and a report without rows prints nothing.

:func:`read_bodies` is the decode loop of such a projection: every event of the log, its body
decoded as the projection's own Struct, through the kernel's block reader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import msgspec

from assay.log import decode_blocks
from assay.redact import inert_markup, inert_text

__all__ = ["Column", "TableReporter", "fixed", "read_bodies", "render_matrix", "render_table"]


@dataclass(frozen=True)
class Column:
    """One column: its header, the row's key (or a function of the row) and how a value is shown.

    ``fmt``: a format string (``"{:.4f}"``) or a function of the value; without it ``str(value)``.
    A ``None`` value is shown as ``-`` (nothing to show is never a number).
    """

    header: str
    key: str | Callable[[dict[str, Any]], Any]
    fmt: str | Callable[[Any], str] | None = None
    justify: str = "left"

    def cell(self, row: dict[str, Any]) -> Any:
        value = self.key(row) if callable(self.key) else row[self.key]
        if value is None:
            text = "-"
        elif isinstance(self.fmt, str):
            text = self.fmt.format(value)
        elif self.fmt is not None:
            text = self.fmt(value)
        else:
            text = str(value)
        return inert_text(text, multiline=False)


def fixed(digits: int, scale: float = 1.0) -> Callable[[Any], str]:
    """A format for a number with ``digits`` decimals, multiplied by ``scale`` first (100 for %)."""
    return lambda v: f"{v * scale:.{digits}f}"


def render_table(
    title: Any, columns: Sequence[Column], rows: Iterable[dict[str, Any]], caption: str | None = None
) -> Any:
    """A Rich table of ``rows`` with ``columns``; every cell is inert text.

    ``title``: a string (shown in the table-title style, markup escaped) or a Rich ``Text`` as it is;
    ``caption``: a line shown under the table (markup escaped), or None."""
    from rich.table import Table

    if isinstance(title, str):
        title = inert_markup(title, multiline=False)
    table = Table(title=title, caption=None if caption is None else inert_markup(caption, multiline=False))
    for col in columns:
        table.add_column(inert_markup(col.header, multiline=False), justify=col.justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*(col.cell(row) for col in columns))
    return table


def render_matrix(
    title: Any,
    labels: Sequence[Any],
    value: Callable[[Any, Any], Any],
    fmt: str | Callable[[Any], str] | None = None,
    corner: str = "",
) -> Any:
    """A square Rich table: one row and one column per label, the cell ``value(row label, column label)``.

    The diagonal is blank, a ``None`` value is shown as ``-``, ``fmt`` formats the others as
    :class:`Column` does; labels (headers and the first column) are inert text like every cell."""

    def show(v: Any) -> str:
        return fmt.format(v) if isinstance(fmt, str) else fmt(v) if fmt is not None else str(v)

    def cell(row: Any, col: Any) -> str | None:
        if row == col:
            return ""
        v = value(row, col)
        return None if v is None else show(v)

    columns = [Column(corner, "label")]
    columns += [Column(str(col), lambda r, col=col: cell(r["label"], col)) for col in labels]
    return render_table(title, columns, [{"label": row} for row in labels])


class TableReporter:
    """A reporter of one table: ``projection`` builds the JSON section, the declared columns render it.

    ``projection = fold`` declares the fold (a function of the log path) once; override :meth:`fold`
    instead where it needs the reporter's state. Override :meth:`rows_of` to show other rows than ``report[section]``, :meth:`title_of` and
    :meth:`columns_of` where they depend on the report, :meth:`table` to add rows to the table, and
    :meth:`notes` for lines printed after it (shown inert).
    """

    kinds: ClassVar[set[str]] = {"eval"}
    title: ClassVar[str] = ""
    columns: ClassVar[Sequence[Column]] = ()
    section: ClassVar[str] = "rows"
    projection: ClassVar[Callable[[Path], dict[str, Any]] | None] = None

    def fold(self, log_path: Path) -> dict[str, Any]:
        projection = type(self).projection  # a plain function, not bound to the reporter
        if projection is None:
            raise NotImplementedError(f"{type(self).__name__} declares no projection (projection = fold)")
        return projection(log_path)

    def build(self, log_path: Path) -> dict[str, Any]:
        return self.fold(Path(log_path))

    def rows_of(self, report: dict[str, Any]) -> list[dict[str, Any]]:
        return list(report.get(self.section) or [])

    def title_of(self, report: dict[str, Any]) -> str:
        return self.title

    def columns_of(self, report: dict[str, Any]) -> Sequence[Column]:
        return self.columns

    def table(self, report: dict[str, Any]) -> Any:
        """The Rich table of the report's rows, or None when it has none."""
        rows = self.rows_of(report)
        return render_table(self.title_of(report), self.columns_of(report), rows) if rows else None

    def notes(self, report: dict[str, Any]) -> Iterable[str]:
        return ()

    def render(self, report: dict[str, Any], console: Any) -> None:
        table = self.table(report)
        if table is not None:
            console.print(table)
        for note in self.notes(report):
            console.print(inert_text(note))


@cache
def _line_of(body: type[msgspec.Struct]) -> type[msgspec.Struct]:
    return msgspec.defstruct(f"{body.__name__}Line", [("type", str), ("body", body)])


def read_bodies(log_path: str | Path, body: type[msgspec.Struct]) -> Iterator[tuple[str, Any]]:
    """Every event of a log as ``(type, body)``, the body decoded as ``body`` (a projection's own Struct
    of optional fields), through the kernel's block reader: a torn tail is skipped, a broken line is
    reported with its number, and an event whose fields clash with ``body`` (another plugin's event)
    is skipped."""
    decoder = msgspec.json.Decoder(_line_of(body))
    for lines in decode_blocks(log_path, decoder, strict_types=set()):
        for ev in lines:
            yield ev.type, ev.body
