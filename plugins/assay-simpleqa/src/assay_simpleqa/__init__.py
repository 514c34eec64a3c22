"""assay-simpleqa: SimpleQA (OpenAI, 4,326 questions) and Chinese SimpleQA (3,000, 6 primary categories).

The model answers each question as it is (one user message, as simple-evals sends it); a judge grades the
answer with the official grader prompt as A (CORRECT), B (INCORRECT) or C (NOT_ATTEMPTED). Per sample:
``is_correct``, ``is_incorrect``, ``is_not_attempted``; the ``simpleqa`` report section adds simple-evals'
``is_given_attempted``, ``accuracy_given_attempted`` (correct / (correct + incorrect)) and ``f1``.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl
from assay.plugins import lazy_attributes

__version__ = "0.1.0"

__getattr__ = lazy_attributes(__name__, "benchmark")

BENCHMARKS = {"simple_qa", "chinese_simpleqa"}


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "simple_qa",
        "assay_simpleqa.benchmark:SimpleQA",
        description="SimpleQA: 4,326 short factual questions, graded by an LLM judge (simple-evals grader)",
    )
    register(
        "chinese_simpleqa",
        "assay_simpleqa.benchmark:ChineseSimpleQA",
        description="Chinese SimpleQA: 3,000 questions in 6 primary categories (subsets), official judge prompt",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "simpleqa_grader",
        "assay_simpleqa.benchmark:SIMPLEQA_SCORER",
        description="judge grades the answer A/B/C (simple-evals prompt): is_correct, is_incorrect, is_not_attempted",
    )
    register(
        "chinese_simpleqa_grader",
        "assay_simpleqa.benchmark:CHINESE_SCORER",
        description="judge grades the answer A/B/C (Chinese SimpleQA prompt): is_correct, is_incorrect, ...",
    )


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "simpleqa",
        "assay_simpleqa.benchmark:REPORTER",
        kinds={"eval"},
        benchmarks=BENCHMARKS,
        description="simple-evals aggregates: accuracy given attempted and F1, with judge coverage",
    )
