"""A lazy, incremental index of one run log (no Textual in here).

One streaming pass over ``events.jsonl`` keeps, per sample, the *byte offsets* of
its lines (SampleLoaded, Generated, first Scored, SampleFailed), its status and its
primary score -- never the decoded events. Screens decode the few lines they show
by seeking to those offsets. The same pass feeds the eval report's ``EvalFold`` (the
report table) and a perf fold (raw timings of ``RequestTimed`` as numpy-ready
arrays). ``update()`` resumes from the last complete line, so a log that is still
being written is followed by calling it again (tail).

A torn last line (no newline yet) is left for the next ``update()`` and reported;
a newline-terminated line that does not decode is skipped and reported with its
line number -- the viewer never raises on a bad log.
"""

from __future__ import annotations

import json
import math
import os
import threading
from array import array
from typing import Any

import msgspec
import numpy as np
from assay.events import CORE_BODIES, RawEnvelope
from assay.log import log_path
from assay_eval_report.reporter import EvalFold, FoldBody

# Status codes of a sample (one byte each).
PENDING, GENERATED, PASSED, FAILED, ERRORED = 0, 1, 2, 3, 4
STATUS_NAMES = {
    PENDING: "pending",
    GENERATED: "generated",
    PASSED: "passed",
    FAILED: "failed",
    ERRORED: "errored",
}
PASS_THRESHOLD = 0.5  # a sample "passed" when its primary metric is >= this (1 for 0/1 metrics)


class _IndexBody(FoldBody):  # type: ignore[misc,valid-type]
    """The eval fold's body fields plus what the index reads; other fields are skipped."""

    status: str | int | None = None  # RunFinished.status (str) or RequestTimed.status (int)
    config: dict[str, Any] | None = None
    final: bool | None = None
    # RequestTimed
    request_id: str | None = None
    sent: float | None = None
    first_byte: float | None = None
    chunk_times: list[float] | None = None
    chunk_tokens: list[int] | None = None
    last_content: float | None = None
    end: float | None = None
    ok: bool | None = None
    output_tokens: int | None = None
    phase: str | None = None
    point: dict[str, Any] | None = None


class _IndexLine(msgspec.Struct):
    type: str
    seq: int
    ts: float
    run_id: str
    body: _IndexBody


_DECODER = msgspec.json.Decoder(_IndexLine)
_RAW = msgspec.json.Decoder(RawEnvelope)
_ANY = msgspec.json.Decoder()
_BLOCK = 4 << 20
_MAX_WARNINGS = 20


class Group:
    """The samples of one (benchmark, subset), in load order."""

    __slots__ = ("benchmark", "gi", "members", "primary", "subset")

    def __init__(self, benchmark: str, subset: str, gi: int = 0) -> None:
        self.gi = gi
        self.benchmark = benchmark
        self.subset = subset
        self.members = array("i")
        self.primary: str | None = None  # the first metric scored in the group


class PerfData:
    """Per-request figures of RequestTimed events (measure phase), per sweep point, for the plots.

    The metric tables are the perf reporter's (assay-perf), rendered by the screen: no second fold here.
    """

    __slots__ = ("end", "latency", "ok", "out_tokens", "point", "sent", "ttft")

    def __init__(self, point: str) -> None:
        self.point = point
        self.sent = array("d")
        self.end = array("d")
        self.ttft = array("d")
        self.latency = array("d")
        self.out_tokens = array("d")
        self.ok = bytearray()


