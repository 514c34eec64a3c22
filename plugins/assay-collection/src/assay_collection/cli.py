"""``assay collection create SCHEMA -o FILE``: sample a collection file from a schema."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .sampler import SAMPLERS


def add_commands(cli: Any) -> None:
    @cli.command(
        "collection",
        help="sample a collection (a weighted mixture of benchmarks) from a schema into a file for "
        "`assay eval --datasets data_collection`",
    )
    def collection(args: argparse.Namespace) -> int:
        from assay.redact import visible

        from . import sampler, schema

        root = schema.load(args.schema)
        summary = sampler.create(
            root,
            args.output,
            count=args.count,
            sampler=args.sampler,
            seed=args.seed,
            dataset_dir=args.dataset_dir or os.environ.get("ASSAY_DATA_DIR"),
            dataset_hub=args.dataset_hub,
        )
        total = sum(s["taken"] for s in summary)
        for s in summary:
            print(
                visible(f"{s['path']}/{s['benchmark']}: {s['taken']} of {s['size']} items (share {s['share']:.4f})"),
                file=sys.stderr,
            )
        print(visible(f"wrote {total} items to {args.output} ({args.sampler} sampler, seed {args.seed})"))
        return 0

    @collection.arguments
    def _(p: argparse.ArgumentParser) -> None:
        p.add_argument("action", choices=["create", "sample"], help="create (or its alias sample) a collection file")
        p.add_argument("schema", help="the schema, JSON or YAML (EvalScope's CollectionSchema)")
        p.add_argument("-o", "--output", required=True, help="the collection file to write (JSON lines)")
        p.add_argument("--count", type=int, default=100, help="items in all (default 100)")
        p.add_argument(
            "--sampler", choices=SAMPLERS, default="weighted", help="how items are shared (default weighted)"
        )
        p.add_argument("--seed", type=int, default=42, help="sampling seed (default 42)")
        p.add_argument("--dataset-dir", help="directory holding <benchmark>/ folders (default $ASSAY_DATA_DIR)")
        p.add_argument("--dataset-hub", choices=["modelscope", "huggingface"], default="modelscope")
