"""general_qa benchmark plugin for assay (``--datasets general_qa``, files via ``local_path``)."""

from __future__ import annotations

from typing import Any

from assay import hookimpl


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "general_qa",
        "assay_general_qa.benchmark:GeneralQA",
        description="your JSONL files of query/messages + response (dataset_args.general_qa.local_path)",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "qa_exact_match",
        "assay_general_qa.scoring:EXACT",
        description="answer equals the reference after trimming and collapsing whitespace",
    )
    register(
        "qa_bleu",
        "assay_general_qa.scoring:BLEU",
        description="sentence BLEU (sacrebleu, 0-1; 'zh' tokenisation for CJK text)",
    )
    register(
        "qa_rouge",
        "assay_general_qa.scoring:ROUGE",
        description="ROUGE-1/2/L F1 (rouge-score; CJK characters as tokens)",
    )
