"""assay-iquiz: IQuiz (ModelScope, 2025), 40 IQ and 80 EQ multiple-choice questions in Chinese.

Data: ModelScope ``AI-ModelScope/IQuiz`` only (no Hugging Face copy), subsets ``IQ`` and
``EQ``, split ``test``; records ``{"question", "choices", "answer": "D", "level"}``. The prompt
is EvalScope's Chinese chain-of-thought template ("答案：[LETTER]" last); ``mcq_letter`` scores.
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
        "iquiz",
        "assay_iquiz.benchmark:IQuiz",
        description="IQuiz: 120 Chinese IQ (40) and EQ (80) multiple-choice questions (Chinese CoT, 答案：X)",
    )
