"""assay-process-bench: ProcessBench (Zheng et al., 2024), 3,400 step-by-step math solutions in
four subsets; the model names the earliest erroneous paragraph (or -1). Scored as in the
official ``code/run_eval.py``: accuracy on the erroneous samples, on the correct ones, and
their harmonic mean (F1) per subset (the ``process_bench_f1`` report section).
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "process_bench",
        "assay_process_bench.benchmark:ProcessBench",
        description="ProcessBench: earliest erroneous paragraph of 3,400 math solutions (gsm8k, math, olympiadbench, omnimath)",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "process_bench_match",
        "assay_process_bench.benchmark:SCORER",
        description="ProcessBench: the last \\boxed{} index equals the label (acc; F1 in the process_bench_f1 section)",
    )


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "process_bench_f1",
        "assay_process_bench.report:REPORTER",
        kinds={"eval"},
        benchmarks={"process_bench"},
        description="ProcessBench error acc, correct acc and their F1 per subset, and the mean F1",
    )
