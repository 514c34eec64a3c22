"""LongBench-Write: the benchmark and its length scorer (THUDM/LongWriter ``evaluation/``).

Files: ``longbench_write.jsonl`` (120 prompts, zh and en; the benchmark), and the official
variants ``longbench_write_en.jsonl`` (60, English only) and ``longwrite_ruler.jsonl`` (48,
1,000 to 30,000 words), picked with ``dataset_args.longbench_write.file``. Each row:
``prompt``, ``type`` (category), ``length`` (required words; Chinese characters for Chinese).

The prompt is the row's ``prompt`` as the one user message (``pred.py``). The length score
(``eval_length.py``), with x the required length and y the reply's ``count_words``
(Chinese characters ``[\\u4e00-\\u9fff]`` plus English words ``\\b[a-zA-Z]+\\b``)::

    y > x:  100 * max(0, 1 - (y / x - 1) / 3)
    else:   100 * max(0, 1 - (x / y - 1) / 2)

stored divided by 100 (so the kernel's mean and interval apply to a 0-1 value); the paper's
S_l is the mean x 100. The quality score S_q needs an LLM judge: not implemented here yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample, Score, check_extra_args
from assay.data import read_jsonl
from assay.events import Generated, SampleLoaded
from assay.text import split_reasoning

FILES = ("longbench_write", "longbench_write_en", "longwrite_ruler")
# the LongWriter paper's length ranges ([0, 500), [500, 2k), [2k, 4k), [4k, 20k]; one prompt asks for
# exactly 20,000); the ruler asks for up to 30,000, hence the last range
BUCKETS = [(0, 500, "[0, 500)"), (500, 2000, "[500, 2k)"), (2000, 4000, "[2k, 4k)"), (4000, 20001, "[4k, 20k]")]
OVER = "(20k, inf)"
GROUP_BY = ("length", "type")

_ZH = re.compile(r"[\u4e00-\u9fff]")
_EN = re.compile(r"\b[a-zA-Z]+\b")


def count_words(text: str) -> int:
    """``count_words`` of LongWriter's pred.py: Chinese characters plus English words."""
    return len(_ZH.findall(text)) + len(_EN.findall(text))


def length_score(x: int, y: int) -> float:
    """``score(x, y)`` of eval_length.py, 0-100; an empty reply (y = 0, where the official
    script divides by zero) scores 0."""
    if y > x:
        return 100 * max(0.0, 1.0 - (y / x - 1) / 3)
    if y == 0:
        return 0.0
    return 100 * max(0.0, 1.0 - (x / y - 1) / 2)


def bucket(length: int) -> str:
    for lo, hi, name in BUCKETS:
        if lo <= length < hi:
            return name
    return OVER


class LongBenchWrite:
    name = "longbench_write"
    hub_id = None  # EvalScope reads THUDM/LongWriter's file from its repo; no hub dataset is named
    default_scorers: ClassVar[list[str]] = ["longbench_write_length"]
    extra_args: ClassVar[tuple[str, ...]] = ("file", "group_by", "quality")

    def __init__(self, args: BenchmarkArgs) -> None:
        check_extra_args(args, self.extra_args)
        self.args = args
        self.file = str(args.extra.get("file", FILES[0]))
        if self.file not in FILES:
            raise AssayError(f"dataset_args.{args.name}.file = {self.file!r}: expected one of {', '.join(FILES)}")
        self.group_by = str(args.extra.get("group_by", "length"))
        if self.group_by not in GROUP_BY:
            raise AssayError(
                f"dataset_args.{args.name}.group_by = {self.group_by!r}: expected one of {', '.join(GROUP_BY)}"
            )
        if args.extra.get("quality"):
            raise AssayError(
                f"dataset_args.{args.name}.quality: the quality score S_q (an LLM judge over six dimensions) "
                "is not implemented yet; only the length score S_l is"
            )
        if args.few_shot_num:
            raise AssayError(f"dataset_args.{args.name}.few_shot_num: {args.name} is 0-shot")

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        root = args.data_path("longbench_write", "LongWriter", hub_id=self.hub_id)
        path = root if root.is_file() else root / f"{self.file}.jsonl"
        if not path.exists():
            found = sorted(root.rglob(f"{self.file}.jsonl"))
            if len(found) != 1:
                raise AssayError(f"{args.name}: no {self.file}.jsonl in {root}")
            path = found[0]
        out = []
        for line, row in read_jsonl(path):
            where = f"{path}:{line}"
            prompt, length, typ = row.get("prompt"), row.get("length"), row.get("type")
            if not isinstance(prompt, str) or not prompt.strip():
                raise AssayError(f"{where}: missing or empty 'prompt'")
            if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
                raise AssayError(f"{where}: 'length' must be a positive whole number, got {length!r}")
            if not isinstance(typ, str) or not typ.strip():
                raise AssayError(f"{where}: missing or empty 'type'")
            subset = bucket(length) if self.group_by == "length" else typ
            text = args.prompt_template.format(prompt=prompt) if args.prompt_template else prompt
            messages = [{"role": "system", "content": args.system_prompt}] if args.system_prompt else []
            messages.append({"role": "user", "content": text})
            out.append(
                Sample(
                    id=f"{self.file}-{line}",
                    subset=subset,
                    messages=messages,
                    target=length,
                    metadata={"length": length, "type": typ, "file": self.file, "source": where},
                )
            )
        if args.subset_list:
            have = {s.subset for s in out}
            for s in args.subset_list:
                if s not in have:
                    raise AssayError(
                        f"dataset_args.{args.name}.subset_list: no subset {s!r} (group_by={self.group_by}); "
                        f"available: {', '.join(sorted(have))}"
                    )
            out = [s for s in out if s.subset in args.subset_list]
        order = [b[2] for b in BUCKETS] + [OVER]
        out.sort(key=lambda s: (order.index(s.subset) if s.subset in order else 0, s.subset))
        return iter(out)


class LengthScorer:
    """``score_l``: ``length_score(required, count_words(reply after </think>)) / 100``."""

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        answer, _ = split_reasoning(generated.output)
        x, y = int(sample.target), count_words(answer.strip())
        s = length_score(x, y)
        return [Score("score_l", s / 100, extracted=y, explanation=f"required {x}, wrote {y}: S_l {s:.2f}")]


SCORER = LengthScorer()  # the instance registered by name
