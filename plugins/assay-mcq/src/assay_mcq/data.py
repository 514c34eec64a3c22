"""Readers for benchmark files that report ``file:line`` on bad input.

CSV goes through the standard library's :mod:`csv` (RFC 4180 quoting, multi-line
fields, CRLF or LF line ends, a UTF-8 BOM tolerated); there is no faster well-kept
reader that also keeps line numbers, and pandas would be a heavy dependency for this.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from assay.api import AssayError

__all__ = ["MCQDataError", "read_csv", "read_csv_dicts", "read_jsonl"]


class MCQDataError(AssayError):
    """A benchmark file is malformed; the message names the file and line."""


def _clean(field: str) -> str:
    return field.replace("\r\n", "\n").replace("\r", "\n")


def read_csv(
    path: str | Path, *, columns: int | None = None, min_columns: int | None = None
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, fields)`` for each non-blank record; ``line`` is where it starts (1-based).

    ``columns`` demands an exact field count, ``min_columns`` a minimum.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, strict=True)
            start = 1
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise MCQDataError(f"{path}:{start}: malformed CSV record ({exc})") from None
                end = reader.line_num
                line, start = start, end + 1
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if columns is not None and len(row) != columns:
                    raise MCQDataError(f"{path}:{line}: expected {columns} fields, found {len(row)}: {row!r:.200}")
                if min_columns is not None and len(row) < min_columns:
                    raise MCQDataError(
                        f"{path}:{line}: expected at least {min_columns} fields, found {len(row)}: {row!r:.200}"
                    )
                yield line, [_clean(x) for x in row]
    except UnicodeDecodeError as exc:
        raise MCQDataError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except FileNotFoundError:
        raise MCQDataError(f"{path}: file not found") from None


def read_csv_dicts(
    path: str | Path, *, required: Sequence[str] = (), rename: dict[str, str] | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """A headered CSV as ``(line, {column: value})``; missing ``required`` columns are an error.

    Column names are matched case-insensitively after stripping; ``rename`` maps a
    file's name (lower-cased) to the name the caller wants (e.g. ``{"": "id"}``).
    """
    rows = read_csv(path)
    try:
        _, header = next(rows)
    except StopIteration:
        raise MCQDataError(f"{path}: empty file (expected a header row)") from None
    names = [h.strip().lower() for h in header]
    if rename:
        names = [rename.get(n, n) for n in names]
    missing = [r for r in required if r not in names]
    if missing:
        raise MCQDataError(f"{path}:1: missing column(s) {', '.join(map(repr, missing))}; header is {header!r}")
    for line, row in rows:
        if len(row) != len(names):
            raise MCQDataError(
                f"{path}:{line}: expected {len(names)} fields (as the header), found {len(row)}: {row!r:.200}"
            )
        yield line, dict(zip(names, row))


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, object)`` for each non-blank line of a JSON-lines file."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig") as f:
            for n, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise MCQDataError(f"{path}:{n}: invalid JSON ({exc.msg} at column {exc.colno})") from None
                if not isinstance(obj, dict):
                    raise MCQDataError(f"{path}:{n}: expected a JSON object, found {type(obj).__name__}")
                yield n, obj
    except UnicodeDecodeError as exc:
        raise MCQDataError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except FileNotFoundError:
        raise MCQDataError(f"{path}: file not found") from None
