"""assay-longbench-write: LongBench-Write (Bai et al., 2024, LongWriter), 120 writing prompts
that ask for 100 to 20,000 words; scored by the official length score S_l, and with a judge
configured by the quality score S_q (see the README)."""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "longbench_write",
        "assay_longbench_write.benchmark:LongBenchWrite",
        description="LongBench-Write: 120 long-writing prompts, LongWriter's length score S_l (+ judged quality S_q)",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "longbench_write_length",
        "assay_longbench_write.benchmark:SCORER",
        description="LongWriter's length score S_l/100: words (Chinese chars + English words) against the required length",
    )
    register(
        "longbench_write_quality",
        "assay_longbench_write.benchmark:QUALITY",
        description="LongWriter's quality score S_q/100: a judge rates six dimensions 1-5 (judge.txt)",
    )