class RunIndex:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = log_path(path)
        self.run_dir = self.path.parent
        self.offset = 0  # bytes of complete lines consumed
        self.lines = 0  # complete lines consumed
        self.events = 0
        self.torn_bytes = 0
        self.warnings: list[str] = []
        self.bad_lines = 0
        self.fold = EvalFold()
        self.run_id = ""
        self.kind = "eval"
        self.started_ts: float | None = None
        self.last_ts: float | None = None
        self.config: dict[str, Any] = {}
        self.resolved: dict[str, Any] = {}
        self.finished = False
        self.status = "running"
        # per sample (global index)
        self.sids: list[str] = []
        self.sid_index: dict[str, int] = {}
        self.group_of = array("i")
        self.loaded_off = array("q")
        self.gen_off = array("q")
        self.score_off = array("q")
        self.fail_off = array("q")
        self.value = array("d")
        self.status_of = bytearray()
        self.groups: dict[tuple[str, str], Group] = {}
        self._group_list: list[Group] = []
        self.perf: dict[str, PerfData] = {}
        self.event_types: set[str] = set()  # every event type read so far (reporters registered with events=)
        self.lock = threading.RLock()  # held while a chunk is folded; readers of the folds take it
        self._updating = threading.Lock()  # one update() at a time
        self.complete = False  # the last update reached the end of the file
        self.changes = 0  # bumped by every update that consumed lines

    # ---- scanning --------------------------------------------------------------

    def update(self, max_bytes: int | None = None) -> int:
        """Read complete lines appended since the last call; return how many were read.

        ``max_bytes`` bounds the work of one call (the UI indexes in slices). Calls from
        several threads are serialised: each continues where the previous one stopped.
        """
        with self._updating:
            return self._update(max_bytes)

    def _update(self, max_bytes: int | None) -> int:
        try:
            size = os.path.getsize(self.path)
        except OSError as exc:
            self._warn(f"{self.path}: cannot read: {exc}")
            self.complete = True  # nothing more to read; a later update() tries again
            return 0
        if size < self.offset:
            self._warn(f"{self.path}: the log shrank from {self.offset} to {size} bytes; showing what was read before")
            self.complete = True
            return 0
        read = 0
        at_eof = False
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                pending = b""
                consumed = 0
                while max_bytes is None or consumed < max_bytes:
                    data = f.read(_BLOCK)
                    if not data:
                        at_eof = True
                        break
                    buf = pending + data if pending else data
                    cut = buf.rfind(b"\n")
                    if cut < 0:
                        pending = buf
                        continue
                    pending = buf[cut + 1 :]
                    with self.lock:
                        read += self._feed_chunk(buf[: cut + 1], self.offset)
                        self.offset += cut + 1
                    consumed += cut + 1
                end = f.tell() if at_eof else None
        except OSError as exc:
            self._warn(f"{self.path}: cannot read: {exc}")
            self.complete = True
            return read
        if at_eof:
            self.torn_bytes = max(0, (end or 0) - self.offset)
        self.complete = at_eof
        if read:
            self.changes += 1
        return read

    @property
    def torn_warning(self) -> str | None:
        if self.torn_bytes:
            return (
                f"{self.path}: ignored an unterminated last line ({self.torn_bytes} bytes; torn or still being written)"
            )
        return None

    def _warn(self, msg: str) -> None:
        if msg in self.warnings:
            return
        if len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(msg)
        elif len(self.warnings) == _MAX_WARNINGS:
            self.warnings.append("... more warnings not shown")

    def _feed_chunk(self, chunk: bytes, base: int) -> int:
        nl = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
        starts = np.empty(len(nl), dtype=np.int64)
        starts[0] = 0
        starts[1:] = nl[:-1] + 1
        try:
            lines = _DECODER.decode_lines(chunk)
        except (msgspec.DecodeError, msgspec.ValidationError):
            lines = None
        if lines is None or len(lines) != len(nl):
            lines, offs = self._decode_slowly(chunk, starts, nl, base)
        else:
            offs = (starts + base).tolist()
        self.lines += len(nl)
        self._index(lines, offs)
        self.event_types.update({line.type for line in lines})
        self.fold.feed(lines)
        self.events += len(lines)
        return len(lines)

    def _decode_slowly(self, chunk: bytes, starts: Any, nl: Any, base: int) -> tuple[list[_IndexLine], list[int]]:
        lines: list[_IndexLine] = []
        offs: list[int] = []
        first_line = self.lines + 1
        for k, (s, e) in enumerate(zip(starts.tolist(), nl.tolist())):
            raw = chunk[s:e]
            line_no = first_line + k
            if not raw.strip():
                self.bad_lines += 1
                self._warn(f"{self.path}:{line_no}: blank line (skipped)")
                continue
            try:
                lines.append(_DECODER.decode(raw))
                offs.append(base + s)
                continue
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                misfit = str(exc)
            try:
                env = _RAW.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                self.bad_lines += 1
                self._warn(f"{self.path}:{line_no}: corrupted event log line (skipped): {exc}")
                continue
            if env.type in CORE_BODIES:  # a core event that does not fit its own schema: damage
                self.bad_lines += 1
                self._warn(f"{self.path}:{line_no}: malformed {env.type} event (skipped): {misfit}")
                continue
            # a plugin's event whose fields clash with the index's: count it, nothing more
            lines.append(_IndexLine(type=env.type, seq=env.seq, ts=env.ts, run_id=env.run_id, body=_IndexBody()))
            offs.append(base + s)
        return lines, offs

    def _sample(self, sid: str, benchmark: str | None = None, subset: str | None = None) -> int:
        i = self.sid_index.get(sid)
        if i is not None:
            return i
        if benchmark is None:
            parts = sid.split("/", 2)
            benchmark, subset = (parts[0], parts[1]) if len(parts) == 3 else (parts[0], "default")
        key = (benchmark, subset or "default")
        g = self.groups.get(key)
        if g is None:
            g = self.groups[key] = Group(key[0], key[1], len(self._group_list))
            self._group_list.append(g)
        gi = g.gi
        i = len(self.sids)
        self.sids.append(sid)
        self.sid_index[sid] = i
        self.group_of.append(gi)
        self.loaded_off.append(-1)
        self.gen_off.append(-1)
        self.score_off.append(-1)
        self.fail_off.append(-1)
        self.value.append(math.nan)
        self.status_of.append(PENDING)
        g.members.append(i)
        return i

    def _index(self, lines: list[_IndexLine], offs: list[int]) -> None:
        sid_index = self.sid_index
        sid_get = sid_index.get
        groups_get = self.groups.get
        sids = self.sids
        status_of, value = self.status_of, self.value
        group_of, loaded_off, gen_off, score_off, fail_off = (
            self.group_of,
            self.loaded_off,
            self.gen_off,
            self.score_off,
            self.fail_off,
        )
        group_list = self._group_list
        nan = math.nan
        for line, off in zip(lines, offs):
            t = line.type
            b = line.body
            if t == "Scored":
                i = sid_get(b.sample_id)
                if i is None:
                    i = self._sample(b.sample_id)
                if score_off[i] < 0:
                    score_off[i] = off
                g = group_list[group_of[i]]
                if g.primary is None:
                    g.primary = b.metric
                if b.metric == g.primary:
                    value[i] = b.value
                v = value[i]
                status_of[i] = GENERATED if math.isnan(v) else (PASSED if v >= PASS_THRESHOLD else FAILED)
            elif t == "SampleLoaded":
                sid = b.sample_id
                i = sid_get(sid)
                if i is None:
                    key = (b.benchmark, b.subset or "default")
                    g = groups_get(key)
                    if g is None:
                        i = self._sample(sid, b.benchmark, b.subset)
                        self.loaded_off[i] = off
                        continue
                    # the common path, inlined: a new sample of a known group
                    i = len(sids)
                    sids.append(sid)
                    sid_index[sid] = i
                    group_of.append(g.gi)
                    loaded_off.append(off)
                    gen_off.append(-1)
                    score_off.append(-1)
                    fail_off.append(-1)
                    value.append(nan)
                    status_of.append(0)
                    g.members.append(i)
                else:
                    loaded_off[i] = off
            elif t == "Generated":
                i = sid_get(b.sample_id)
                if i is None:
                    i = self._sample(b.sample_id)
                gen_off[i] = off
                if status_of[i] in (PENDING, ERRORED):
                    status_of[i] = GENERATED
            elif t == "SampleFailed":
                i = sid_get(b.sample_id)
                if i is None:
                    i = self._sample(b.sample_id)
                fail_off[i] = off
                status_of[i] = ERRORED
            elif t == "RequestTimed":
                self._perf(b)
            elif t == "RunStarted":
                if self.started_ts is None:
                    self.started_ts = line.ts
                    self.run_id = line.run_id
                    self.kind = b.kind or "eval"
                    self.config = b.config or {}
                    self.resolved = b.resolved or {}
                self.finished = False
                self.status = "running"
            elif t == "RunFinished":
                self.finished = True
                self.status = str(b.status or "completed")
            elif t == "RunResumed":
                self.finished = False
                self.status = "running"
        if lines:
            self.last_ts = lines[-1].ts

    def _perf(self, b: _IndexBody) -> None:
        if (b.phase or "measure") != "measure" or b.sent is None:
            return
        key = json.dumps(b.point, sort_keys=True) if b.point else ""
        p = self.perf.get(key)
        if p is None:
            p = self.perf[key] = PerfData(key)
        sent = b.sent
        p.sent.append(sent)
        p.end.append(b.end if b.end is not None else sent)
        ok = bool(b.ok if b.ok is not None else True)
        p.ok.append(ok)
        ct = b.chunk_times or []
        p.ttft.append(ct[0] - sent if ct else math.nan)
        last = b.last_content if b.last_content is not None else (ct[-1] if ct else None)
        p.latency.append(last - sent if last is not None else math.nan)
        if b.output_tokens is not None:
            n = float(b.output_tokens)
        elif b.chunk_tokens:
            n = float(sum(b.chunk_tokens))
        else:
            n = float(len(ct))
        p.out_tokens.append(n)

    # ---- what screens ask --------------------------------------------------------

    @property
    def model(self) -> str:
        return str(
            self.resolved.get("model_id")
            or self.resolved.get("model")
            or self.fold.model
            or self.config.get("model")
            or ""
        )

    @property
    def datasets(self) -> list[str]:
        ds = self.config.get("datasets") or self.resolved.get("datasets")
        if ds:
            return [str(d) for d in ds]
        return sorted({g.benchmark for g in self.groups.values()})

    def report_rows(self) -> list[dict[str, Any]]:
        with self.lock:
            return self.fold.rows()

    def headline(self) -> float | None:
        return headline_score(self.report_rows())

    @property
    def n_samples(self) -> int:
        return len(self.sids)

    @property
    def n_errors(self) -> int:
        return self.status_of.count(ERRORED)

    def group(self, benchmark: str, subset: str) -> list[Group]:
        """The groups a report row stands for (an OVERALL row: every subset of the dataset)."""
        if subset.startswith("OVERALL"):
            return [g for g in self._group_list if g.benchmark == benchmark]
        g = self.groups.get((benchmark, subset))
        return [g] if g else []

    def members(self, groups: list[Group]) -> np.ndarray:
        with self.lock:
            return self._members(groups)

    def _members(self, groups: list[Group]) -> np.ndarray:
        if len(groups) == 1:
            return (
                np.frombuffer(groups[0].members, dtype=np.int32).copy() if groups[0].members else np.zeros(0, np.int32)
            )
        parts = [np.frombuffer(g.members, dtype=np.int32) for g in groups if g.members]
        return np.concatenate(parts) if parts else np.zeros(0, np.int32)

    def statuses(self) -> np.ndarray:
        with self.lock:
            return np.frombuffer(bytes(self.status_of), dtype=np.uint8)

    def read_line(self, off: int) -> Any:
        """Decode the one event line at byte offset ``off`` (a plain dict)."""
        if off < 0:
            return None
        with open(self.path, "rb") as f:
            f.seek(off)
            return _ANY.decode(f.readline())

    def read_lines(self, offs: list[int]) -> list[Any]:
        out = []
        with open(self.path, "rb") as f:
            for off in offs:
                if off < 0:
                    out.append(None)
                    continue
                f.seek(off)
                try:
                    out.append(_ANY.decode(f.readline()))
                except msgspec.DecodeError:
                    out.append(None)
        return out

    def raw_line(self, f: Any, off: int) -> bytes:
        if off < 0:
            return b""
        f.seek(off)
        return f.readline()

    def row(self, i: int, f: Any | None = None) -> dict[str, Any]:
        """What the samples table shows for sample ``i``: id, status, score, extracted, target."""
        own = f is None
        if own:
            f = open(self.path, "rb")  # noqa: SIM115 - closed in finally
        try:
            extracted: Any = None
            target: Any = None
            if self.score_off[i] >= 0:
                sc = _ANY.decode(self.raw_line(f, self.score_off[i]))["body"]
                extracted, target = sc.get("extracted"), sc.get("target")
            elif self.loaded_off[i] >= 0:
                target = _ANY.decode(self.raw_line(f, self.loaded_off[i]))["body"].get("target")
            if self.status_of[i] == ERRORED and self.fail_off[i] >= 0 and extracted is None:
                fb = _ANY.decode(self.raw_line(f, self.fail_off[i]))["body"]
                extracted = f"{fb.get('error_type', '')}: {fb.get('message', '')}"
        finally:
            if own:
                f.close()
        return {
            "sample_id": self.sids[i],
            "status": STATUS_NAMES[self.status_of[i]],
            "score": self.value[i],
            "extracted": extracted,
            "target": target,
        }

    def detail(self, i: int) -> dict[str, Any]:
        """Every event of sample ``i`` near its offsets, decoded (for the detail pane)."""
        sid = self.sids[i]
        out: dict[str, Any] = {
            "sample_id": sid,
            "loaded": None,
            "generated": None,
            "scored": [],
            "failed": [],
        }
        with open(self.path, "rb") as f:
            if self.loaded_off[i] >= 0:
                out["loaded"] = _ANY.decode(self.raw_line(f, self.loaded_off[i]))
            starts = sorted(o for o in (self.gen_off[i], self.score_off[i], self.fail_off[i]) if o >= 0)
            seen: set[int] = set()
            for start in starts:
                f.seek(start)
                pos = start
                for _ in range(256):  # one sample's group of events is contiguous
                    raw = f.readline()
                    if not raw.endswith(b"\n"):
                        break
                    try:
                        ev = _ANY.decode(raw)
                    except msgspec.DecodeError:
                        break
                    body = ev.get("body", {})
                    if body.get("sample_id") != sid:
                        break
                    if pos not in seen:
                        seen.add(pos)
                        t = ev.get("type")
                        if t == "Generated":
                            out["generated"] = ev
                        elif t == "Scored":
                            out["scored"].append(ev)
                        elif t == "SampleFailed":
                            out["failed"].append(ev)
                    pos += len(raw)
        return out

    def search(self, idx: np.ndarray, needle: str) -> np.ndarray:
        """Samples among ``idx`` whose id, prompt, target, output or scores contain ``needle``."""
        n = needle.lower().encode("utf-8")
        keep = []
        with open(self.path, "rb") as f:
            for i in idx.tolist():
                if n in self.sids[i].lower().encode("utf-8"):
                    keep.append(i)
                    continue
                for off in (self.loaded_off[i], self.gen_off[i], self.score_off[i], self.fail_off[i]):
                    if off >= 0 and n in self.raw_line(f, off).lower():
                        keep.append(i)
                        break
        return np.asarray(keep, dtype=np.int32)


