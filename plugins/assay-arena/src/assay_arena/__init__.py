"""assay-arena: ``assay arena RUN_A RUN_B ...``, judged pairwise battles between runs, and its leaderboard.

The battles are drawn from the runs' logged ``Generated`` events (nothing is generated again) over the
prompts each pair of runs shares; a judge compares the two answers in both orders with the Arena-Hard
prompt. The arena is a run of its own (``kind: arena``): each judge call is a ``Judged`` event, each game
a ``Scored`` event (a judge-failed battle a ``SampleFailed``), so it resumes (``assay arena --resume``)
and replays. The ``arena`` reporter folds it into a leaderboard: Bradley-Terry ratings on the Elo scale
(:mod:`assay_arena.bradley_terry`) with seeded bootstrap intervals, the win-rate matrix and the win rate
against a baseline.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


@hookimpl
def assay_commands(cli: Any) -> None:
    from .command import register

    register(cli)


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "arena",
        "assay_arena.leaderboard:REPORTER",
        kinds={"arena"},
        description="arena leaderboard: Bradley-Terry (Elo) ratings with bootstrap CIs, win-rate matrix",
    )
