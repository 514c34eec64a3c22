"""IFEval benchmark plugin for assay (``--datasets ifeval``)."""

from __future__ import annotations

from typing import Any

from assay import hookimpl


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "ifeval",
        "assay_ifeval.benchmark:IFEval",
        description="IFEval: 541 prompts with verifiable instructions (25 types), strict and loose accuracy",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "ifeval",
        "assay_ifeval.benchmark:SCORER",
        description="prompt- and instruction-level accuracy, strict and loose (google-research semantics)",
    )