def headline_score(rows: list[dict[str, Any]]) -> float | None:
    """The first dataset's OVERALL (micro) score, or its only row's score."""
    if not rows:
        return None
    first = rows[0]["dataset"], rows[0]["metric"]
    mine = [r for r in rows if (r["dataset"], r["metric"]) == first]
    for r in mine:
        if r["subset"] == "OVERALL" and r.get("category") == "-":
            return r["score"]
    return mine[0]["score"] if len(mine) == 1 else None


def throughput_series(p: PerfData, bucket: float = 1.0) -> tuple[list[float], list[float], list[float]]:
    """Completed requests/s and output tokens/s per time bucket since the first request was sent."""
    sent = np.frombuffer(p.sent, dtype=np.float64)
    if not len(sent):
        return [], [], []
    end = np.frombuffer(p.end, dtype=np.float64)
    ok = np.frombuffer(bytes(p.ok), dtype=np.uint8).astype(bool)
    toks = np.frombuffer(p.out_tokens, dtype=np.float64)
    t0 = sent.min()
    span = max(end.max() - t0, bucket)
    nb = math.ceil(span / bucket)
    edges = t0 + np.arange(nb + 1) * bucket
    reqs, _ = np.histogram(end[ok], bins=edges)
    tok, _ = np.histogram(end[ok], bins=edges, weights=toks[ok])
    xs = ((edges[:-1] - t0) + bucket / 2).tolist()
    return xs, (reqs / bucket).tolist(), (tok / bucket).tolist()


