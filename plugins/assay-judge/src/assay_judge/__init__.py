"""assay-judge: LLM judges, a shared library of judged benchmarks.

The kernel reaches it through the ``assay_judge`` hook (the :class:`~assay_judge.judge.Judge` factory: config
checks, ``--judge-model-args`` parsing, the run's judges, logged-verdict reuse); judged benchmarks import its
helpers (``from assay_judge import JudgeFailed, parse_label, parse_rating, render_template, ...``). It also
registers the ``llm_judge`` scorer (EvalScope's LLMJudge prompts), used by ``judge_strategy: llm`` /
``llm_recall`` and by name in ``metric_list``, and the ``--judge-*`` flags of ``assay eval``, ``resume`` and
``rescore`` (``add_judge_arguments`` / ``judge_flags``: ``assay arena`` takes them too).
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl
from assay.plugins import lazy_attributes

__version__ = "0.1.0"

__getattr__ = lazy_attributes(__name__, "judge")

# the kernel's commands that take the judge flags
COMMANDS = frozenset({"eval", "resume", "rescore"})


def add_judge_arguments(p: Any) -> None:
    """The ``--judge-*`` flags on the argparse parser ``p``."""
    p.add_argument("--judge-strategy", choices=["auto", "rule", "llm", "llm_recall"], help="when to ask a judge")
    p.add_argument(
        "--judge-model-args",
        help='JSON: {"model_id": ..., "api_url": ..., "api_key": ..., "generation_config": {...}} or a list of them',
    )
    p.add_argument("--judge-worker-num", type=int, help="concurrent judge calls (default 1)")
    p.add_argument("--judge-aggregation", choices=["mean", "majority", "all_agree"], help="several judges: combine")
    p.add_argument("--judge-min-valid", type=int, help="several judges: valid verdicts needed (default 1)")


def judge_flags(args: Any) -> dict[str, Any]:
    """The ``judge_*`` settings the flags give (``None``: not given)."""
    judge_args = args.judge_model_args
    if judge_args:
        from .judge import Judge

        judge_args = Judge.parse_args(judge_args)
    return {
        "judge_strategy": args.judge_strategy,
        "judge_model_args": judge_args or None,
        "judge_worker_num": args.judge_worker_num,
        "judge_aggregation": args.judge_aggregation,
        "judge_min_valid": args.judge_min_valid,
    }


@hookimpl
def assay_options(command: str, parser: Any) -> None:
    if command in COMMANDS:
        add_judge_arguments(parser)


@hookimpl
def assay_option_values(command: str, args: Any) -> dict[str, Any] | None:
    return judge_flags(args) if command in COMMANDS else None


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
