"""assay-mmlu: MMLU (Hendrycks et al., 2021), 57 subjects in 4 categories.

Files: ``<root>/{test,val,dev}/<subject>_<split>.csv``, headerless, 6 columns
(question, A, B, C, D, answer letter). Scored split ``test`` (``eval_split: val`` also
works); few-shot examples (5 by default) are the first rows of ``dev`` (seeded draws with
``few_shot_random``). Categories follow the official hendrycks/test ``categories.py``
(subject -> subcategory -> category), named as EvalScope names them: STEM, Humanities,
Social Science, Other (hendrycks: "humanities", "social sciences",
"other (business, health, misc.)").
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
        "mmlu",
        "assay_mmlu.benchmark:MMLU",
        description="MMLU: 57 subjects, 4-choice, 5-shot from dev (generation or log-likelihood)",
    )
