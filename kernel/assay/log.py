"""The run log: one append-only ``events.jsonl`` per run directory.

Writer: one per run, the only place ``seq`` is assigned. Appends are buffered and
written in whole batches with a single ``write`` call, so a group of events
(one sample's scores, say) is never half on disk after a ``kill -9``.

Torn tail: an unterminated last line was never acknowledged; readers skip it and
the writer truncates it before appending. A newline-terminated line that does not
decode is corruption, reported with its line number.

Reader: streams the file in blocks and decodes each block with msgspec's
``decode_lines``; memory is bounded by the block size, not the log size.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import msgspec

from .api import AssayError
from .events import SCHEMA_VERSION, Body, BodyRegistry, Event, RawEnvelope, type_name
from .redact import ERROR_FIELDS

LOG_NAME = "events.jsonl"
_BLOCK = 1 << 20


class LogCorrupted(AssayError):
    """A newline-terminated line of the log does not decode."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: corrupted event log line: {reason}")
        self.path = path
        self.line = line
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:  # crosses process boundaries (parallel folds)
        return (type(self), (self.path, self.line, self.reason))


class LogWriteError(AssayError):
    """The log cannot be written (read-only or full file system, no permission, file size limit).

    What was written before stays; a partly written last line is a torn tail that ``assay resume``
    discards. After one failure the writer refuses every later write, so nothing can land after a
    torn line."""


def _why(exc: OSError) -> str:
    import errno as _errno

    name = _errno.errorcode.get(exc.errno or 0)
    return f"{exc.strerror or exc}" + (f" [{name}]" if name else "")


def log_path(run: str | os.PathLike[str]) -> Path:
    """Accept a run directory or the log file itself."""
    p = Path(run)
    return p / LOG_NAME if p.is_dir() else p


def existing_log(run: str | os.PathLike[str]) -> Path:
    """:func:`log_path`, or the one error every command gives when there is no log there."""
    path = log_path(run)
    if not path.exists():
        raise AssayError(f"no event log at {path}")
    return path


class TornTail(msgspec.Struct):
    """What a reader found after the last newline (the torn tail), if anything."""

    offset: int = 0  # byte offset where the torn line starts
    length: int = 0


def iter_blocks(
    run: str | os.PathLike[str],
    *,
    torn: TornTail | None = None,
    block: int = _BLOCK,
    start: int = 0,
    end: int | None = None,
) -> Iterator[tuple[bytes, int]]:
    """Yield (bytes holding only complete lines, number of the line before them).

    The unterminated tail, if any, is skipped and described in ``torn``. ``start``/``end``
    read a byte range that begins at a line start (line numbers then count from it).
    """
    for chunk, first, _ in _blocks(run, torn=torn, block=block, start=start, end=end):
        yield chunk, first


def _blocks(
    run: str | os.PathLike[str],
    *,
    torn: TornTail | None = None,
    block: int = _BLOCK,
    start: int = 0,
    end: int | None = None,
) -> Iterator[tuple[bytes, int, int]]:
    """:func:`iter_blocks`' blocks with the number of lines in each, counted once (the decoding readers check
    a block's decoded lines against it: counting again cost ~15% of a fold of a million events)."""
    path = log_path(run)
    line_no = 0
    offset = start
    pending = b""
    with open(path, "rb") as f:
        f.seek(start)
        left = end - start if end is not None else None
        while data := f.read(block if left is None else min(block, left)):
            if left is not None:
                left -= len(data)
            buf = pending + data if pending else data
            cut = buf.rfind(b"\n")
            if cut < 0:
                pending = buf
                continue
            chunk, pending = buf[: cut + 1], buf[cut + 1 :]
            n = chunk.count(b"\n")
            yield chunk, line_no, n
            line_no += n
            offset += cut + 1
    if pending and torn is not None:
        torn.offset = offset
        torn.length = len(pending)


