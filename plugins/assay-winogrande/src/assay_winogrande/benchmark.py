"""The implementation behind assay_winogrande (see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample
from assay_datasets import locate, read_jsonl
from assay_mcq import MCQItem, OwnFilesMCQ, PromptStyle, make_sample, select_subsets, shuffle_item
from assay_mcq.templates import SINGLE_ANSWER, fill

__version__ = "0.1.0"

SUBSET = "default"
# file name per split; "validation" is the hub's name for dev
SPLITS = {"dev": "dev.jsonl", "validation": "dev.jsonl"}
# used only for the log-likelihood continuations (" A", " B")
STYLE = PromptStyle(header="", answer_prefix="Answer:")


def parse_row(obj: dict[str, Any], where: str) -> MCQItem:
    """One WinoGrande line -> MCQItem; every malformed shape is an error naming ``where``."""
    try:
        qid, sentence, opts, answer = obj["qID"], obj["sentence"], [obj["option1"], obj["option2"]], obj["answer"]
    except (KeyError, TypeError) as exc:
        raise AssayError(f"{where}: missing key {exc} (expected qID, sentence, option1, option2, answer)") from None
    if not all(isinstance(x, str) and x.strip() for x in (qid, sentence, *opts)):
        raise AssayError(f"{where}: qID, sentence, option1 and option2 must be non-empty strings")
    if str(answer).strip() not in ("1", "2"):
        raise AssayError(f"{where}: answer {answer!r} is not '1' or '2' (the test split has no answers)")
    return MCQItem(
        id=qid,
        question=sentence,
        choices=opts,
        answer=int(str(answer).strip()) - 1,
        subject=SUBSET,
        source=where,
    )


class Winogrande(OwnFilesMCQ):
    name = "winogrande"
    hub_id: ClassVar[dict[str, str]] = {
        "modelscope": "AI-ModelScope/winogrande_val",
        "huggingface": "allenai/winogrande",
    }
    splits = tuple(SPLITS)

    def path(self, args: BenchmarkArgs) -> Path:
        root = locate(args, "winogrande", "WinoGrande", hub_id=self.hub_id)
        if not root.is_dir():
            return root
        path = root / SPLITS[self.split]
        if not path.exists():
            raise AssayError(f"winogrande: no {SPLITS[self.split]} in {root}")
        return path

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        path = self.path(args)
        select_subsets(args, [SUBSET], path)
        for line, obj in read_jsonl(path):
            item = shuffle_item(parse_row(obj, f"{path}:{line}"), args)
            text = None if self.opts.mode == "loglikelihood" else fill(args.prompt_template or SINGLE_ANSWER, item)
            yield make_sample(item, [], STYLE, args, self.opts, subject_label="", category=None, prompt=text)
