"""assay-mtbench: MT-Bench (80 questions, 8 categories, two turns), graded as FastChat's ``llm_judge`` does.

The model answers the first question, then the second with its own first answer in the conversation. A judge
rates each turn from 1 to 10 with FastChat's single-answer prompts (``single-v1`` / ``single-math-v1`` for the
first turn, the ``-multi-turn`` ones for the second; the math variants, with GPT-4's reference answers, for
math, reasoning and coding). Per sample: ``turn_1``, ``turn_2`` and ``score`` (their mean); the subsets are
the 8 categories; the ``mt_bench`` report section lists first turn, second turn and average per category.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl
from assay.plugins import lazy_attributes

__version__ = "0.1.0"

__getattr__ = lazy_attributes(__name__, "benchmark")


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "mt_bench",
        "assay_mtbench.benchmark:MTBench",
        description="MT-Bench: 80 two-turn questions in 8 categories, each turn rated 1-10 by an LLM judge",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "mt_bench_judge",
        "assay_mtbench.benchmark:SCORER",
        description="judge rates both turns 1-10 (FastChat single-answer prompts): turn_1, turn_2, score",
    )


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "mt_bench",
        "assay_mtbench.benchmark:REPORTER",
        kinds={"eval"},
        benchmarks={"mt_bench"},
        description="MT-Bench first turn, second turn and average per category (FastChat's show_result)",
    )
