"""The ``assay compare`` command: arguments, output format (table, json, a file reporter's)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def cmd_compare(args: argparse.Namespace) -> int:
    from assay.api import AssayError
    from assay.redact import json_inert, visible
    from assay.report import format_writer

    from .compare import compare, render

    if args.format in ("markdown", "csv"):
        raise AssayError(f"assay compare has no --format {args.format}: table, json or a file reporter's (html)")
    writer = format_writer(args.format)
    result = compare(args.runs, resamples=args.resamples, seed=args.seed)
    if writer is not None:
        out = Path(args.output or f"compare.{args.format}")
        print(f"wrote {visible(str(writer.obj.write_compare(result, out)), multiline=False)}")
    elif args.format == "json":
        sys.stdout.write(json_inert(json.dumps(result, indent=2, ensure_ascii=False, default=str)) + "\n")
    else:
        render(result)
    return 0


def register(cli: Any) -> None:
    cmp = cli.command("compare", help="compare runs: scores, paired tests and flips (or perf), each against the first")(
        cmd_compare
    )

    @cmp.arguments
    def _(p: argparse.ArgumentParser) -> None:
        p.add_argument("runs", nargs="+", metavar="RUN", help="run directories or events.jsonl; the first is A")
        p.add_argument("--format", default="table", help="table, json, or a file reporter's format (html)")
        p.add_argument("-o", "--output", help="file for --format html (default: compare.html)")
        p.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples (default 10000)")
        p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
