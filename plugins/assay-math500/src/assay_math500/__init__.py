"""MATH-500 benchmark plugin for assay (``--datasets math_500``)."""

from __future__ import annotations

from typing import Any

from assay import hookimpl


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "math_500",
        "assay_math500.benchmark:Math500",
        description="MATH-500 (prm800k test split, 500 problems), 0-shot CoT, \\boxed{} answers",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "math_acc",
        "assay_math500.benchmark:SCORER",
        description="last \\boxed{} of the answer is mathematically equal to the target (math-verify)",
    )


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "math500_breakdown",
        "assay_math500.breakdown:REPORTER",
        kinds={"eval"},
        benchmarks={"math_500"},
        description="MATH-500 accuracy by level and by subject in one run",
    )
