"""An example benchmark plugin: copy me."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

from assay import hookimpl
from assay.api import BenchmarkArgs, Sample, Score
from assay.events import Generated, SampleLoaded


class ExampleQA:
    name = "example_qa"
    default_scorers = ["example_exact"]

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        if args.local_path:  # a user's own file in the same format
            text = open(args.data_path(), encoding="utf-8").read()
        else:
            text = resources.files(__package__).joinpath("questions.jsonl").read_text(encoding="utf-8")
        for i, line in enumerate(text.splitlines()):
            row = json.loads(line)
            yield Sample(
                id=str(i),
                subset=row.get("subset", "default"),
                messages=[{"role": "user", "content": row["question"] + "\nAnswer with one word."}],
                target=row["answer"],
            )


class ExactWord:
    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        words = generated.output.strip().rstrip(".").split()
        got = words[-1].lower() if words else ""
        return [Score("acc", float(got == str(sample.target).lower()), extracted=got)]


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register("example_qa", ExampleQA, description="tiny example QA set (template)")


@hookimpl
def assay_scorers(register: Any) -> None:
    register("example_exact", ExactWord(), description="last word equals the answer")
