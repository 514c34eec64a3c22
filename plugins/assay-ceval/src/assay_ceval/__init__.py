"""assay-ceval: C-Eval (Huang et al., 2023), 52 subjects in 4 categories.

Files: ``<root>/{val,dev}/<subject>_<split>.csv`` with a header ``id,question,A,B,C,D,answer``
(dev adds ``explanation``), CRLF line ends. The test split has no public answers, so
``val`` is scored; few-shot examples (5 by default) come from ``dev``. Subjects, Chinese
names and categories (STEM, Social Science, Humanities, Other) are the official
``subject_mapping.json`` of hkust-nlp/ceval; its entry for ``clinical_medicine`` has no
category and is counted under Other, as C-Eval's paper lists it. Prompt as in the
official C-Eval few-shot script: "以下是中国关于{科目}考试的单项选择题，请选出其中的正确答案。"
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
        "ceval",
        "assay_ceval.benchmark:CEval",
        description="C-Eval: 52 Chinese exam subjects, 4 categories, val scored, 5-shot from dev",
    )
