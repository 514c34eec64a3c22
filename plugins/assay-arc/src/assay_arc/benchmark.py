"""The implementation behind assay_arc (see the package docstring)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay.api import AssayError
from assay_mcq import MCQBenchmark, MCQItem, PromptStyle, read_jsonl

__version__ = "0.1.0"

SUBSETS = ("ARC-Easy", "ARC-Challenge")
SPLIT_FILE = {"test": "Test", "dev": "Dev"}

STYLE = PromptStyle(
    header="The following are multiple choice science questions (with answers).\n\n",
    question_prefix="Question: ",
    answer_prefix="Answer:",
)


def parse_row(obj: dict[str, Any], where: str, subset: str) -> MCQItem:
    """One ARC line -> MCQItem; every malformed shape is an error naming ``where``."""
    try:
        qid = str(obj["id"])
        stem = obj["question"]["stem"]
        raw = obj["question"]["choices"]
        key = str(obj["answerKey"]).strip()
    except (KeyError, TypeError) as exc:
        raise AssayError(
            f"{where}: missing key {exc} (expected id, question.stem, question.choices, answerKey)"
        ) from None
    if not isinstance(raw, list) or not all(isinstance(c, dict) and "text" in c and "label" in c for c in raw):
        raise AssayError(f"{where}: question.choices must be a list of {{text, label}} objects")
    labels = [str(c["label"]).strip() for c in raw]
    if key not in labels:
        raise AssayError(f"{where}: answerKey {key!r} is not one of the labels {labels}")
    return MCQItem(
        id=qid,
        question=stem,
        choices=[str(c["text"]) for c in raw],
        answer=labels.index(key),
        subject=subset,
        source=where,
        extra={"labels": labels, "answer_key": key},
    )


class ARC(MCQBenchmark):
    name = "arc"
    folders = ("arc", "ARC", "ai2_arc")
    hub_id = {"modelscope": "allenai/ai2_arc", "huggingface": "allenai/ai2_arc"}  # EvalScope's dataset id
    default_few_shot = 0
    splits = ("test", "dev")
    default_split = "test"
    few_shot_split = "dev"

    def subjects(self, root: Path) -> list[str]:
        found = [s for s in SUBSETS if (root / s).is_dir()]
        if not found:
            raise AssayError(f"arc: neither ARC-Easy/ nor ARC-Challenge/ in {root}")
        return found

    def read_items(self, root: Path, subject: str, split: str) -> list[MCQItem]:
        path = root / subject / f"{subject}-{SPLIT_FILE[split]}.jsonl"
        return [parse_row(obj, f"{path}:{line}", subject) for line, obj in read_jsonl(path)]

    def category(self, subject: str) -> str | None:
        return None

    def style(self, subject: str) -> PromptStyle:
        return STYLE

    def subject_label(self, subject: str) -> str:
        return subject
