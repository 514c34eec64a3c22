"""assay-arc: AI2 Reasoning Challenge (Clark et al., 2018), ARC-Easy and ARC-Challenge.

Files: ``<root>/ARC-Easy/ARC-Easy-{Test,Dev}.jsonl`` and the same for ARC-Challenge,
one question a line: ``{"id", "question": {"stem", "choices": [{"text", "label"}]},
"answerKey"}``. Labels are A-E or 1-4 (a few questions have 3 or 5 choices); choices are
shown in file order as A, B, C, ... and the target is the letter at the answer key's
position (``metadata["labels"]`` keeps the original labels). ``test`` is scored (``dev``
also works); few-shot examples (none by default) come from ``dev``.

``mcq_mode: loglikelihood`` with ``mcq_continuation: text`` gives lm-evaluation-harness's
ARC set-up ("Question: ...\\nAnswer:" + each option text, ``acc`` and ``acc_norm``).
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
        "arc",
        "assay_arc.benchmark:ARC",
        description="AI2 ARC: ARC-Easy and ARC-Challenge, 3-5 choices (generation or log-likelihood)",
    )
