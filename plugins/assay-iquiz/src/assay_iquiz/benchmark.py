"""The implementation behind assay_iquiz (see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from assay.api import AssayError, BenchmarkArgs, Sample
from assay_datasets import locate, read_jsonl
from assay_mcq import MCQItem, OwnFilesMCQ, PromptStyle, make_sample, select_subsets, shuffle_item
from assay_mcq.templates import fill

HUB_ID = "AI-ModelScope/IQuiz"  # EvalScope's dataset_id; ModelScope only
SUBSETS = ["IQ", "EQ"]
# EvalScope's MultipleChoiceTemplate.CHINESE_SINGLE_ANSWER_TEMPLATE_COT
TEMPLATE = (
    "回答下面的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式："
    '"答案：[LETTER]"（不带引号），其中 [LETTER] 是 {letters} 中的一个。请在回答前进行一步步思考。\n\n'
    "问题：{question}\n选项：\n{choices}\n"
)
STYLE = PromptStyle(header="", answer_prefix="答案：", answer_sep="")  # log-likelihood continuations only


def subset_file(root: Path, subset: str) -> Path:
    """The subset's test file: ``<subset>/test.jsonl`` (or another of the usual ModelScope spellings)."""
    for pattern in (f"{subset}/test.jsonl", f"{subset}/test*.jsonl", f"test/{subset}.jsonl", f"{subset}_test.jsonl"):
        found = sorted(root.glob(pattern))
        if found:
            return found[0]
    raise AssayError(f"iquiz: no {subset}/test.jsonl in {root} ({HUB_ID} on ModelScope: one folder per subset)")


class IQuiz(OwnFilesMCQ):
    name = "iquiz"
    hub_id = HUB_ID
    few_shot_rule = "has no few-shot split (0-shot CoT)"

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        root = locate(args, "iquiz", "IQuiz", hub_id={"modelscope": self.hub_id})  # no Hugging Face copy
        for subset in select_subsets(args, SUBSETS, root):
            path = subset_file(root, subset)
            for index, (line, row) in enumerate(read_jsonl(path)):
                where = f"{path}:{line}"
                choices, answer = row.get("choices"), str(row.get("answer", "")).strip()
                if not isinstance(row.get("question"), str) or not isinstance(choices, list):
                    raise AssayError(f"{where}: expected a question (text) and choices (a list)")
                if len(answer) != 1 or not 0 <= ord(answer) - ord("A") < len(choices):
                    raise AssayError(
                        f"{where}: answer {answer!r} is not the letter of one of the {len(choices)} choices"
                    )
                item = MCQItem(
                    id=str(index),
                    question=row["question"],
                    choices=[str(c) for c in choices],
                    answer=ord(answer) - ord("A"),
                    subject=subset,
                    source=where,
                )
                item = shuffle_item(item, args)
                text = None if self.opts.mode == "loglikelihood" else fill(args.prompt_template or TEMPLATE, item)
                yield make_sample(
                    item,
                    [],
                    STYLE,
                    args,
                    self.opts,
                    subject_label="",
                    category=None,
                    prompt=text,
                    metadata={"level": row.get("level")},
                )
