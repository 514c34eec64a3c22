"""IFBench benchmark plugin for assay (``--datasets ifbench``)."""

from __future__ import annotations

from typing import Any

from assay import hookimpl


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "ifbench",
        "assay_ifbench.benchmark:IFBench",
        description="IFBench: 300 prompts with 58 new out-of-distribution verifiable constraints, strict and loose",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "ifbench",
        "assay_ifbench.benchmark:SCORER",
        description="IFBench prompt- and instruction-level accuracy, strict and loose (allenai/IFBench semantics)",
    )


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "ifbench",
        "assay_ifbench.report:REPORTER",
        kinds={"eval"},
        benchmarks=["ifbench"],
        description="IFBench instruction-level accuracy per category and per instruction id (the official report)",
    )
