"""An example benchmark plugin: copy me.

This module is what the entry point names: it only registers, by ``"module:attribute"``, so
``assay plugins`` and ``assay --help`` never import the implementation (keep heavy imports out
of here). The benchmark and the scorer live in :mod:`assay_example_qa.benchmark`.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register("example_qa", "assay_example_qa.benchmark:ExampleQA", description="tiny example QA set (template)")


@hookimpl
def assay_scorers(register: Any) -> None:
    register("example_exact", "assay_example_qa.benchmark:SCORER", description="last word equals the answer")
