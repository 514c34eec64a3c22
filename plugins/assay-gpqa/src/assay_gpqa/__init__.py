"""assay-gpqa: GPQA Diamond (Rein et al., 2023), 198 graduate-level science questions.

File: ``<root>/gpqa_diamond.csv`` in the official layout (``Question``, ``Correct Answer``,
``Incorrect Answer 1..3``, ``Record ID``, ``High-level domain``, ``Subdomain``, ...). The
correct answer is always first in the file, so the four options are shuffled with a
seed per question (``random.Random(f"{seed}:{Record ID}")``) and the permutation is
recorded in ``metadata["permutation"]`` (file index of the option shown at A, B, C, D;
file index 0 is the correct answer). The prompt is EvalScope's zero-shot chain-of-thought
multiple-choice template; the reply's letter is read by ``mcq_letter``.
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
        "gpqa_diamond",
        "assay_gpqa.benchmark:GPQADiamond",
        description="GPQA Diamond: 198 graduate-level science questions, 4 seeded-shuffled choices (CoT, ANSWER: X)",
    )
