"""AIME 2024 / 2025 benchmark plugin for assay (``--datasets aime24 aime25``)."""

from __future__ import annotations

from typing import Any

from assay import hookimpl


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "aime24",
        "assay_aime.benchmark:AIME24",
        description="AIME 2024 I+II (30 problems), integer answers; repeats=k gives mean@k and pass@k",
    )
    register(
        "aime25",
        "assay_aime.benchmark:AIME25",
        description="AIME 2025 I+II (30 problems), integer answers; repeats=k gives mean@k and pass@k",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "aime_acc",
        "assay_aime.benchmark:SCORER",
        description="the integer answer (last \\boxed{}, else 'answer is N', else last number) equals the target",
    )


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "aime_pass_at_k",
        "assay_aime.passk:REPORTER",
        kinds={"eval"},
        benchmarks={"aime24", "aime25"},
        description="pass@k (unbiased estimator) and mean@k per AIME benchmark, from the repeats of each problem",
    )
