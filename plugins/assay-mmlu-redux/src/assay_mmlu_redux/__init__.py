"""assay-mmlu-redux: MMLU-Redux 2.0 (Gema et al., 2024), 5,700 MMLU questions re-annotated.

Files: the hub snapshot of ``edinburgh-dawg/mmlu-redux-2.0`` (Hugging Face) /
``AI-ModelScope/mmlu-redux-2.0`` (ModelScope, EvalScope's id): one folder per subject written
by ``datasets.save_to_disk`` (``<subject>/data-00000-of-00001.arrow``, ``dataset_info.json``,
``state.json``) with ``question, choices, answer, error_type, source, correct_answer,
potential_reason``. The corrected answer set follows EvalScope's adapter; a reply is right
when its letter is any of the accepted letters (``mcq_letter_any``).
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
        "mmlu_redux",
        "assay_mmlu_redux.benchmark:MMLURedux",
        description="MMLU-Redux 2.0: 5,700 re-annotated MMLU questions, 57 subjects, corrected answers (CoT)",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "mcq_letter_any",
        "assay_mmlu_redux.benchmark:LETTER_ANY",
        description="multiple choice: the extracted letter is one of the accepted letters (target is a list) (acc)",
    )
