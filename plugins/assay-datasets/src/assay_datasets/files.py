"""How a benchmark's data files are read.

:func:`read_jsonl`, :func:`read_csv`, :func:`read_csv_dicts`,
:func:`read_json`, :func:`read_text` and :func:`read_lines` stream a file and share one error contract
(as do :func:`read_parquet` and :func:`read_arrow_stream`, rows numbered from 1). A
missing or unreadable file, a byte that is not UTF-8 (line and byte offset named), a bad
row and a file that holds no rows are each a :class:`DataError` (an ``AssayError``: one
paragraph naming ``file:line``, printed without a traceback, exit status 2). CSV goes
through the standard library's :mod:`csv` (RFC 4180 quoting, multi-line fields, CRLF or LF,
a UTF-8 BOM tolerated) with no field size limit: long passages are data.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assay.api import AssayError


class DataError(AssayError):
    """A data file is missing, unreadable or malformed; the message names the file and line."""


def _not_utf8(path: Path) -> str:
    """Where the first byte that is not UTF-8 is: line number and byte offset in the file."""
    offset = 0
    with _open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                at = offset + exc.start
                return f"{path}: not UTF-8 text (line {n}, byte offset {at}: byte 0x{raw[exc.start]:02x}, {exc.reason}); save the file as UTF-8"
            offset += len(raw)
    return f"{path}: not UTF-8 text; save the file as UTF-8"


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    try:
        yield
    except UnicodeDecodeError:
        raise DataError(_not_utf8(path)) from None
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a file") from None
    except EOFError:  # gzip: the stream ends before its end marker
        raise DataError(f"{path}: the compressed file is cut short") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _open(path: Path, mode: str, **kwargs: Any) -> Any:
    """``open``, or ``gzip.open`` for a ``.gz`` file (benchmarks ship JSONL gzipped: HumanEval, EvalPlus)."""
    if path.suffix == ".gz":
        import gzip

        return gzip.open(path, mode if "b" in mode else mode + "t", **kwargs)
    return open(path, mode, **kwargs)


def _empty(path: Path) -> DataError:
    return DataError(f"{path}: holds no samples (the file is empty or has no data rows)")


def read_lines(path: str | Path, *, allow_empty: bool = False) -> Iterator[tuple[int, str]]:
    """``(line, text)`` for each non-blank line of a UTF-8 text file (gzipped if it ends in .gz),
    line end removed."""
    path = Path(path)
    seen = False
    with _reading(path), _open(path, "r", encoding="utf-8-sig") as f:
        for n, raw in enumerate(f, 1):
            if raw.strip():
                seen = True
                yield n, raw.rstrip("\r\n")
    if not seen and not allow_empty:
        raise _empty(path)


def read_jsonl(path: str | Path, *, allow_empty: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, object)`` for each non-blank line of a JSON-lines file; each line must be an object."""
    path = Path(path)
    for n, raw in read_lines(path, allow_empty=allow_empty):
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{n}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise DataError(f"{path}:{n}: expected a JSON object, found {type(obj).__name__}")
        yield n, obj


def read_text(path: str | Path) -> str:
    """A whole UTF-8 text file (a prompt, a template); empty is an error."""
    path = Path(path)
    with _reading(path):
        text = path.read_text(encoding="utf-8-sig")
    if not text.strip():
        raise _empty(path)
    return text


def read_json(path: str | Path) -> Any:
    """One JSON document (not streamed: a JSON file is one value)."""
    path = Path(path)
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None


def _clean(field: str) -> str:
    return field.replace("\r\n", "\n").replace("\r", "\n")


def read_csv(
    path: str | Path,
    *,
    columns: int | None = None,
    min_columns: int | None = None,
    delimiter: str = ",",
    quoting: bool = True,
    allow_empty: bool = False,
) -> Iterator[tuple[int, list[str]]]:
    """``(line, fields)`` for each non-blank record; ``line`` is where it starts (1-based).

    ``columns`` demands an exact field count, ``min_columns`` a minimum. ``quoting=False``
    reads fields verbatim up to each delimiter (TAB files such as STS-B whose texts hold quotes).
    """
    path = Path(path)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    seen = False
    with _reading(path), open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(
            f, delimiter=delimiter, strict=True, quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE
        )
        start = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise DataError(f"{path}:{start}: malformed CSV record ({exc})") from None
            line, start = start, reader.line_num + 1
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if columns is not None and len(row) != columns:
                raise DataError(f"{path}:{line}: expected {columns} fields, found {len(row)}: {row!r:.200}")
            if min_columns is not None and len(row) < min_columns:
                raise DataError(
                    f"{path}:{line}: expected at least {min_columns} fields, found {len(row)}: {row!r:.200}"
                )
            seen = True
            yield line, [_clean(x) for x in row]
    if not seen and not allow_empty:
        raise _empty(path)


