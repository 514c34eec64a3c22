"""assay-winogrande: WinoGrande (Sakaguchi et al., 2019), the 1.1 dev set (1,267 questions).

File: ``<root>/dev.jsonl`` (``qID``, ``sentence`` with one ``_`` blank, ``option1``,
``option2``, ``answer`` "1" or "2"), as in AI2's winogrande_1.1 zip. As EvalScope's adapter:
the sentence is the question, the two options are A and B, the prompt is EvalScope's
single-answer template ("ANSWER: [LETTER]"), scored by ``mcq_letter``.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl
from assay.plugins import lazy_attributes

__version__ = "0.1.0"


# the implementation lives in .benchmark, imported on first use so `assay plugins` stays fast
__getattr__ = lazy_attributes(__name__, "benchmark")


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "winogrande",
        "assay_winogrande.benchmark:Winogrande",
        description="WinoGrande 1.1 dev: 1,267 two-option fill-in-the-blank questions (ANSWER: A/B)",
    )