def decode_blocks(
    run: str | os.PathLike[str],
    decoder: msgspec.json.Decoder,
    *,
    strict_types: set[str] | None = None,
    torn: TornTail | None = None,
    block: int = _BLOCK,
    start: int = 0,
    end: int | None = None,
    types: Iterable[str] | None = None,
) -> Iterator[list[Any]]:
    """Decode a log a block at a time with ``decoder`` (a projection's own Struct).

    A line that is not a valid envelope is corruption (LogCorrupted, with its line
    number). A valid envelope whose body does not fit ``decoder`` is corruption when its
    type is in ``strict_types`` (None: every type); otherwise it is skipped, so a
    projection is not broken by an unrelated plugin's event with a clashing field.
    ``types``: the event types the projection reads; a block that names none of them
    (``"Type"``, quoted, nowhere in its bytes) is not decoded (an empty list for it).
    """
    path = log_path(run)
    envelope = msgspec.json.Decoder(RawEnvelope)
    names = None if types is None else [b'"' + t.encode() + b'"' for t in types]
    for chunk, first, lines in _blocks(path, torn=torn, block=block, start=start, end=end):
        if names is not None and not any(n in chunk for n in names):
            yield []
            continue
        yield _decode_chunk(path, chunk, first, decoder, strict_types, envelope, lines)


def _decode_chunk(
    path: Path,
    chunk: bytes,
    first: int,
    decoder: msgspec.json.Decoder,
    strict_types: set[str] | None,
    envelope: msgspec.json.Decoder,
    lines: int,
) -> list[Any]:
    try:
        return _decode_lines(decoder, chunk, path, first, lines)
    except (msgspec.DecodeError, msgspec.ValidationError):
        items = []
        for i, line in enumerate(chunk.split(b"\n")[:-1], start=first + 1):
            if not line.strip():
                raise LogCorrupted(path, i, "blank line") from None
            try:
                env = envelope.decode(line)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise LogCorrupted(path, i, str(exc)) from None
            try:
                items.append(decoder.decode(line))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                if strict_types is None or env.type in strict_types:
                    raise LogCorrupted(path, i, f"{env.type}: {exc}") from None
    return items


def _decode_lines(decoder: msgspec.json.Decoder, chunk: bytes, path: Path, first: int, lines: int) -> list[Any]:
    """``decoder.decode_lines(chunk)``, which skips blank lines: a blank line is corruption here (``lines``:
    the number of lines in ``chunk``, as the reader counted them)."""
    items = decoder.decode_lines(chunk)
    if len(items) != lines:
        for i, line in enumerate(chunk.split(b"\n")[:-1], start=first + 1):
            if not line.strip():
                raise LogCorrupted(path, i, "blank line")
    return items


class Fold(Protocol):
    """A projection fed by :func:`fold_together`: ``line`` is its Struct of a log line (``type``, ``body``:
    its own Struct of the fields it reads), ``strict_types`` as for :func:`decode_blocks`, and ``feed``
    takes the decoded lines of each block, in log order."""

    line: type[msgspec.Struct]
    strict_types: set[str] | None

    def feed(self, lines: list[Any]) -> None: ...


def fold_together(run: str | os.PathLike[str], folds: Sequence[Fold], *, torn: TornTail | None = None) -> None:
    """Feed several projections from one read of the log (the end of a run folds its report this way)."""
    FoldCursor(run, folds).feed(torn=torn)


class FoldCursor:
    """Feeds folds a log's complete lines from where it last stopped: :func:`fold_together` reads a whole
    log with it in one call; the end of a run feeds its report's folds with it while the run waits, a few
    blocks at a time of what the writer has written, and the rest after the run (:mod:`assay.lifecycle`).

    Each block is read once. When the folds' line Structs agree on every field they share (name, type,
    default), the block is also decoded once, as the union of their fields, and each fold is handed the
    same lines; otherwise (or for a block with a line that does not fit the union) each fold decodes the
    block with its own Struct, with :func:`decode_blocks`' rules (a broken line named by its number)."""

    def __init__(self, run: str | os.PathLike[str], folds: Sequence[Fold]) -> None:
        self.path = log_path(run)
        self.folds = list(folds)
        self.offset = 0  # bytes fed, always at a line's start
        self.lines = 0  # lines fed
        self._envelope = msgspec.json.Decoder(RawEnvelope)
        self._own = [msgspec.json.Decoder(f.line) for f in self.folds]
        union = _union_line(tuple(f.line for f in self.folds)) if len(self.folds) > 1 else None
        self._shared = msgspec.json.Decoder(union) if union is not None else None

    def feed(
        self, *, end: int | None = None, torn: TornTail | None = None, block: int = _BLOCK, blocks: int | None = None
    ) -> None:
        """Feed the complete lines from where the last call stopped up to byte ``end`` (None: the end of the
        file, and an unterminated last line described in ``torn``), ``blocks`` blocks at the most."""
        was_enabled = gc.isenabled()
        gc.disable()  # projections allocate no cycles; collection passes over their many objects only cost time
        try:
            for i, (chunk, first, n) in enumerate(
                _blocks(self.path, torn=torn, block=block, start=self.offset, end=end)
            ):
                self._feed_block(chunk, self.lines + first, n)
                self.offset += len(chunk)
                self.lines += n
                if blocks is not None and i + 1 >= blocks:
                    break
        finally:
            if was_enabled:
                gc.enable()

    def _feed_block(self, chunk: bytes, first: int, n: int) -> None:
        if self._shared is not None:
            try:
                lines = _decode_lines(self._shared, chunk, self.path, first, n)
            except (msgspec.DecodeError, msgspec.ValidationError):
                pass
            else:
                for f in self.folds:
                    f.feed(lines)
                return
        for f, decoder in zip(self.folds, self._own):
            f.feed(_decode_chunk(self.path, chunk, first, decoder, f.strict_types, self._envelope, n))