def read_csv_dicts(
    path: str | Path,
    *,
    required: Sequence[str] = (),
    rename: dict[str, str] | None = None,
    delimiter: str = ",",
    quoting: bool = True,
    normalize: bool = True,
    extra_ok: bool = False,
) -> Iterator[tuple[int, dict[str, str]]]:
    """A headered CSV as ``(line, {column: value})``; missing ``required`` columns are an error.

    With ``normalize`` column names are stripped and lower-cased; ``rename`` maps a file's name
    (after that) to the name the caller wants (e.g. ``{"": "id"}``). A record must have as many
    fields as the header (at least as many, the rest ignored, with ``extra_ok``). A file with
    a header and no records holds no samples.
    """
    path = Path(path)
    rows = read_csv(path, delimiter=delimiter, quoting=quoting)
    _, header = next(rows)
    names = [h.strip().lower() for h in header] if normalize else list(header)
    if rename:
        names = [rename.get(n, n) for n in names]
    missing = [r for r in required if r not in names]
    if missing:
        raise DataError(f"{path}:1: missing column(s) {', '.join(map(repr, missing))}; header is {header!r}")
    seen = False
    for line, row in rows:
        if len(row) != len(names) and not (extra_ok and len(row) > len(names)):
            raise DataError(
                f"{path}:{line}: expected {len(names)} fields (as the header), found {len(row)}: {row!r:.200}"
            )
        seen = True
        yield line, dict(zip(names, row))
    if not seen:
        raise _empty(path)


# ---- Arrow formats (pyarrow, imported when a file is read: the plugin that reads one declares it) ----------


def _pyarrow(path: Path, what: str, module: str) -> Any:
    """pyarrow's ``module`` (``pyarrow.parquet``, ``pyarrow.ipc``), or a DataError saying what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise DataError(f"{path}: reading a {what} needs pyarrow: pip install pyarrow") from None


@contextmanager
def _reading_arrow(path: Path, what: str) -> Iterator[None]:
    """pyarrow's failures as a DataError naming the file (ours pass through)."""
    try:
        yield
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a file") from None
    except Exception as exc:  # noqa: BLE001 - any reader failure reads the same: the file is not what it should be
        raise DataError(f"{path}: not a readable {what} ({type(exc).__name__}: {exc})") from None


def _columns(path: Path, names: Sequence[str], columns: Sequence[str], only: bool) -> list[str] | None:
    """The columns to read (None: all), after checking that ``columns`` are all there."""
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; columns are {', '.join(names)}")
    return list(columns) if only else None


def _batch_rows(batches: Any, path: Path, allow_empty: bool) -> Iterator[tuple[int, dict[str, Any]]]:
    n = 0
    for batch in batches:
        for row in batch.to_pylist():
            n += 1
            yield n, row
    if not n and not allow_empty:
        raise _empty(path)


def read_parquet(
    path: str | Path, columns: Sequence[str] = (), *, only: bool = False, allow_empty: bool = False
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row, record)`` for each row of a parquet file (rows numbered from 1), streamed in small batches (a
    hub shard may hold hundreds of MB of text). ``columns`` must all be there; with ``only`` they are the
    only ones read. A missing file, a file that is not parquet, a missing column and a file with no rows
    are each a :class:`DataError` naming the file."""
    path = Path(path)
    pq = _pyarrow(path, "parquet file", "pyarrow.parquet")
    with _reading_arrow(path, "parquet file"):
        pf = pq.ParquetFile(path)
        read = _columns(path, pf.schema_arrow.names, columns, only)
        yield from _batch_rows(pf.iter_batches(batch_size=64, columns=read), path, allow_empty)


def read_arrow_stream(
    path: str | Path, columns: Sequence[str] = (), *, only: bool = False, allow_empty: bool = False
) -> Iterator[tuple[int, dict[str, Any]]]:
    """:func:`read_parquet` for an Arrow IPC stream (a shard that ``datasets``' ``save_to_disk`` wrote)."""
    path = Path(path)
    ipc = _pyarrow(path, "Arrow stream", "pyarrow.ipc")
    with _reading_arrow(path, "Arrow stream (as datasets' save_to_disk writes)"), open(path, "rb") as f:
        stream = ipc.open_stream(f)
        read = _columns(path, stream.schema.names, columns, only)
        batches = stream if read is None else (batch.select(read) for batch in stream)
        yield from _batch_rows(batches, path, allow_empty)
