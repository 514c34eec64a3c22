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
S_l is the mean x 100.

The quality score (``eval_quality.py``, scorer ``longbench_write_quality``, asked for with
``metric_list``): a judge (``--judge-model-args``) rates the reply with ``judge.txt`` on six
dimensions 1-5; per sample ``score_q`` = mean over the dimensions of (score - 1) / 4, so the mean
over samples x 100 is the paper's S_q (``((mean - 1) * 25)`` per dimension, averaged). A verdict
that is not the JSON object with the six integers is a judge failure, never a score.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from assay.api import (
    AssayError,
    BenchmarkArgs,
    Sample,
    Score,
    check_extra_args,
    check_prompt_template,
    select_subsets,
    zero_shot,
)
from assay_datasets import locate, read_jsonl
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
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "few_shot_num", "prompt_template", "system_prompt")
    extra_args: ClassVar[tuple[str, ...]] = ("file", "group_by")

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
        zero_shot(args)
        check_prompt_template(args, ("prompt",))

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        root = locate(args, "longbench_write", "LongWriter", hub_id=self.hub_id)
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
                    metadata={"length": length, "type": typ, "file": self.file, "source": where, "prompt": prompt},
                )
            )
        if args.subset_list:
            select_subsets(args, sorted({s.subset for s in out}), where=f"group_by={self.group_by}")
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


# ---- quality: an LLM judge (evaluation/judge.txt and eval_quality.py) ---------------------

DIMS = ["Relevance", "Accuracy", "Coherence", "Clarity", "Breadth and Depth", "Reading Experience"]
JUDGE_TEMPLATE = """You are an expert in evaluating text quality. Please evaluate the quality of an AI assistant's response to a user's writing request. Be as strict as possible.

You need to evaluate across the following six dimensions, with scores ranging from 1 to 5. The scoring criteria from 5 to 1 for each dimension are as follows:

1. Relevance: From content highly relevant and fully applicable to the user's request to completely irrelevant or inapplicable.

2. Accuracy: From content completely accurate with no factual errors or misleading information to content with numerous errors and highly misleading.

3. Coherence: From clear structure with smooth logical connections to disorganized structure with no coherence.

4. Clarity: From clear language, rich in detail, and easy to understand to confusing expression with minimal details.

5. Breadth and Depth: From both broad and deep content with a lot of information to seriously lacking breadth and depth with minimal information.

6. Reading Experience: From excellent reading experience, engaging and easy to understand content to very poor reading experience, boring and hard to understand content.

Please evaluate the quality of the following response to a user's request according to the above requirements.

<User Request>

$INST$

</User Request>

<Response>

$RESPONSE$

</Response>

Please evaluate the quality of the response. You must first provide a brief analysis of its quality, then give a comprehensive analysis with scores for each dimension. The output must strictly follow the JSON format: {"Analysis": ..., "Relevance": ..., "Accuracy": ..., "Coherence": ..., "Clarity": ..., "Breadth and Depth": ..., "Reading Experience": ...}. You do not need to consider whether the response meets the user's length requirements in your evaluation. Ensure that only one integer between 1 and 5 is output for each dimension score."""


def parse_dimensions(output: str) -> dict[str, float] | None:
    """eval_quality.py's reading of a verdict: the ```json block if there is one, newlines removed,
    a JSON object holding all six dimensions; here each must also be a number from 1 to 5."""
    if "```json" in output:
        m = re.search(r"```json\n(.*?)\n```", output, re.DOTALL)
        if not m:
            return None
        output = m.group(1)
    try:
        scores = json.loads(output.replace("\n", ""))
    except json.JSONDecodeError:
        return None
    if not isinstance(scores, dict) or any(d not in scores for d in DIMS):
        return None
    out = {}
    for d in DIMS:
        v = scores[d]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 1 <= v <= 5:
            return None
        out[d] = float(v)
    return out


def _parse(output: str, logprobs: Any = None) -> Any:
    from assay_judge import Parsed

    dims = parse_dimensions(output)
    return None if dims is None else Parsed(value=sum((v - 1) / 4 for v in dims.values()) / len(dims))


class QualityScorer:
    """``score_q`` and one metric per dimension, each (score - 1) / 4, from the judge's verdict(s)."""

    async def score(self, sample: SampleLoaded, generated: Generated, judge: Any) -> list[Score]:
        answer, _ = split_reasoning(generated.output)
        inst = str((sample.metadata or {}).get("prompt") or (sample.messages or [{}])[-1].get("content", ""))
        template = judge.prompt_template(JUDGE_TEMPLATE)
        prompt = template.replace("$INST$", inst).replace("$RESPONSE$", answer)
        result = (await judge.ask(sample, prompt, parse=_parse, key="quality")).require()
        per_dim: dict[str, list[float]] = {d: [] for d in DIMS}
        for v in result.verdicts:
            dims = parse_dimensions(v.output) if v.ok else None
            for d, x in (dims or {}).items():
                per_dim[d].append((x - 1) / 4)
        out = [Score("score_q", float(result.value), explanation=f"S_q {100 * float(result.value):.2f}")]
        out += [Score(d, sum(xs) / len(xs)) for d, xs in per_dim.items() if xs]
        return out


QUALITY = QualityScorer()  # the instance registered by name
