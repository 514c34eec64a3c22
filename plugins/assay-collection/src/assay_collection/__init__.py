"""Collections for assay: a benchmark whose samples come from other benchmarks.

``assay collection create SCHEMA -o coll.jsonl`` samples items from the benchmarks of a weighted,
nested schema (EvalScope's ``CollectionSchema``) with a seeded sampler; ``assay eval --datasets
data_collection --dataset-args '{"data_collection": {"local_path": "coll.jsonl"}}'`` evaluates it
in one run, and the ``collection`` reporter folds the scores per level (subset, dataset, schema
node, tag, task type, overall) with micro, macro and weighted averages.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

BENCHMARKS = {"data_collection", "collection"}


@hookimpl
def assay_benchmarks(register: Any) -> None:
    for name in sorted(BENCHMARKS):
        register(
            name,
            "assay_collection.benchmark:DataCollection",
            description="a collection file made by `assay collection create` (items of other benchmarks, one run)",
        )


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "collection",
        "assay_collection.report:REPORTER",
        kinds={"eval"},
        benchmarks=BENCHMARKS,
        description="a collection's scores per subset, dataset, schema node, tag and overall (micro, macro, weighted)",
    )


@hookimpl
def assay_commands(cli: Any) -> None:
    from .cli import add_commands

    add_commands(cli)
