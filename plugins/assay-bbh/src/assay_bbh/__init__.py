"""BIG-Bench Hard benchmark plugin for assay (``--datasets bbh``)."""

from __future__ import annotations

from typing import Any

from assay import hookimpl


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "bbh",
        "assay_bbh.benchmark:BBH",
        description="BIG-Bench Hard: 27 tasks (6511 examples), official 3-shot CoT prompts",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "bbh_exact_match",
        "assay_bbh.extract:SCORER",
        description="answer after 'the answer is', normalised, equals the target",
    )
