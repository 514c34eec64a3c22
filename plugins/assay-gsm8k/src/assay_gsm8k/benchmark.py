"""GSM8K samples: test questions with few-shot CoT examples from train."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assay.api import AssayError, BenchmarkArgs, Sample
from assay_datasets import files, locate

from .extract import target_of

HUB_ID = {"modelscope": "AI-ModelScope/gsm8k", "huggingface": "openai/gsm8k"}  # the HF copy is parquet
_CALC = re.compile(r"<<[^>]*>>")

INSTRUCTION = (
    "Solve the math problem step by step. Finish with a line of the form '#### <number>' "
    "giving only the final numeric answer."
)
DEFAULT_TEMPLATE = "Question: {question}\nAnswer: Let's think step by step."


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """assay-datasets' reader, plus GSM8K's row shape."""
    for i, row in files.read_jsonl(path):
        if not isinstance(row.get("question"), str) or not isinstance(row.get("answer"), str):
            raise AssayError(f"{path}:{i}: expected an object with string keys 'question' and 'answer'")
        yield i, row


def _find(root: Path, split: str) -> Path:
    for cand in (root / f"{split}.jsonl", root / "main" / f"{split}.jsonl", root / "data" / f"{split}.jsonl"):
        if cand.is_file():
            return cand
    raise AssayError(f"gsm8k: no {split}.jsonl under {root}")


FEW_SHOT_TEMPLATE = "Question: {question}\nAnswer: {answer}\n\n"


class GSM8K:
    name = "gsm8k"
    default_scorers = ["gsm8k_acc"]
    # dataset_args keys its loader applies (the kernel rejects the other benchmark-specific ones)
    honours = (
        "few_shot_num",
        "few_shot_random",
        "prompt_template",
        "few_shot_prompt_template",
        "train_split",
        "eval_split",
        "system_prompt",
    )

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args

    def few_shot(self, root: Path) -> list[dict[str, Any]]:
        n = 4 if self.args.few_shot_num is None else self.args.few_shot_num
        if n <= 0:
            return []
        rows = read_jsonl(_find(root, self.args.train_split or "train"))
        if self.args.few_shot_random:
            return random.Random(self.args.seed).sample([row for _, row in rows], n)
        return [row for _, row in itertools.islice(rows, n)]  # the first n: the rest of the file is not read

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        root = locate(args, hub_id=HUB_ID)
        shots = self.few_shot(root)
        template = args.prompt_template or DEFAULT_TEMPLATE
        if "{question}" not in template:
            raise AssayError("dataset_args.gsm8k.prompt_template must contain '{question}'")
        shot_template = args.few_shot_prompt_template or FEW_SHOT_TEMPLATE
        try:
            examples = "".join(
                shot_template.format(question=s["question"], answer=_CALC.sub("", s["answer"])) for s in shots
            )
        except (KeyError, IndexError, ValueError) as exc:
            raise AssayError(
                f"dataset_args.gsm8k.few_shot_prompt_template: cannot fill it ({type(exc).__name__}: {exc}); "
                "its placeholders are {question} and {answer}"
            ) from None
        split = args.eval_split or "test"
        path = _find(root, split)
        for line, row in read_jsonl(path):
            try:
                target = target_of(row["answer"])
            except ValueError as exc:
                raise AssayError(f"{path}:{line}: {exc}") from None
            if args.prompt_template:  # the whole prompt, no header; {fewshot} places the examples (else first)
                filled = template.replace("{question}", row["question"])
                content = filled.replace("{fewshot}", examples) if "{fewshot}" in template else examples + filled
            else:
                content = f"{INSTRUCTION}\n\n{examples}{template.format(question=row['question'])}"
            messages = [{"role": "user", "content": content}]
            if args.system_prompt:
                messages.insert(0, {"role": "system", "content": args.system_prompt})
            yield Sample(
                id=str(line - 1),
                subset="main",
                messages=messages,
                target=target,
                metadata={"question": row["question"], "solution": row["answer"], "line": line},
            )
