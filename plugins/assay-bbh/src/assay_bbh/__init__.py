"""BIG-Bench Hard benchmark plugin for assay (``--datasets bbh``)."""

from __future__ import annotations

from typing import Any

from assay import hookimpl


@hookimpl
def assay_benchmarks(register: Any) -> None:
    from .benchmark import BBH

    register("bbh", BBH, description="BIG-Bench Hard: 27 tasks (6511 examples), official 3-shot CoT prompts")


@hookimpl
def assay_scorers(register: Any) -> None:
    from .extract import BBHExactMatch

    register("bbh_exact_match", BBHExactMatch(), description="answer after 'the answer is', normalised, equals the target")
