"""assay-drop: DROP (Dua et al., NAACL 2019), reading comprehension with discrete reasoning.

File: ``drop_validation.parquet`` of the hub snapshot ``EleutherAI/drop`` (Hugging Face) /
``AI-ModelScope/DROP`` (ModelScope, EvalScope's id): ``section_id, passage, question,
query_id, answer, validated_answers``. The prompt is EvalScope's (3 fixed examples by default,
"Answer: ..." at the end); ``drop_em_f1`` scores the last "Answer:" line with DROP's official
bag-of-answers EM and F1 (best over the gold answers).
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
        "drop",
        "assay_drop.benchmark:DROP",
        description="DROP: 9,536 reading-comprehension questions needing counting, arithmetic, sorting (EM, F1)",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "drop_em_f1",
        "assay_drop.benchmark:EM_F1",
        description="DROP's official answer-bag exact match and F1, best over the gold answers (em, f1)",
    )
