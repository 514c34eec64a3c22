"""assay-cmmlu: CMMLU (Li et al., 2023), 67 Chinese subjects.

Files: ``<root>/{test,dev}/<subject>.csv`` with a header ``,Question,A,B,C,D,Answer`` (the
first column is an unnamed row index). ``test`` is scored; few-shot examples (5 by
default) come from ``dev``. Prompt as in the official CMMLU script (src/mp_utils.py):
"以下是关于{科目}的单项选择题，请直接给出正确答案的选项。" and "题目：...答案是：".

Categories: the official ``src/categories.py`` of haonan-li/CMMLU (subject ->
subcategories -> STEM, Humanities, Social Science, Other, China specific). The official
mapping puts the 15 China-specific subjects in TWO groups (their first subcategory's group
and "China specific"); ``Sample.category`` is the first group and ``Sample.categories``
holds the others, so the report has a "China specific" row beside the four main ones.
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
    register("cmmlu", "assay_cmmlu.benchmark:CMMLU", description="CMMLU: 67 Chinese subjects, 5-shot from dev")