def _union_line(lines: tuple[type[msgspec.Struct], ...]) -> type[msgspec.Struct] | None:
    """One Struct holding every field of ``lines`` (and of their ``body`` Structs), or None where two
    declare the same field differently (type, default, options), so that a line that fits it fits each."""

    def fields(struct: type[msgspec.Struct], into: dict[str, Any]) -> bool:
        cfg = struct.__struct_config__
        if cfg.forbid_unknown_fields or cfg.array_like or cfg.tag is not None:
            return False
        for f in msgspec.structs.fields(struct):
            if f.encode_name != f.name:
                return False
            if f.name == "body":
                continue
            spec = (f.type, f.default, f.default_factory)
            seen = into.setdefault(f.name, spec)
            if seen[1:] != spec[1:] or (seen[0] != f.type and Any not in (seen[0], f.type)):
                return False
            if seen[0] is Any:  # the narrower type: a value that fits it fits Any as well
                into[f.name] = spec
        return True

    top: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for line in lines:
        (body_type,) = [f.type for f in msgspec.structs.fields(line) if f.name == "body"] or [None]
        if not isinstance(body_type, type) or not issubclass(body_type, msgspec.Struct):
            return None
        if not fields(line, top) or not fields(body_type, body):
            return None

    def spec(name: str, t: Any, default: Any, factory: Any) -> tuple[Any, ...]:
        if factory is not msgspec.NODEFAULT:
            return (name, t, msgspec.field(default_factory=factory))
        return (name, t) if default is msgspec.NODEFAULT else (name, t, default)

    union_body = msgspec.defstruct("UnionBody", [spec(n, *v) for n, v in body.items()], kw_only=True)
    return msgspec.defstruct("UnionLine", [*(spec(n, *v) for n, v in top.items()), ("body", union_body)], kw_only=True)


def iter_raw(
    run: str | os.PathLike[str], *, torn: TornTail | None = None, block: int = _BLOCK
) -> Iterator[RawEnvelope]:
    """Yield every complete line of a log as a :class:`RawEnvelope`, lazily.

    If ``torn`` is given it is filled in with the location of an unterminated
    last line (which is skipped).
    """
    for items in decode_blocks(run, msgspec.json.Decoder(RawEnvelope), torn=torn, block=block):
        yield from items


def iter_events(
    run: str | os.PathLike[str],
    registry: BodyRegistry | None = None,
    *,
    types: Iterable[str] | None = None,
    torn: TornTail | None = None,
) -> Iterator[Event]:
    """Yield decoded events; with ``types``, only those (others stay undecoded)."""
    registry = registry or BodyRegistry()
    wanted = set(types) if types is not None else None
    for env in iter_raw(run, torn=torn):
        if wanted is None or env.type in wanted:
            yield registry.event(env)


def _rfind_newline(f: Any, end: int) -> int:
    """Offset of the last b"\\n" before ``end``, or -1."""
    pos = end
    while pos > 0:
        start = max(0, pos - 65536)
        f.seek(start)
        idx = f.read(pos - start).rfind(b"\n")
        if idx >= 0:
            return start + idx
        pos = start
    return -1


def repair_tail(path: Path) -> tuple[int, int]:
    """Truncate an unterminated last line; return (next seq, bytes removed)."""
    if not path.exists() or path.stat().st_size == 0:
        return 0, 0
    size = path.stat().st_size
    with open(path, "rb+") as f:
        last_nl = _rfind_newline(f, size)
        removed = size - (last_nl + 1)
        if removed:
            f.truncate(last_nl + 1)
            f.flush()
            os.fsync(f.fileno())
        if last_nl < 0:
            return 0, removed
        prev = _rfind_newline(f, last_nl)
        f.seek(prev + 1)
        line = f.read(last_nl - prev - 1)
    try:
        env = msgspec.json.decode(line, type=RawEnvelope)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise LogCorrupted(path, _count_lines(path), str(exc)) from None
    return env.seq + 1, removed


