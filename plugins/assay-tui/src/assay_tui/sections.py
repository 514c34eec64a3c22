"""What the registered reporters render for a run, as ``assay report`` prints it.

The TUI shows reporters' output rather than folding the log itself, so a new reporter (a benchmark's
own table, perf metrics, an arena leaderboard) appears in ``assay view`` with no TUI code.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.text import Text


def _reporters_for(path: Path, datasets: set[str], types: set[str] | None) -> Any:
    """``(name, entry, applies)`` of each registered reporter that names none of the run's other
    benchmarks and, registered with ``events``, one of the event types the log holds (``types``: those the
    screen's index read, None where it has not read the whole log); ``applies()`` says whether it is
    registered for the run's kind (it reads the reporter's ``kinds``, so the caller calls it where a
    reporter's bug is caught). Nothing for a log whose kind cannot be read: the screen's own reader reports
    a damaged log."""
    from assay.plugins import host
    from assay.report import run_kind

    try:
        kind = run_kind(path)
    except Exception:  # noqa: BLE001 - a damaged log is reported by the screen's own reader
        return
    for name, entry in sorted(host().reporters().items()):
        benchmarks = entry.options.get("benchmarks")
        if benchmarks and not datasets & set(benchmarks):
            continue
        needs = entry.options.get("events")
        if needs and types is not None and not types & set(needs):
            continue  # (it would read the whole log to find nothing: a million-event log takes seconds)
        yield name, entry, lambda entry=entry: kind in (entry.options.get("kinds") or getattr(entry.obj, "kinds", ()))


def reporter_sections(
    path: Path, datasets: set[str], width: int = 100, *, trees: bool = False, types: set[str] | None = None
) -> Text:
    """Every reporter registered for the run's kind (and, when it names benchmarks, one of ``datasets``; when
    it names event types, one of ``types``); with ``trees``, not those that give a tree (see
    :func:`reporter_trees`: the screen shows them as one)."""
    from rich.console import Console

    out = Text()
    for name, entry, applies in _reporters_for(path, datasets, types):
        try:
            if not applies():
                continue
            if trees and callable(getattr(entry.obj, "tree", None)):
                continue
            console = Console(file=io.StringIO(), record=True, width=width, force_terminal=True)
            entry.obj.render(entry.obj.build(path), console)
            out.append_text(Text.from_ansi(console.export_text(styles=True)))
        except Exception as exc:  # noqa: BLE001 - one reporter's bug must not hide the report
            out.append(f"reporter {name} ({entry.distribution}) failed: {type(exc).__name__}: {exc}\n", style="red")
    return out


def reporter_trees(
    path: Path, datasets: set[str], types: set[str] | None = None
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """``(name, title, nodes)`` of each reporter for this run with a ``tree(report)`` method: nested
    ``{"label", "data": {column: value}, "children"}`` nodes (a collection's levels), which the report
    screen shows as a Tree widget instead of the reporter's text. A reporter that fails is given as one
    node saying so."""
    out: list[tuple[str, str, list[dict[str, Any]]]] = []
    for name, entry, applies in _reporters_for(path, datasets, types):
        try:
            if not applies():
                continue
            if not callable(getattr(entry.obj, "tree", None)):
                continue
            nodes = entry.obj.tree(entry.obj.build(path))
        except Exception as exc:  # noqa: BLE001 - one reporter's bug must not hide the report
            failed = f"reporter {name} ({entry.distribution}) failed: {type(exc).__name__}: {exc}"
            out.append((name, name, [{"label": failed, "data": {}, "children": []}]))
            continue
        if nodes:
            out.append((name, str(getattr(entry.obj, "tree_title", name)), nodes))
    return out
