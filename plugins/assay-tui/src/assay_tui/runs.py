"""Finding runs and what the runs list shows before a log is indexed (no Textual here).

A run's first line (RunStarted) and last line (RunFinished or not) and its
``report.json`` (regenerable, written at the end of a run) are read without
scanning the log, so the first screen appears at once whatever the log's size.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs
import msgspec
from assay.log import LOG_NAME

from .index import headline_score

_TAIL = 1 << 16


@attrs.define
class RunInfo:
    path: Path  # the events.jsonl
    run_id: str = ""
    kind: str = "eval"
    model: str = ""
    datasets: list[str] = attrs.field(factory=list)
    started: float | None = None
    status: str = "running"
    samples: int | None = None
    errors: int | None = None
    score: float | None = None
    size: int = 0
    warnings: list[str] = attrs.field(factory=list)

    @property
    def run_dir(self) -> Path:
        return self.path.parent


def find_logs(paths: list[str | os.PathLike[str]]) -> tuple[list[Path], list[str]]:
    """Logs named by ``paths``: a log file, a run directory, or a work dir (runs one or two levels down)."""
    logs: list[Path] = []
    problems: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            logs.append(p)
        elif (p / LOG_NAME).is_file():
            logs.append(p / LOG_NAME)
        elif p.is_dir():
            found = sorted(p.glob(f"*/{LOG_NAME}")) or sorted(p.glob(f"*/*/{LOG_NAME}"))
            if not found:
                problems.append(f"{p}: no run directories (*/{LOG_NAME}) found here")
            logs.extend(found)
        else:
            problems.append(f"{p}: no such file or directory")
    seen: set[Path] = set()
    unique = []
    for lg in logs:
        r = lg.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(lg)
    return unique, problems


def read_info(path: Path) -> RunInfo:
    """Head, tail and report.json of one run; never raises on a bad log."""
    info = RunInfo(path=path, run_id=path.parent.name)
    try:
        size = info.size = path.stat().st_size
        with open(path, "rb") as f:
            first = f.readline()
            f.seek(max(0, size - _TAIL))
            tail = f.read()
    except OSError as exc:
        info.warnings.append(f"{path}: cannot read: {exc}")
        info.status = "unreadable"
        return info
    if not first:
        info.warnings.append(f"{path}: empty log")
        return info
    if first.endswith(b"\n"):
        try:
            ev = msgspec.json.decode(first)
            body = ev.get("body", {}) if isinstance(ev, dict) else {}
            if isinstance(ev, dict) and ev.get("type") == "RunStarted":
                info.run_id = str(ev.get("run_id") or info.run_id)
                info.started = ev.get("ts")
                info.kind = body.get("kind") or "eval"
                cfg, res = body.get("config") or {}, body.get("resolved") or {}
                info.model = str(res.get("model_id") or res.get("model") or cfg.get("model") or "")
                info.datasets = [str(d) for d in (cfg.get("datasets") or res.get("datasets") or [])]
            else:
                info.warnings.append(f"{path}:1: the log does not start with RunStarted")
        except msgspec.DecodeError as exc:
            info.warnings.append(f"{path}:1: corrupted event log line: {exc}")
    if not tail.endswith(b"\n"):
        cut = tail.rfind(b"\n")
        info.warnings.append(
            f"{path}: ignored an unterminated last line ({len(tail) - cut - 1} bytes; torn or still being written)"
        )
        tail = tail[: cut + 1]
    lines = tail.rstrip(b"\n").rsplit(b"\n", 1)
    last = lines[-1] if lines else b""
    if last:
        try:
            ev = msgspec.json.decode(last)
            if isinstance(ev, dict) and ev.get("type") == "RunFinished":
                info.status = str(ev.get("body", {}).get("status") or "completed")
        except msgspec.DecodeError:
            pass
    report = path.parent / "report.json"
    if report.is_file() and info.status != "running":
        try:
            data: Any = json.loads(report.read_text(encoding="utf-8"))
            rows = data.get("rows") or []
            info.score = headline_score(rows)
            info.errors = data.get("errored_samples")
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            info.warnings.append(f"{report}: unreadable report (ignored; the log is the source of truth)")
    return info
