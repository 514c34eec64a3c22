"""The implementation behind assay_musr (see the package docstring)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from assay.api import AssayError, BenchmarkArgs, Sample
from assay_datasets import locate, read_csv_dicts
from assay_mcq import MCQItem, OwnFilesMCQ, PromptStyle, make_sample, select_subsets, shuffle_item
from assay_mcq.templates import SINGLE_ANSWER_COT, fill

MS_ID = "AI-ModelScope/MuSR"  # EvalScope's dataset_id
HF_ID = "TAUR-Lab/MuSR"
# subset (the hub split name) -> the file the hub repo holds it in
FILES = {
    "murder_mysteries": "murder_mystery.csv",
    "object_placements": "object_placements.csv",
    "team_allocation": "team_allocation.csv",
}
SUBSETS = list(FILES)
COLUMNS = ("narrative", "question", "choices", "answer_index")
STYLE = PromptStyle(header="", answer_prefix="Answer:")  # log-likelihood continuations only


def subset_file(root: Path, subset: str) -> Path:
    """The subset's CSV in a snapshot (``murder_mystery.csv``; ``<subset>.csv`` is accepted too)."""
    for name in (FILES[subset], f"{subset}.csv"):
        if (root / name).is_file():
            return root / name
    raise AssayError(
        f"musr: no {FILES[subset]} in {root} (the hub snapshot of {HF_ID} holds " + ", ".join(FILES.values()) + ")"
    )


def parse_choices(raw: str, where: str) -> list[str]:
    """``choices`` is a Python list literal in the hub CSV (``"['Mackenzie', 'Ana']"``)."""
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError):
        raise AssayError(f"{where}: choices is not a list literal: {raw[:80]!r}") from None
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise AssayError(f"{where}: choices must be a list of strings, found {raw[:80]!r}")
    return value


class MuSR(OwnFilesMCQ):
    name = "musr"
    hub_id = MS_ID
    hf_id = HF_ID
    splits = ("test", *SUBSETS)
    split_rule = "musr's splits are its subsets: choose them with subset_list"
    few_shot_rule = "has no few-shot split (0-shot CoT)"

    def root(self, args: BenchmarkArgs) -> Path:
        hubs = {"modelscope": self.hub_id, "huggingface": self.hf_id}
        root = locate(args, "musr", "MuSR", hub_id=hubs, hub_files=list(FILES.values()))
        return root if root.is_dir() else root.parent

    def items(self, path: Path, subset: str) -> Iterator[MCQItem]:
        rows = read_csv_dicts(path, required=COLUMNS, normalize=False, extra_ok=True)
        for index, (line, row) in enumerate(rows):
            where = f"{path}:{line}"
            choices = parse_choices(row["choices"], where)
            try:
                answer = int(row["answer_index"])
            except ValueError:
                raise AssayError(f"{where}: answer_index {row['answer_index']!r} is not a whole number") from None
            yield MCQItem(
                id=str(index),
                question=f"{row['narrative']}\n\n{row['question']}",
                choices=choices,
                answer=answer,
                subject=subset,
                source=where,
            )

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        root = self.root(args)
        for subset in select_subsets(args, SUBSETS, root):
            for item in self.items(subset_file(root, subset), subset):
                item = shuffle_item(item, args)
                text = (
                    None if self.opts.mode == "loglikelihood" else fill(args.prompt_template or SINGLE_ANSWER_COT, item)
                )
                yield make_sample(item, [], STYLE, args, self.opts, subject_label="", category=None, prompt=text)
