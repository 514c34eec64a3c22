"""Where a benchmark's files come from.

Order: ``dataset_args.<name>.local_path``; then ``--dataset-dir`` / ``ASSAY_DATA_DIR``
(``<dir>/<name>`` or any of the benchmark's candidate folder names); then a hub
download (ModelScope by default, Hugging Face with ``dataset_hub: huggingface``).
Offline with no files: one error saying where it looked and how to point at files.

Then how they are read: :func:`read_jsonl`, :func:`read_csv`, :func:`read_csv_dicts`,
:func:`read_json`, :func:`read_text` and :func:`read_lines` stream a file and share one error contract. A
missing or unreadable file, a byte that is not UTF-8 (line and byte offset named), a bad
row and a file that holds no rows are each a :class:`DataError` (an ``AssayError``: one
paragraph naming ``file:line``, printed without a traceback, exit status 2). CSV goes
through the standard library's :mod:`csv` (RFC 4180 quoting, multi-line fields, CRLF or LF,
a UTF-8 BOM tolerated) with no field size limit: long passages are data.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import hub as hub_module
from .api import AssayError
from .hub import HUBS
from .redact import visible

if TYPE_CHECKING:
    from .api import BenchmarkArgs

HubId = str | dict[str, str]


def hub_ids(hub_id: HubId | None) -> dict[str, str]:
    """A benchmark's dataset id on each hub: one string (the same id on both, as EvalScope's
    ``dataset_id``) or ``{"modelscope": ..., "huggingface": ...}``."""
    if not hub_id:
        return {}
    if isinstance(hub_id, str):
        return dict.fromkeys(HUBS, hub_id)
    return {k: v for k, v in hub_id.items() if v}


def locate(
    args: BenchmarkArgs, *candidates: str, hub_id: HubId | None = None, hub_files: Sequence[str] | None = None
) -> Path:
    """Where a benchmark's files are: ``local_path``; then ``--dataset-dir`` / ``ASSAY_DATA_DIR``;
    then a download of the benchmark's dataset id on ``--dataset-hub`` (``hub_files``: glob patterns
    of the files to fetch, all when not given) into the hub's cache, read by the same loader."""
    looked: list[str] = []
    if args.local_path:
        p = Path(args.local_path).expanduser()
        if p.exists():
            return p
        raise AssayError(f"{args.name}: dataset_args.{args.name}.local_path = {args.local_path!r} does not exist")
    names = [args.name, *candidates]
    for base in (args.dataset_dir, os.environ.get("ASSAY_DATA_DIR")):
        if not base:
            continue
        for n in names:
            p = Path(base).expanduser() / n
            looked.append(str(p))
            if p.exists():
                return p
    if not looked:
        looked.append("no --dataset-dir / ASSAY_DATA_DIR given")
    ids = hub_ids(hub_id)
    hub = args.dataset_hub
    if not ids:
        looked.append(f"no hub download ({args.name} names no hub dataset)")
    elif hub not in ids:
        other = ", ".join(f"{h} {i!r}" for h, i in ids.items())
        looked.append(f"no {hub} id for {args.name} (it has {other}: pass --dataset-hub {next(iter(ids))})")
    else:
        try:
            return download(ids[hub], hub, allow_patterns=hub_files)
        except AssayError as exc:
            looked.append(str(exc))
    raise AssayError(
        f"{args.name}: no local files, and no download. Looked in: "
        + "; ".join(looked)
        + f". Point assay at the files with --dataset-dir DIR (holding {args.name}/), "
        f'ASSAY_DATA_DIR, or --dataset-args \'{{"{args.name}": {{"local_path": "PATH"}}}}\'.'
    )


def download(hub_id: str, hub: str = "modelscope", *, allow_patterns: Sequence[str] | None = None) -> Path:
    """Fetch a dataset snapshot from a hub into its cache (:func:`assay.hub.snapshot`, the hubs' settings
    and mirrors); raise AssayError quickly when offline. On ModelScope a snapshot downloaded before still
    serves when the hub is unreachable."""
    label = hub_module.LABELS.get(hub, hub)
    try:
        return hub_module.snapshot(hub_id, hub, repo_type="dataset", allow_patterns=allow_patterns)
    except ImportError as exc:
        raise AssayError(f"{label} dataset {hub_id!r}: downloading needs {exc.name}: pip install {exc.name}") from None
    except Exception as exc:  # noqa: BLE001 - every hub failure reads the same to a user
        why = hub_module.why(exc)
        if hub == "modelscope":  # unreachable: a snapshot downloaded before still serves
            try:
                cached = hub_module.snapshot(hub_id, hub, repo_type="dataset", local_files_only=True)
            except Exception:  # noqa: BLE001 - not cached either: the first error says why
                pass
            else:
                print(f"{label} unreachable ({why}); using the cached {visible(str(cached))}", file=sys.stderr)
                return cached
        raise AssayError(f"{label} dataset {hub_id!r} (cache {hub_module.cache_dir(hub)}): {why}") from None


# ---- reading files ---------------------------------------------------------------


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
