"""assay-hellaswag: HellaSwag (Zellers et al., 2019), the validation split (10,042 items).

Two file layouts are read: the official JSONL (``hellaswag_val.jsonl`` or
``hellaswag_validation.jsonl``: ``ctx_a``, ``ctx_b``, ``endings``, ``label``,
``activity_label``, ``ind``) and llama.cpp's 6-line text layout
(``hellaswag_val_full.txt[.bz2]``: ``activity_label: ctx``, the label, four endings). As
EvalScope's adapter: the context is the question, the four endings are A-D, the prompt is
EvalScope's single-answer template, scored by ``mcq_letter``.
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
        "hellaswag",
        "assay_hellaswag.benchmark:HellaSwag",
        description="HellaSwag validation: 10,042 contexts, pick the right one of 4 endings (ANSWER: X)",
    )
