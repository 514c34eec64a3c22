"""The implementation behind assay_hellaswag (see the package docstring)."""

from __future__ import annotations

import bz2
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample
from assay_datasets import locate, read_jsonl
from assay_mcq import MCQItem, OwnFilesMCQ, PromptStyle, make_sample, select_subsets, shuffle_item
from assay_mcq.templates import SINGLE_ANSWER, fill

__version__ = "0.1.0"

SUBSET = "default"
# looked for in this order inside the data folder
JSONL_NAMES = ("hellaswag_val.jsonl", "hellaswag_validation.jsonl", "hellaswag_val.jsonl.gz")
TEXT_NAMES = ("hellaswag_val_full.txt.bz2", "hellaswag_val_full.txt")
# used only for the log-likelihood continuations (" A" ... " D")
STYLE = PromptStyle(header="", answer_prefix="Answer:")
_BRACKETS = re.compile(r"\[.*?\]")


def preprocess(text: str) -> str:
    """HellaSwag's clean-up (lm-evaluation-harness, EvalScope): WikiHow's ``[title]`` /
    ``[step]`` / ``[header]`` tags go, double spaces collapse. Idempotent on the text layout,
    which llama.cpp already cleaned this way."""
    text = text.strip().replace(" [title]", ". ")
    return _BRACKETS.sub("", text).replace("  ", " ").strip()


def _item(qid: str, ctx: str, endings: list[str], label: Any, activity: str, where: str) -> MCQItem:
    if len(endings) != 4 or not all(isinstance(e, str) for e in endings):
        raise AssayError(f"{where}: expected 4 endings, found {len(endings)}")
    if str(label).strip() not in ("0", "1", "2", "3"):
        raise AssayError(f"{where}: label {label!r} is not 0-3 (the test split has no labels)")
    return MCQItem(
        id=qid,
        question=preprocess(ctx),
        choices=[preprocess(e) for e in endings],
        answer=int(str(label).strip()),
        subject=SUBSET,
        source=where,
        extra={"activity_label": activity},
    )


def read_official(path: Path) -> Iterator[MCQItem]:
    """The official JSONL; the context is ``ctx_a + " " + ctx_b.capitalize()`` as EvalScope builds it."""
    for line, obj in read_jsonl(path):
        where = f"{path}:{line}"
        try:
            ctx = obj["ctx_a"] + " " + obj["ctx_b"].capitalize()
            endings, label = obj["endings"], obj["label"]
        except (KeyError, TypeError, AttributeError) as exc:
            raise AssayError(f"{where}: missing or malformed {exc} (expected ctx_a, ctx_b, endings, label)") from None
        qid = str(obj.get("ind", line))
        yield _item(qid, ctx, list(endings), label, str(obj.get("activity_label", "")), where)


def _text_lines(path: Path) -> list[str]:
    """The whole text file (bzip2-compressed if it ends in .bz2) as lines; decompressing in one
    call is 3x faster than reading a bz2 stream line by line."""
    try:
        raw = path.read_bytes()
        if path.suffix == ".bz2":
            raw = bz2.decompress(raw)
        return raw.decode("utf-8-sig").splitlines()
    except FileNotFoundError:
        raise AssayError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise AssayError(f"{path}: not UTF-8 text (byte offset {exc.start} after decompression)") from None
    except (OSError, ValueError, EOFError) as exc:
        raise AssayError(f"{path}: cannot read ({exc})") from None


def read_text_layout(path: Path) -> Iterator[MCQItem]:
    """llama.cpp's layout: 6 lines per item, no blank lines; the id is the item's 0-based
    position (the official ``ind`` order)."""
    lines = _text_lines(path)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise AssayError(f"{path}: holds no samples (the file is empty)")
    if len(lines) % 6:
        raise AssayError(
            f"{path}: {len(lines)} lines, not a multiple of 6 (6 lines per item: context, label, 4 endings)"
        )
    for start in range(0, len(lines), 6):
        block = lines[start : start + 6]
        if not all(x.strip() for x in block):
            raise AssayError(f"{path}:{start + 1}: blank line inside an item (6 lines per item)")
        yield _parse_block(start + 1, block, path)


def _parse_block(first: int, block: list[str], path: Path) -> MCQItem:
    where = f"{path}:{first}"
    activity, sep, ctx = block[0].partition(": ")
    if not sep:
        raise AssayError(f"{where}: expected 'activity label: context', found {block[0][:60]!r}")
    return _item(str((first - 1) // 6), ctx, block[2:], block[1], activity, where)


class HellaSwag(OwnFilesMCQ):
    name = "hellaswag"
    hub_id: ClassVar[dict[str, str]] = {"modelscope": "evalscope/hellaswag", "huggingface": "Rowan/hellaswag"}
    splits = ("validation", "val")
    split_rule = "only validation has labels"
    few_shot_rule = "is 0-shot here (as in EvalScope)"

    def path(self, args: BenchmarkArgs) -> Path:
        root = locate(args, "hellaswag", "HellaSwag", hub_id=self.hub_id)
        if not root.is_dir():
            return root
        for name in (*JSONL_NAMES, *TEXT_NAMES):
            if (root / name).exists():
                return root / name
        raise AssayError(f"hellaswag: none of {', '.join(JSONL_NAMES + TEXT_NAMES)} in {root}")

    def items(self, path: Path) -> Iterator[MCQItem]:
        if ".jsonl" in path.name:
            return read_official(path)
        return read_text_layout(path)

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        path = self.path(args)
        select_subsets(args, [SUBSET], path)
        for item in self.items(path):
            item = shuffle_item(item, args)
            text = None if self.opts.mode == "loglikelihood" else fill(args.prompt_template or SINGLE_ANSWER, item)
            yield make_sample(item, [], STYLE, args, self.opts, subject_label="", category=None, prompt=text)
