"""``data_collection``: the items of a collection file as samples of one run.

Each item becomes a sample of subset ``<schema path>/<benchmark>/<subset>`` (so the kernel's table
has a row per leaf subset, and a row per schema node through ``category`` = the schema path), with
the source's prompt, choices, target, scorers, mode and filters, and ``metadata["collection"]``
holding where it came from: benchmark, subset, its sample id there, schema path, tags, task type,
weight and index. The file is read as the run goes (constant memory).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample
from assay_datasets import locate, read_jsonl

REQUIRED = ("index", "benchmark", "subset", "schema_path", "sample")


class DataCollection:
    name = "data_collection"
    default_scorers: ClassVar[list[str]] = []
    honours: ClassVar[tuple[str, ...]] = ()  # the items' prompts were made when the collection was sampled

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        if not args.local_path:
            raise AssayError(
                f"dataset_args.{args.name}.local_path: give the collection file made by `assay collection create` "
                f'(--dataset-args \'{{"{args.name}": {{"local_path": "coll.jsonl"}}}}\')'
            )

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        path = locate(args)
        from assay.plugins import host

        scorers = host().scorers()
        checked: set[str] = set()
        for line, rec in read_jsonl(path):
            missing = [k for k in REQUIRED if k not in rec]
            if missing:
                raise AssayError(
                    f"{path}:{line}: not a collection item (missing {', '.join(missing)}); "
                    "make the file with `assay collection create`"
                )
            s: dict[str, Any] = rec["sample"]
            if not isinstance(s, dict) or not isinstance(rec["schema_path"], list):
                raise AssayError(f"{path}:{line}: 'sample' must be a mapping and 'schema_path' a list")
            for name in s.get("scorers") or []:
                if name not in checked:
                    if name not in scorers:
                        raise AssayError(
                            f"{path}:{line}: scorer {name!r} of {rec['benchmark']} is not installed "
                            "(install the benchmark's plugin)"
                        )
                    checked.add(name)
            node = "/".join(map(str, rec["schema_path"]))
            meta = dict(s.get("metadata") or {})
            meta["collection"] = {
                "benchmark": rec["benchmark"],
                "subset": rec["subset"],
                "sample_id": s.get("sample_id"),
                "schema_path": rec["schema_path"],
                "tags": rec.get("tags", []),
                "task_type": rec.get("task_type", ""),
                "weight": rec.get("weight", 1.0),
                "index": rec["index"],
            }
            yield Sample(
                id=str(rec["index"]),
                subset=f"{node}/{rec['benchmark']}/{rec['subset']}",
                prompt=s.get("prompt"),
                messages=s.get("messages"),
                choices=s.get("choices"),
                target=s.get("target"),
                category=node,
                metadata=meta,
                scorers=list(s.get("scorers") or []),
                mode=s.get("mode", "generate"),
                filters=dict(s.get("filters") or {}),
            )
