"""Code generation benchmarks for assay: model-written programs run in a sandbox (assay-sandbox)."""

from __future__ import annotations

from typing import Any

from assay import hookimpl

CODE_BENCHMARKS = {"humaneval", "humaneval_plus", "mbpp", "mbpp_plus", "live_code_bench"}


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "humaneval", "assay_code.humaneval:HumanEval", description="HumanEval (164), functional tests in a sandbox"
    )
    register("mbpp", "assay_code.mbpp:MBPP", description="MBPP test split (task 11-510), 3-shot, asserts in a sandbox")
    register(
        "humaneval_plus",
        "assay_code.evalplus:HumanEvalPlus",
        description="HumanEval+ (EvalPlus v0.1.10): base and plus inputs, differential tests in a sandbox",
    )
    register(
        "live_code_bench",
        "assay_code.lcb:LiveCodeBench",
        description="LiveCodeBench code generation (code_generation_lite files; release_version, start/end_date)",
    )
    register(
        "mbpp_plus",
        "assay_code.evalplus:MBPPPlus",
        description="MBPP+ (EvalPlus v0.2.0, 378): base and plus inputs, differential tests in a sandbox",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "code_pass",
        "assay_code.scorer:SCORER",
        description="runs the extracted code against the problem's tests in a sandbox; 1 if every test passes",
    )


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "code_pass_at_k",
        "assay_code.passk:REPORTER",
        kinds={"eval"},
        benchmarks=CODE_BENCHMARKS,
        description="pass@k (unbiased estimator, Chen et al. 2021) over the repeats, and the executions' verdicts",
    )
