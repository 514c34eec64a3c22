"""assay-tui: ``assay view``, a Textual TUI over run logs.

This module only registers the command; Textual is imported when the command runs.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__all__ = ["assay_commands"]


@hookimpl
def assay_commands(cli: Any) -> None:
    @cli.command("view", help="browse runs in a terminal UI: report, samples, compare, perf, live tail, replay")
    def view(args: Any) -> int:
        from .app import run_app

        return run_app(args.paths or ["./outputs"], replay=args.replay)

    @view.arguments
    def _(parser: Any) -> None:
        parser.add_argument(
            "paths",
            nargs="*",
            metavar="PATH",
            help="run directory, events.jsonl, or a work dir of runs (default ./outputs)",
        )
        parser.add_argument("--replay", action="store_true", help="open the (first) run in the replay screen")
