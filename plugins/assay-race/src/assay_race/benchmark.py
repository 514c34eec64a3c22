"""The implementation behind assay_race (see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample
from assay_datasets import locate, read_jsonl
from assay_mcq import (
    MCQ_HONOURS,
    MCQItem,
    OwnFilesMCQ,
    PromptStyle,
    make_sample,
    pick_shots,
    select_subsets,
    shuffle_item,
)
from assay_mcq.templates import SINGLE_ANSWER_COT, choice_lines, fill

__version__ = "0.1.0"

SUBSETS = ("high", "middle")  # EvalScope's order
MAX_SHOTS = 3
# EvalScope's FEW_SHOT_TEMPLATE, put before the question's own prompt
FEW_SHOT_HEADER = "Here are some examples of how to answer similar questions:\n\n"
# used only for the log-likelihood continuations (" A" ... " D")
STYLE = PromptStyle(header="", answer_prefix="Answer:")


def read_items(path: Path, subset: str) -> list[MCQItem]:
    """One subset's split; ids are ``example_id#k``, k counting an article's questions from 0."""
    out = []
    seen: dict[str, int] = {}
    for line, obj in read_jsonl(path):
        where = f"{path}:{line}"
        try:
            eid, article, question, options, answer = (
                obj["example_id"],
                obj["article"],
                obj["question"],
                obj["options"],
                obj["answer"],
            )
        except (KeyError, TypeError) as exc:
            raise AssayError(
                f"{where}: missing key {exc} (expected example_id, article, question, options, answer)"
            ) from None
        if not isinstance(options, list) or len(options) != 4 or not all(isinstance(o, str) for o in options):
            raise AssayError(f"{where}: options must be a list of 4 strings")
        if answer not in ("A", "B", "C", "D"):
            raise AssayError(f"{where}: answer {answer!r} is not one of A, B, C, D")
        k = seen.get(str(eid), 0)
        seen[str(eid)] = k + 1
        out.append(
            MCQItem(
                id=f"{eid}#{k}",
                question=f"Article:\n{article}\nQuestion:\n{question}",
                choices=options,
                answer="ABCD".index(answer),
                subject=subset,
                source=where,
                extra={"example_id": str(eid)},
            )
        )
    return out


def example(item: MCQItem) -> str:
    """A few-shot example as EvalScope formats one: question, options, ``ANSWER: X``."""
    return f"{item.question.strip()}\n{choice_lines(item)}\nANSWER: {item.target}"


class RACE(OwnFilesMCQ):
    name = "race"
    hub_id: ClassVar[dict[str, str]] = {"modelscope": "evalscope/race", "huggingface": "ehovy/race"}
    honours = (*MCQ_HONOURS, "few_shot_random")
    splits = ("test", "validation", "dev")
    few_shots = range(MAX_SHOTS + 1)
    few_shot_rule = f"takes at most {MAX_SHOTS} examples (as in EvalScope: the articles are long)"

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        root = locate(args, "race", "RACE", hub_id=self.hub_id)
        if not root.is_dir():
            raise AssayError(f"race: {root} must be a folder holding {self.split}/<subset>.jsonl")
        split_dir = root / ("validation" if self.split == "dev" and (root / "validation").is_dir() else self.split)
        available = [s for s in SUBSETS if (split_dir / f"{s}.jsonl").exists()]
        if not available:
            raise AssayError(f"race: neither high.jsonl nor middle.jsonl in {split_dir}")
        for subset in select_subsets(args, available, split_dir):
            pool: list[MCQItem] = []
            if self.opts.few_shot:
                train = root / "train" / f"{subset}.jsonl"
                if not train.exists():
                    raise AssayError(
                        f"dataset_args.{args.name}.few_shot_num = {self.opts.few_shot}: the examples come from "
                        f"{train}, which does not exist (set few_shot_num to 0)"
                    )
                pool = read_items(train, subset)
            for item in read_items(split_dir / f"{subset}.jsonl", subset):
                item = shuffle_item(item, args)
                shots = pick_shots(pool, self.opts.few_shot, rand=args.few_shot_random, seed=args.seed, item=item)
                text = None
                if self.opts.mode != "loglikelihood":
                    text = fill(args.prompt_template or SINGLE_ANSWER_COT, item)
                    if shots:
                        text = FEW_SHOT_HEADER + "\n\n".join(example(s) for s in shots) + "\n\n" + text
                meta: dict[str, Any] = {}
                yield make_sample(
                    item, shots, STYLE, args, self.opts, subject_label="", category=None, prompt=text, metadata=meta
                )
