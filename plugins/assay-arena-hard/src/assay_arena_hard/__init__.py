"""assay-arena-hard: Arena-Hard-Auto v0.1 (500 questions, gpt-4-0314 baseline) and v2.0 (750 questions).

The model answers each question (one user message); a judge compares its answer with the baseline's in
both orders (game 1: the baseline shown as A; game 2: swapped) with the official system prompt and user
template, and gives a verdict label ``[[A>>B]]`` ... ``[[B>>A]]`` read by the official regex. The
``arena_hard`` report section computes the official score: each game is a battle against the baseline
(a strong verdict counts ``strong_weight`` = 3 times, as ``show_result.py``), the Bradley-Terry win rate
against the baseline (anchored at 50% / Elo 1000) with a seeded bootstrap 95% interval. A sample with a
failed or unparseable game is judge-failed: left out and counted.
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
        "arena_hard",
        "assay_arena_hard.benchmark:ArenaHard",
        description="Arena-Hard-Auto v0.1 (500, gpt-4-0314 baseline) / v2.0 (750): judged pairwise, both orders",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "arena_hard_judge",
        "assay_arena_hard.benchmark:SCORER",
        description="judge compares the answer with the baseline's in both orders ([[A>>B]] ... [[B>>A]]): win_rate",
    )


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "arena_hard",
        "assay_arena_hard.benchmark:REPORTER",
        kinds={"eval"},
        benchmarks={"arena_hard"},
        description="Arena-Hard score: Bradley-Terry win rate against the baseline, bootstrap 95% CI, coverage",
    )
