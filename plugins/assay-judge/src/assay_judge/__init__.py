"""assay-judge: LLM judges, a shared library of judged benchmarks.

The kernel reaches it through the ``assay_judge`` hook (the :class:`~assay_judge.judge.Judge` factory: config
checks, ``--judge-model-args`` parsing, the run's judges, logged-verdict reuse); judged benchmarks import its
helpers (``from assay_judge import JudgeFailed, parse_label, parse_rating, render_template, ...``). It also
registers the ``llm_judge`` scorer (EvalScope's LLMJudge prompts), used by ``judge_strategy: llm`` /
``llm_recall`` and by name in ``metric_list``.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl
from assay.plugins import lazy_attributes

__version__ = "0.1.0"

__getattr__ = lazy_attributes(__name__, "judge")


@hookimpl
def assay_judge() -> Any:
    return "assay_judge.judge:Judge"


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "llm_judge",
        "assay_judge.llm_judge:SCORER",
        description="a judge grades the answer against the reference (EvalScope's LLMJudge prompts): acc",
    )
