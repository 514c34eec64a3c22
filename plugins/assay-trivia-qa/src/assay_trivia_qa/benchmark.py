"""The implementation behind assay_trivia_qa (see the package docstring)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from assay.api import (
    AssayError,
    BenchmarkArgs,
    Sample,
    Score,
    check_extra_args,
    check_prompt_template,
    select_split,
    select_subsets,
    zero_shot,
)
from assay.events import Generated, SampleLoaded
from assay.text import split_reasoning
from assay_datasets import locate, read_parquet

MS_ID = "evalscope/trivia_qa"  # EvalScope's dataset_id
HF_ID = "mandarjoshi/trivia_qa"
SUBSETS = ("rc.wikipedia",)
SPLITS = ("validation", "train", "test")
COLUMNS = ("question", "question_id", "entity_pages", "answer")

TEMPLATE = (
    "Read the content and answer the following question.\n\n"
    "Content: {content}\n\n"
    "Question: {question}\n\n"
    'The last line of your response should be of the form "ANSWER: [ANSWER]" (without quotes) where [ANSWER] '
    "is the answer to the problem.\n"
)


def split_files(root: Path, subset: str, split: str) -> list[Path]:
    """``<subset>/<split>-NNNNN-of-NNNNN.parquet`` (the hub's shards, in order)."""
    files = sorted((root / subset).glob(f"{split}-*.parquet"))
    if not files:
        raise AssayError(
            f"trivia_qa: no {subset}/{split}-*.parquet in {root} (the hub snapshot of {HF_ID} holds "
            f"{subset}/{split}-00000-of-00001.parquet)"
        )
    return files


class TriviaQA:
    name = "trivia_qa"
    hub_id = MS_ID
    hf_id = HF_ID
    default_scorers: ClassVar[list[str]] = ["trivia_qa_acc"]
    honours: ClassVar[tuple[str, ...]] = (
        "subset_list",
        "few_shot_num",
        "prompt_template",
        "eval_split",
        "system_prompt",
    )
    extra_args: ClassVar[tuple[str, ...]] = ()

    def __init__(self, args: BenchmarkArgs) -> None:
        check_extra_args(args, self.extra_args)
        self.args = args
        zero_shot(args, "no few-shot prompt")
        self.split = select_split(args, SPLITS)
        check_prompt_template(args, ("content", "question"))

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        subsets = select_subsets(args, SUBSETS)
        hubs = {"modelscope": self.hub_id, "huggingface": self.hf_id}
        # only the shards of this split: the whole hub repository (every configuration) is tens of GB
        files = [f"{s}/{self.split}-*" for s in subsets]
        root = locate(args, "trivia_qa", "TriviaQA", hub_id=hubs, hub_files=files)
        for subset in subsets:
            for path in split_files(root, subset, self.split):
                for index, (_, row) in enumerate(read_parquet(path, COLUMNS, only=True)):
                    answer = row["answer"] or {}
                    targets = list(answer.get("aliases") or []) + list(answer.get("normalized_aliases") or [])
                    if not targets:
                        raise AssayError(f"{path}:row {index}: the answer has no aliases")
                    # EvalScope formats the list of evidence texts as Python prints it
                    content = str(list((row["entity_pages"] or {}).get("wiki_context") or []))
                    text = (args.prompt_template or TEMPLATE).format(content=content, question=row["question"])
                    messages = [{"role": "system", "content": args.system_prompt}] if args.system_prompt else []
                    messages.append({"role": "user", "content": text})
                    yield Sample(
                        id=str(row["question_id"]),
                        subset=subset,
                        messages=messages,
                        target=targets,
                        metadata={"source": f"{path}:row {index}", "answer_value": answer.get("value")},
                    )


_ANSWER = re.compile(r"ANSWER:\s*(.*)")


def extract_answer(output: str) -> str:
    """The last ``ANSWER: ...`` line's text, else the whole reply, stripped (EvalScope's rule)."""
    text = split_reasoning(output)[0]
    found = _ANSWER.findall(text)
    return found[-1].strip() if found else text.strip()


class AliasScorer:
    """``acc``: the extracted answer equals one of the target aliases (EvalScope's acc with
    allow_inclusion: membership in the alias list, case and spelling as written)."""

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        pred = extract_answer(generated.output or "")
        targets = sample.target if isinstance(sample.target, list) else [sample.target]
        hit = bool(pred) and pred in targets
        why = "one of the aliases" if hit else f"not among the {len(targets)} aliases"
        return [Score("acc", float(hit), extracted=pred, explanation=why)]


ALIAS_ACC = AliasScorer()
