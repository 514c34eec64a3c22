"""assay-toolbench: ToolBench-Static, the step-level (static) evaluation of ToolBench
conversations as the alpha-UMi paper (X-PLUG/Multi-LLM-Agent) does it; EvalScope's
``tool_bench`` cites it. Registered as ``toolbench_static`` and ``tool_bench``."""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "toolbench_static",
        "assay_toolbench.benchmark:ToolBenchStatic",
        description="ToolBench-Static: next step of 400 tool-use conversations (Plan.EM, Act.EM, F1, HalluRate, Rouge-L)",
    )
    register(
        "tool_bench",
        "assay_toolbench.benchmark:ToolBench",
        description="EvalScope's name for toolbench_static: the same benchmark",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "toolbench_step",
        "assay_toolbench.benchmark:SCORER",
        description="ToolBench-Static step metrics (alpha-UMi evaluate-backbone.py): Plan.EM, Act.EM, F1, HalluRate, Rouge-L",
    )