def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as f:
        while data := f.read(_BLOCK):
            n += data.count(b"\n")
    return n


class LogWriter:
    """The single writer of a run's log. Thread-safe; assigns ``seq``."""

    def __init__(
        self,
        path: Path,
        run_id: str,
        *,
        fsync_interval: float = 1.0,
        flush_bytes: int = 1 << 16,
        scrubber: Any = None,
    ) -> None:
        self.path = path
        self.scrubber = scrubber  # assay.redact.Scrubber: secrets never reach the file
        self.run_id = run_id
        self.fsync_interval = fsync_interval
        self.flush_bytes = flush_bytes
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.next_seq, _repaired = repair_tail(path)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self.written = os.fstat(self._fd).st_size  # bytes in the file (a reader feeding as it grows: its end)
        except OSError as exc:
            raise LogWriteError(
                f"cannot write the run directory {path.parent}: {_why(exc)}. "
                "Choose a writable --work-dir with free space (nothing was written)"
                if not path.exists() or path.stat().st_size == 0
                else f"cannot write the event log {path}: {_why(exc)}. Nothing written before is lost; "
                "make it writable or free space and try again"
            ) from None
        self._failed: LogWriteError | None = None
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._encoder = msgspec.json.Encoder()
        self._last_sync = time.monotonic()
        self._closed = False

    def append(self, body: Body) -> Event:
        return self.append_many([body])[0]

    def append_many(self, bodies: Iterable[Body]) -> list[Event]:
        """Append a group of events; the group is written by one write call.

        With a ``scrubber``, the group is searched (encoded) for its secret values and encoded again
        without them if one is there; header credentials are taken out of error texts first.
        """
        out: list[Event] = []
        with self._lock:
            if self._closed:
                raise RuntimeError(f"log {self.path} is closed")
            if self._failed is not None:
                raise self._failed
            ts = time.time()
            if self.scrubber is None:
                self._encode_locked(bodies, ts, out)
            else:
                errors, clean = ERROR_FIELDS, self.scrubber.error_fields
                bodies = [clean(b) if type(b).__name__ in errors else b for b in bodies]
                start, seq = len(self._buf), self.next_seq
                self._encode_locked(bodies, ts, out)
                if self.scrubber.found_in(self._buf, start):  # rare: encode again without the secrets
                    del self._buf[start:]
                    self.next_seq = seq
                    out.clear()
                    self._encode_locked([self.scrubber.body(b) for b in bodies], ts, out)
            if len(self._buf) >= self.flush_bytes:
                self._flush_locked()
        return out

    def _encode_locked(self, bodies: Iterable[Body], ts: float, out: list[Event]) -> None:
        for body in bodies:
            ev = Event(
                v=SCHEMA_VERSION,
                type=type_name(body),
                seq=self.next_seq,
                ts=ts,
                run_id=self.run_id,
                body=body,
            )
            # the Event is the line as written: Envelope's fields, in its order (no second object per event)
            self._encoder.encode_into(ev, self._buf, -1)
            self._buf += b"\n"
            self.next_seq += 1
            out.append(ev)

    def append_raw_line(self, line: bytes) -> None:
        """Write a pre-encoded line (used by tests and tools that copy logs)."""
        with self._lock:
            self._buf += line

    def flush(self, *, sync: bool = False) -> None:
        with self._lock:
            self._flush_locked(sync=sync)

    def _flush_locked(self, *, sync: bool = False) -> None:
        if self._failed is not None:
            raise self._failed
        try:
            while self._buf:
                n = os.write(self._fd, self._buf)
                del self._buf[:n]  # what reached the file leaves the buffer, even if the next write fails
                self.written += n
            now = time.monotonic()
            if sync or (self.fsync_interval >= 0 and now - self._last_sync >= self.fsync_interval):
                os.fsync(self._fd)
                self._last_sync = now
        except OSError as exc:
            self._buf.clear()  # never acknowledged; resume does that work again
            self._failed = LogWriteError(
                f"cannot write the event log {self.path}: {_why(exc)}. Nothing written before is lost: "
                f"free space (or make it writable), then finish the run with `assay resume {self.path.parent}`"
            )
            raise self._failed from None

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                self._flush_locked(sync=True)
            finally:
                os.close(self._fd)
                self._closed = True

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
