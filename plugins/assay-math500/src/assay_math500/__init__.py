"""MATH-500 benchmark plugin for assay (``--datasets math_500``)."""

from __future__ import annotations

from typing import Any

from assay import hookimpl


@hookimpl
def assay_benchmarks(register: Any) -> None:
    from .benchmark import Math500

    register("math_500", Math500, description="MATH-500 (prm800k test split, 500 problems), 0-shot CoT, \\boxed{} answers")


@hookimpl
def assay_scorers(register: Any) -> None:
    from .benchmark import MathAccuracy

    register("math_acc", MathAccuracy(), description="last \\boxed{} of the answer is mathematically equal to the target (math-verify)")


@hookimpl
def assay_reporters(register: Any) -> None:
    from .breakdown import Breakdown

    register("math500_breakdown", Breakdown(), description="MATH-500 accuracy by level and by subject in one run")
