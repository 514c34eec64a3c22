"""What the kernel itself provides, registered through the same hooks as any plugin."""

from __future__ import annotations

from typing import Any

from ..hookspecs import hookimpl
from .mock import MockModel
from .scorers import ExactMatch, IncludesMatch


@hookimpl
def assay_models(register: Any) -> None:
    register(
        "mock", MockModel, description="deterministic offline model (the default)", eval_types=("mock",), by_name=True
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register("exact_match", ExactMatch(), description="output equals the target, ignoring case and runs of whitespace")
    register(
        "includes",
        IncludesMatch(),
        description="the target appears in the output, ignoring case and runs of whitespace",
    )


@hookimpl
def assay_executors(register: Any) -> None:
    register("local", "assay.evaluate:LocalExecutor", description="anyio tasks in this process (the default)")
