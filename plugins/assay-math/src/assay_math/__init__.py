"""assay-math: MATH (Hendrycks et al., 2021), the 5,000-problem competition math test set.

Registered as ``math`` and, EvalScope's name, ``competition_math``. Scored by ``math_acc``
(assay-math500: the last ``\\boxed{}``, equivalence by assay-mathkit / math-verify).
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "math",
        "assay_math.benchmark:MATH",
        description="MATH (Hendrycks competition math, 5,000 test problems), 0-shot CoT, \\boxed{} answers",
    )
    register(
        "competition_math",
        "assay_math.benchmark:CompetitionMATH",
        description="EvalScope's name for math: the same benchmark",
    )
