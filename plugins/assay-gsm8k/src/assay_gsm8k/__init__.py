"""GSM8K benchmark plugin for assay."""

from __future__ import annotations

from typing import Any

from assay import hookimpl


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "gsm8k",
        "assay_gsm8k.benchmark:GSM8K",
        description="GSM8K grade-school math (test, 1319), CoT few-shot, '#### n' answers",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "gsm8k_acc",
        "assay_gsm8k.extract:SCORER",
        description="numeric answer after '####' (with fallbacks) equals the target",
    )
