"""assay-musr: MuSR (Sprague et al., ICLR 2024), 756 questions over long generated narratives.

Files: the hub snapshot of ``TAUR-Lab/MuSR`` (Hugging Face) / ``AI-ModelScope/MuSR``
(ModelScope, EvalScope's id): ``murder_mystery.csv``, ``object_placements.csv``,
``team_allocation.csv`` with the columns ``narrative, question, choices, answer_index,
answer_choice``; ``choices`` is a Python list literal. The three files are the subsets
``murder_mysteries`` (250), ``object_placements`` (256), ``team_allocation`` (250). The prompt
is EvalScope's zero-shot chain-of-thought multiple-choice template over
``narrative + "\\n\\n" + question``; the reply's letter is read by ``mcq_letter``.
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
        "musr",
        "assay_musr.benchmark:MuSR",
        description="MuSR: 756 multistep soft-reasoning questions over long narratives, 3 subsets (CoT, ANSWER: X)",
    )
