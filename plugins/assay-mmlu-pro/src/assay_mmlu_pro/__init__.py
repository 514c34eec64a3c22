"""assay-mmlu-pro: MMLU-Pro (Wang et al., 2024), 12,032 test questions in 14 categories.

Prompt and answer extraction follow TIGER-AI-Lab/MMLU-Pro's ``evaluate_from_api.py`` (5-shot
chain of thought from the validation split, "The answer is (X)"); see the README.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "mmlu_pro",
        "assay_mmlu_pro.benchmark:MMLUPro",
        description="MMLU-Pro: 12,032 questions, 14 categories, up to 10 options, 5-shot CoT (The answer is (X))",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "mmlu_pro_letter",
        "assay_mmlu_pro.benchmark:SCORER",
        description="MMLU-Pro's official answer extraction (answer is (X) / Answer: X / last lone letter) == target",
    )
