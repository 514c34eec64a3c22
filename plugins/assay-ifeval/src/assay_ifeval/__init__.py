"""IFEval benchmark plugin for assay (``--datasets ifeval``)."""

from __future__ import annotations

from typing import Any

from assay import hookimpl


@hookimpl
def assay_benchmarks(register: Any) -> None:
    from .benchmark import IFEval

    register("ifeval", IFEval, description="IFEval: 541 prompts with verifiable instructions (25 types), strict and loose accuracy")


@hookimpl
def assay_scorers(register: Any) -> None:
    from .benchmark import IFEvalScorer

    register("ifeval", IFEvalScorer(), description="prompt- and instruction-level accuracy, strict and loose (google-research semantics)")
