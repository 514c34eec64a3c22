"""GSM8K benchmark plugin for assay."""

from __future__ import annotations

from typing import Any

from assay import hookimpl

from .benchmark import GSM8K
from .extract import GSM8KAccuracy


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register("gsm8k", GSM8K, description="GSM8K grade-school math (test, 1319), CoT few-shot, '#### n' answers")


@hookimpl
def assay_scorers(register: Any) -> None:
    register("gsm8k_acc", GSM8KAccuracy(), description="numeric answer after '####' (with fallbacks) equals the target")
