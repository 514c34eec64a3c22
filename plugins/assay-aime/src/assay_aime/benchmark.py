"""AIME 2024 and 2025: 30 problems each, answers are integers 0-999.

aime24/test.jsonl: ``id``, ``problem``, ``solution``, ``answer``, ``url``; aime25/test.jsonl:
``problem``, ``answer`` only (ids are then the 1-based row numbers; rows 1-15 are AIME I,
16-30 AIME II). ``repeats`` (``--repeats`` or ``dataset_args.<name>.repeats``) samples each
problem k times: the report's mean of ``acc`` is mean@k; the ``aime_pass_at_k`` reporter
adds pass@k.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from assay_datasets import locate, read_jsonl
from assay.api import AssayError, BenchmarkArgs, Sample, Score, select_subsets, zero_shot
from assay.events import Generated, SampleLoaded
from assay.text import split_reasoning
from assay_mathkit import (
    chat_messages,
    extract_aime_integer,
    format_prompt,
    require,
)

PROMPT = "{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}."


class _AIME:
    name = "aime"
    folder = "aime"
    hub_id: dict[str, str] | None = None  # EvalScope's id per hub (their layouts differ: the loader says what it needs)
    default_scorers: ClassVar[list[str]] = ["aime_acc"]
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "few_shot_num", "prompt_template", "system_prompt")

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        zero_shot(args)
        select_subsets(args, ["default"])

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        base = locate(args, self.folder, hub_id=self.hub_id)
        path = base / "test.jsonl" if base.is_dir() else base
        if not path.exists():
            raise AssayError(f"{self.name}: {path} not found (expected test.jsonl in {base})")
        for i, (no, row) in enumerate(read_jsonl(path), 1):
            where = f"{path}:{no}"
            problem = str(row.get("problem") or require(row, "question", where))
            raw = require(row, "answer", where)
            try:
                target = int(str(raw).strip())
            except ValueError:
                raise AssayError(f"{where}: key 'answer' must be an integer 0-999, got {raw!r}") from None
            if not 0 <= target <= 999:
                raise AssayError(f"{where}: key 'answer' must be an integer 0-999, got {target}")
            text = format_prompt(args.prompt_template, PROMPT, question=problem)
            yield Sample(
                id=str(row.get("id", i)),
                messages=chat_messages(text, args.system_prompt),
                target=target,
                metadata={k: row[k] for k in ("url",) if k in row},
            )


class AIME24(_AIME):
    name = "aime24"
    hub_id = {"modelscope": "evalscope/aime24", "huggingface": "HuggingFaceH4/aime_2024"}
    folder = "aime24"


class AIME25(_AIME):
    name = "aime25"
    hub_id = {"modelscope": "evalscope/aime25", "huggingface": "math-ai/aime25"}
    folder = "aime25"


class AIMEAccuracy:
    """1 when the response's integer answer equals the target. One value per sample (= per repeat)."""

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        answer, reasoning = split_reasoning(generated.output)
        got = extract_aime_integer(answer)
        try:
            target = int(sample.target)
        except (TypeError, ValueError):
            raise ValueError(f"{sample.sample_id}: target {sample.target!r} is not an integer") from None
        ok = got is not None and got == target
        why = "no integer answer found" if got is None else ("correct" if ok else f"{got} != {target}")
        if reasoning is not None:
            why += f" (ignored {len(reasoning)} chars of <think> reasoning)"
        return [Score("acc", float(ok), extracted=got, explanation=why)]


SCORER = AIMEAccuracy()  # the instance registered by name
