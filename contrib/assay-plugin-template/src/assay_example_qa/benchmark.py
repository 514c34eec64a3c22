"""The example benchmark and its scorer (imported on first use)."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources

from assay.api import BenchmarkArgs, Sample, Score
from assay_datasets import locate, read_jsonl
from assay.events import Generated, SampleLoaded


class ExampleQA:
    name = "example_qa"
    default_scorers = ["example_exact"]
    # the loader-only dataset_args keys this load() applies (assay.api.BENCHMARK_HONOURED): none; add
    # "subset_list", "prompt_template", ... here once load() reads them, and the kernel accepts them
    honours = ()

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        # assay-datasets' reader: streaming; a bad line, a non-UTF-8 byte or an empty file is an error naming file:line
        if args.local_path:  # a user's own file in the same format
            rows = read_jsonl(locate(args))
        else:
            with resources.as_file(resources.files(__package__).joinpath("questions.jsonl")) as path:
                rows = list(read_jsonl(path))
        for i, (_line, row) in enumerate(rows):
            yield Sample(
                id=str(i),
                subset=row.get("subset", "default"),
                messages=[{"role": "user", "content": row["question"] + "\nAnswer with one word."}],
                target=row["answer"],
            )


class ExactWord:
    """1.0 when the output's last word (a final period dropped) equals the target, case ignored."""

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        words = generated.output.strip().rstrip(".").split()
        got = words[-1].lower() if words else ""
        return [Score("acc", float(got == str(sample.target).lower()), extracted=got)]


SCORER = ExactWord()
