"""assay-mcq: shared multiple-choice machinery for assay benchmarks.

Registers the scorers ``mcq_letter`` and ``mcq_loglik``; benchmark plugins (assay-mmlu,
assay-arc, ...) build on :class:`MCQBenchmark`, :mod:`assay_mcq.prompt` and
:mod:`assay_mcq.data`.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

from .benchmark import MCQBenchmark, MCQOptions, make_sample, parse_options, select_subsets
from .data import MCQDataError, read_csv, read_csv_dicts, read_jsonl
from .extract import extract_letter, strip_reasoning
from .prompt import LETTERS, MCQItem, PromptStyle, build_prompt, pick_shots
from .scorers import LetterScorer, LoglikScorer

__version__ = "0.1.0"
__all__ = [
    "LETTERS",
    "LetterScorer",
    "LoglikScorer",
    "MCQBenchmark",
    "MCQDataError",
    "MCQItem",
    "MCQOptions",
    "PromptStyle",
    "build_prompt",
    "extract_letter",
    "make_sample",
    "parse_options",
    "pick_shots",
    "read_csv",
    "read_csv_dicts",
    "read_jsonl",
    "select_subsets",
    "strip_reasoning",
]


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "mcq_letter",
        LetterScorer(),
        description="multiple choice: letter extracted from the reply equals the target (acc)",
    )
    register(
        "mcq_loglik",
        LoglikScorer(),
        description="multiple choice: argmax of choice log-likelihoods is the target (acc, acc_norm)",
    )
