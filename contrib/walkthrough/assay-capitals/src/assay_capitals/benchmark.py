"""Step 2: the benchmark. The kernel calls Capitals(args), then load(args), and turns each Sample into a
SampleLoaded event with sample_id "capitals/<subset>/<id>"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources

from assay.api import BenchmarkArgs, Sample


def rows() -> list[dict[str, str]]:
    text = resources.files("assay_capitals").joinpath("capitals.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class Capitals:
    name = "capitals"
    default_scorers = ["capital"]  # a user's dataset_args.capitals.metric_list replaces these
    # the dataset_args keys only a loader can apply (subset_list, few_shot_num, prompt_template, ...) that
    # this one applies: none, so `assay eval` rejects them for capitals before the run starts
    honours = ()

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        for i, row in enumerate(rows()):
            yield Sample(
                id=str(i),  # unique within the subset; the kernel adds benchmark and subset
                messages=[{"role": "user", "content": f"What is the capital of {row['country']}?"}],
                target=row["capital"],
                metadata={"continent": row["continent"]},  # kept in the log, for the reporter
            )
