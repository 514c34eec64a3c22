"""assay-truthfulqa: TruthfulQA multiple choice (Lin et al., 2022), MC1 and MC2.

File: ``<root>/TruthfulQA.csv`` with the header ``Type,Category,Question,Best Answer,
Correct Answers,Incorrect Answers,Source``; the answer lists are ``;``-separated. Answers
are formatted as the official sylinrl/TruthfulQA code does (``split_multi_answer`` /
``format_best``: stripped, a period added when missing).

* ``mcq_mode: loglikelihood`` (the official set-up): the prompt is the official 6-shot QA
  primer + "Q: <question>\\nA:", ``Sample.choices`` = " " + every true answer, then every
  false one. Scorer ``truthfulqa_mc``: ``mc1`` = 1 when the best answer's log-likelihood
  beats every false answer's (strictly); ``mc2`` = the normalised probability mass of the
  true answers, sum(exp(lp_true)) / (sum(exp(lp_true)) + sum(exp(lp_false))).
* generation mode (the default): MC1 only -- the best answer and the false answers as
  lettered options in a seeded per-question shuffle (``metadata["order"]``), the reply's
  letter scored as ``mc1``. MC2 needs log-likelihoods and is not reported in this mode.

One subset, ``multiple_choice`` (EvalScope's name); ``metadata`` keeps Type and Category.
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
        "truthful_qa",
        "assay_truthfulqa.benchmark:TruthfulQA",
        description="TruthfulQA multiple choice: MC1 (+ MC2 with log-likelihoods)",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "truthfulqa_mc",
        "assay_truthfulqa.benchmark:SCORER",
        description="TruthfulQA MC1/MC2 (mc2 only from log-likelihoods)",
    )
