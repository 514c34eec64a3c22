"""assay-super-gpqa: SuperGPQA (M-A-P, 2025), 26,529 multiple-choice questions with up to 10 options.

File: ``SuperGPQA-all.jsonl`` of the hub snapshot ``m-a-p/SuperGPQA`` (the same id on
ModelScope, EvalScope's, and Hugging Face), one object a line with ``uuid, question, options,
answer, answer_letter, discipline, field, subfield, difficulty, is_calculation``. Subsets are
the 72 fields, each in its discipline's category (EvalScope's mapping); the prompt is
EvalScope's zero-shot chain-of-thought template.
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
        "super_gpqa",
        "assay_super_gpqa.benchmark:SuperGPQA",
        description="SuperGPQA: 26,529 graduate-level questions, 72 fields in 13 disciplines, 10 options (CoT)",
    )