class Replayer:
    """Steps through a log from the start, one event at a time, folding as it goes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = log_path(path)
        self.fold = EvalFold()
        self.position = 0  # events consumed
        self.offset = 0
        self.last: Any = None  # the last event, decoded (a dict)
        self.last_line = 0
        self.warnings: list[str] = []
        self.counts: dict[str, int] = {}
        self._f = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        self._line = 0

    def close(self) -> None:
        self._f.close()

    def restart(self) -> None:
        self._f.seek(0)
        self.fold = EvalFold()
        self.position = self.offset = self._line = 0
        self.last = None
        self.counts = {}

    def step(self, n: int = 1) -> int:
        """Consume up to ``n`` complete lines; return how many events were read."""
        done = 0
        batch: list[_IndexLine] = []
        f = self._f
        f.seek(self.offset)
        last_raw = b""
        while done < n:
            raw = f.readline()
            if not raw.endswith(b"\n"):
                break  # the end, or a torn/unfinished last line: wait for more
            self.offset += len(raw)
            self._line += 1
            try:
                line = _DECODER.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                try:
                    env = _RAW.decode(raw)
                    line = _IndexLine(type=env.type, seq=env.seq, ts=env.ts, run_id=env.run_id, body=_IndexBody())
                except (msgspec.DecodeError, msgspec.ValidationError):
                    if len(self.warnings) < _MAX_WARNINGS:
                        self.warnings.append(f"{self.path}:{self._line}: corrupted event log line (skipped): {exc}")
                    continue
            batch.append(line)
            last_raw = raw
            self.last_line = self._line
            done += 1
            if len(batch) >= 4096:
                self._fold(batch)
                batch = []
        self._fold(batch)
        if last_raw:
            self.last = _ANY.decode(last_raw)
        self.position += done
        return done

    def _fold(self, batch: list[_IndexLine]) -> None:
        if batch:
            self.fold.feed(batch)
            for ln in batch:
                self.counts[ln.type] = self.counts.get(ln.type, 0) + 1
