"""``assay import`` and ``assay export``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from assay.api import AssayError

FORMATS = ("evalscope", "lm-eval", "inspect")


def register_commands(cli: Any) -> None:
    imp = cli.command("import", help="turn EvalScope, lm-eval or inspect_ai results into an assay run")(cmd_import)

    @imp.arguments
    def _(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "what",
            nargs="+",
            metavar="[FORMAT] PATH",
            help="evalscope DIR (an output tree), lm-eval DIR (--output_path with --log_samples), "
            "inspect FILE (.eval or .json); the format may also be given with --from",
        )
        p.add_argument("--from", dest="source", choices=FORMATS, help="the format of PATH")
        p.add_argument("--model", help="EvalScope trees with several models: which one")
        p.add_argument("--work-dir", help="where the new run goes (default ./outputs)")
        p.add_argument("--name", help="run directory name (default: a new run id)")

    exp = cli.command("export", help="write an assay eval run in another harness's layout (evalscope)")(cmd_export)

    @exp.arguments
    def _(p: argparse.ArgumentParser) -> None:
        p.add_argument("run", help="run directory or events.jsonl")
        p.add_argument("--to", "--format", dest="to", choices=["evalscope"], required=True, help="the layout")
        p.add_argument("out", metavar="DIR", help="a new (or empty) directory")


def cmd_import(args: argparse.Namespace) -> int:
    from assay.redact import visible

    what = list(args.what)
    source = args.source
    if source is None and len(what) == 2 and what[0] in FORMATS:
        source = what.pop(0)
    if source is None or len(what) != 1:
        raise AssayError(f"usage: assay import {{{','.join(FORMATS)}}} PATH (or --from FORMAT PATH)")
    path = Path(what[0])
    if not path.exists():
        raise AssayError(f"{path} does not exist")
    if source == "evalscope":
        from .evalscope import read_tree

        model, samples, reported = read_tree(path, args.model)
    elif source == "lm-eval":
        from .lmeval import read_output

        model, samples, reported = read_output(path)
    else:
        from .inspect_log import read_log

        model, samples, reported = read_log(path)
    from .common import write_run

    report = write_run(
        samples, source=source, path=path, model=model, work_dir=args.work_dir, name=args.name, reported=reported
    )
    from assay.report import render

    render(report)
    print(visible(f"imported {len(samples)} samples from {source} {path}"), file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from assay.redact import visible

    from .evalscope import export_tree

    out = Path(args.out)
    counts = export_tree(Path(args.run), out)
    print(
        visible(
            f"wrote {out}: {counts['predictions']} predictions, {counts['reviews']} reviews, "
            f"{counts['reports']} reports (EvalScope layout)"
        )
    )
    return 0
