"""MATH-500: the 500-problem test subset of MATH used by PRM800K ("Let's Verify Step by Step").

Rows: ``problem``, ``solution``, ``answer``, ``subject``, ``level`` (1-5), ``unique_id``.
Subsets are the levels ("Level 1".."Level 5", EvalScope's names) by default;
``dataset_args.math_500.group_by: subject`` makes the seven subjects the subsets instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from assay_datasets import locate, read_jsonl
from assay.api import AssayError, BenchmarkArgs, Sample, Score, select_subsets, zero_shot
from assay.events import Generated, SampleLoaded
from assay.text import split_reasoning
from assay_mathkit import (
    MATH_LEVELS,
    MATH_SUBJECTS,
    chat_messages,
    format_prompt,
    last_boxed,
    math_equal,
    require,
)

HUB_ID = {"modelscope": "AI-ModelScope/MATH-500", "huggingface": "HuggingFaceH4/MATH-500"}  # test.jsonl on both
PROMPT = "{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}."
LEVELS = MATH_LEVELS
SUBJECTS = MATH_SUBJECTS  # MATH's seven subjects
GROUP_BY = ("level", "subject")


class Math500:
    name = "math_500"
    default_scorers: ClassVar[list[str]] = ["math_acc"]
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "few_shot_num", "prompt_template", "system_prompt")
    extra_args: ClassVar[tuple[str, ...]] = ("group_by",)

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        self.group_by = str(args.extra.get("group_by", "level"))
        if self.group_by not in GROUP_BY:
            raise AssayError(
                f"dataset_args.math_500.group_by must be one of {', '.join(GROUP_BY)}, got {self.group_by!r}"
            )
        zero_shot(args)
        select_subsets(args, LEVELS if self.group_by == "level" else SUBJECTS, where=f"group_by={self.group_by}")

    def _file(self):
        base = locate(self.args, "math500", "MATH-500", hub_id=HUB_ID)
        path = base / "test.jsonl" if base.is_dir() else base
        if not path.exists():
            raise AssayError(f"math_500: {path} not found (expected test.jsonl in {base})")
        return path

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        path = self._file()
        wanted = set(args.subset_list or [])
        rows = []
        for no, row in read_jsonl(path):
            where = f"{path}:{no}"
            problem = str(require(row, "problem", where))
            answer = str(require(row, "answer", where))
            subject = str(require(row, "subject", where))
            level = require(row, "level", where)
            try:
                level = int(level)
            except (TypeError, ValueError):
                raise AssayError(f"{where}: key 'level' must be an integer 1-5, got {level!r}") from None
            uid = str(row.get("unique_id") or f"line{no}")
            subset = f"Level {level}" if self.group_by == "level" else subject
            if wanted and subset not in wanted:
                continue
            text = format_prompt(args.prompt_template, PROMPT, question=problem)
            rows.append(
                Sample(
                    id=uid,
                    subset=subset,
                    messages=chat_messages(text, args.system_prompt),
                    target=answer,
                    metadata={"level": level, "subject": subject, "unique_id": uid},
                )
            )
        # group by subset so --limit N takes the first N of each, in file order within a subset
        order = LEVELS if self.group_by == "level" else SUBJECTS
        rows.sort(key=lambda s: order.index(s.subset) if s.subset in order else len(order))
        return iter(rows)


def extract_answer(output: str) -> str | None:
    """The final answer: last \\boxed{}; else what follows the last "final answer is"."""
    boxed = last_boxed(output)
    if boxed is not None:
        return boxed
    import re

    hits = re.findall(r"final answer is[:\s]*\$?(.+?)\$?(?:\.\s*I hope|\.?\s*$)", output, re.IGNORECASE | re.MULTILINE)
    return hits[-1].strip() if hits else None


class MathAccuracy:
    """1 when the extracted answer is mathematically equal to the target (math-verify), else 0."""

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        answer, reasoning = split_reasoning(generated.output)
        pred = extract_answer(answer)
        ok = math_equal(pred, str(sample.target)) if pred is not None else False
        why = "no \\boxed{} answer found" if pred is None else ("equivalent" if ok else "not equivalent")
        if reasoning is not None:
            why += f" (ignored {len(reasoning)} chars of <think> reasoning)"
        return [Score("acc", float(ok), extracted=pred, explanation=why)]


SCORER = MathAccuracy()  # the instance registered by name
