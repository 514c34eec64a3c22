"""general_qa benchmark plugin for assay (``--datasets general_qa``, files via ``local_path``)."""

from __future__ import annotations

from typing import Any

from assay import hookimpl


@hookimpl
def assay_benchmarks(register: Any) -> None:
    from .benchmark import GeneralQA

    register("general_qa", GeneralQA, description="your JSONL files of query/messages + response (dataset_args.general_qa.local_path)")


@hookimpl
def assay_scorers(register: Any) -> None:
    from .scoring import BleuScorer, ExactMatchScorer, RougeScorer

    register("qa_exact_match", ExactMatchScorer(), description="answer equals the reference after trimming and collapsing whitespace")
    register("qa_bleu", BleuScorer(), description="sentence BLEU (sacrebleu, 0-1; 'zh' tokenisation for CJK text)")
    register("qa_rouge", RougeScorer(), description="ROUGE-1/2/L F1 (rouge-score; CJK characters as tokens)")
