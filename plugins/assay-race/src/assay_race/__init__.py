"""assay-race: RACE (Lai et al., 2017), reading comprehension from Chinese middle and high
school English exams; subsets ``middle`` and ``high``.

Files: ``<root>/test/{middle,high}.jsonl`` (and ``train/`` for few-shot examples), one
question a line: ``example_id`` (the article's file, shared by its questions), ``article``,
``question``, ``options`` (4), ``answer`` (A-D). As EvalScope's adapter: the question is
"Article:\\n{article}\\nQuestion:\\n{question}", EvalScope's chain-of-thought single-answer
template, scored by ``mcq_letter``.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl
from assay.plugins import lazy_attributes

__version__ = "0.1.0"


# the implementation lives in .benchmark, imported on first use so `assay plugins` stays fast
__getattr__ = lazy_attributes(__name__, "benchmark")


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "race",
        "assay_race.benchmark:RACE",
        description="RACE: reading comprehension (middle, high), 4 options per question (CoT, ANSWER: X)",
    )
