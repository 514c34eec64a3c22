"""The implementation behind assay_gpqa (see the package docstring)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample
from assay_datasets import locate, read_csv_dicts, read_jsonl
from assay_mcq import COMMON_EXTRA, MCQItem, OwnFilesMCQ, PromptStyle, make_sample, select_subsets
from assay_mcq.templates import SINGLE_ANSWER_COT, fill

__version__ = "0.1.0"

SUBSET = "default"
FILE = "gpqa_diamond.csv"
COLUMNS = ("Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3", "Record ID")

# used only for the log-likelihood continuations (" A", " B", ...)
STYLE = PromptStyle(header="", answer_prefix="Answer:")


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """The official CSV, or the hub's ``train.jsonl`` (same columns, one object a line)."""
    if ".jsonl" not in path.name:
        yield from read_csv_dicts(path, required=COLUMNS, normalize=False, extra_ok=True)
        return
    for line, obj in read_jsonl(path):
        missing = [c for c in COLUMNS if not isinstance(obj.get(c), str)]
        if missing:
            raise AssayError(f"{path}:{line}: missing or non-text column(s) {', '.join(missing)}")
        yield line, obj


class GPQADiamond(OwnFilesMCQ):
    name = "gpqa_diamond"
    # ModelScope: train.jsonl (same columns); Hugging Face: the authors' gated repo holding gpqa_diamond.csv
    hub_id: ClassVar[dict[str, str]] = {"modelscope": "AI-ModelScope/gpqa_diamond", "huggingface": "Idavidrein/gpqa"}
    extra_args: ClassVar[tuple[str, ...]] = (*COMMON_EXTRA, "shuffle_choices")
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "prompt_template", "eval_split", "shuffle_choices")
    splits = ("train", "test")
    split_rule = "gpqa_diamond has one split, by either name"
    few_shot_rule = "has no few-shot split (0-shot CoT)"

    def __init__(self, args: BenchmarkArgs) -> None:
        super().__init__(args)
        shuffle = args.shuffle_choices  # EvalScope shuffles by default
        if shuffle is None:
            shuffle = self.opts.extra.get("shuffle_choices", True)
        if not isinstance(shuffle, bool):
            raise AssayError(f"dataset_args.{args.name}.shuffle_choices = {shuffle!r}: expected true or false")
        self.shuffle = shuffle

    def items(self, path: Path, seed: int) -> Iterator[tuple[MCQItem, list[int], dict[str, str]]]:
        for line, row in read_rows(path):
            where = f"{path}:{line}"
            options = [row["Correct Answer"], *(row[f"Incorrect Answer {i}"] for i in (1, 2, 3))]
            options = [str(o).strip() for o in options]
            if not row["Record ID"].strip() or not row["Question"].strip() or not all(options):
                raise AssayError(f"{where}: empty Record ID, Question or answer")
            order = [0, 1, 2, 3]
            if self.shuffle:
                random.Random(f"{seed}:{row['Record ID']}").shuffle(order)
            item = MCQItem(
                id=row["Record ID"].strip(),
                question=row["Question"],
                choices=[options[i] for i in order],
                answer=order.index(0),
                subject=SUBSET,
                source=where,
            )
            yield item, order, row

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        root = locate(args, "gpqa_diamond", "gpqa", hub_id=self.hub_id, hub_files=[FILE, "*.jsonl"])
        path = root / FILE if root.is_dir() else root
        if root.is_dir() and not path.exists():
            found = sorted(root.glob("*.csv")) or sorted(root.glob("train.jsonl"))
            if len(found) != 1:
                raise AssayError(f"gpqa_diamond: no {FILE} (or the hub's train.jsonl) in {root}")
            path = found[0]
        select_subsets(args, [SUBSET], path)
        for item, order, row in self.items(path, args.seed):
            meta: dict[str, Any] = {
                "permutation": order,
                "shuffle_seed": args.seed if self.shuffle else None,
                "domain": row.get("High-level domain", ""),
                "subdomain": row.get("Subdomain", ""),
            }
            text = None if self.opts.mode == "loglikelihood" else fill(args.prompt_template or SINGLE_ANSWER_COT, item)
            yield make_sample(
                item, [], STYLE, args, self.opts, subject_label="", category=None, prompt=text, metadata=meta
            )
