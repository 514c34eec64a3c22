"""assay-mcq: shared multiple-choice machinery for assay benchmarks.

Registers the scorers ``mcq_letter`` and ``mcq_loglik``; benchmark plugins (assay-mmlu,
assay-arc, ...) build on :class:`MCQBenchmark` (or :class:`OwnFilesMCQ`), :mod:`assay_mcq.prompt` and
:mod:`assay_mcq.data`.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

_LAZY = {
    "COMMON_EXTRA": "benchmark",
    "MCQBenchmark": "benchmark",
    "MCQOptions": "benchmark",
    "MCQ_HONOURS": "benchmark",
    "OwnFilesMCQ": "benchmark",
    "make_sample": "benchmark",
    "parse_options": "benchmark",
    "select_subsets": "benchmark",
    "shuffle_item": "benchmark",
    "MCQDataError": "data",
    "read_csv": "data",
    "read_csv_dicts": "data",
    "read_jsonl": "data",
    "extract_letter": "extract",
    "LETTERS": "prompt",
    "MCQItem": "prompt",
    "PromptStyle": "prompt",
    "build_prompt": "prompt",
    "pick_shots": "prompt",
    "LetterScorer": "scorers",
    "LoglikScorer": "scorers",
}


def __getattr__(name: str) -> Any:
    # submodules are imported on first use, so `assay plugins` does not pay for them
    import importlib

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__version__ = "0.1.0"
__all__ = [
    "COMMON_EXTRA",
    "LETTERS",
    "LetterScorer",
    "LoglikScorer",
    "MCQBenchmark",
    "MCQDataError",
    "MCQItem",
    "MCQOptions",
    "MCQ_HONOURS",
    "OwnFilesMCQ",
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
    "shuffle_item",
]


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "mcq_letter",
        "assay_mcq.scorers:LETTER",
        description="multiple choice: letter extracted from the reply equals the target (acc)",
    )
    register(
        "mcq_loglik",
        "assay_mcq.scorers:LOGLIK",
        description="multiple choice: argmax of choice log-likelihoods is the target (acc, acc_norm)",
    )
