"""What every screen shares: the base class, a run's title and its warnings."""

from __future__ import annotations

import os

from textual.screen import Screen

from .index import RunIndex

from .cells import escape


class ViewScreen(Screen[None]):
    ready = False  # set once on_mount has built the widgets; index updates wait for it


def run_title(ix: RunIndex) -> str:
    state = ix.status if ix.complete else f"indexing {100 * ix.offset / max(1, os.path.getsize(ix.path)):.0f}%"
    return (
        f"[b]{escape(ix.run_id or ix.run_dir.name)}[/b] · {escape(ix.model or '?')} · {escape(ix.kind)} · "
        f"{escape(state)} · {ix.events:,} events"
    )


def warnings_text(ix: RunIndex) -> str:
    ws = list(ix.warnings)
    if ix.complete and ix.torn_warning:
        ws.append(ix.torn_warning)
    return "\n".join("⚠ " + escape(w) for w in ws)
