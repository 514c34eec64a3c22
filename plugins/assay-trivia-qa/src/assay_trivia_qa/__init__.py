"""assay-trivia-qa: TriviaQA (Joshi et al., ACL 2017), the ``rc.wikipedia`` reading-comprehension set.

Files: ``rc.wikipedia/validation-00000-of-00001.parquet`` of the hub snapshot
``mandarjoshi/trivia_qa`` (Hugging Face) / ``evalscope/trivia_qa`` (ModelScope, EvalScope's
id): ``question, question_id, question_source, entity_pages, search_results, answer``. The
prompt is EvalScope's (the Wikipedia context, the question, "ANSWER: [ANSWER]" last);
``trivia_qa_acc`` scores the last "ANSWER:" line as right when it is one of the answer's
aliases or normalized aliases.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl
from assay.plugins import lazy_attributes

__version__ = "0.1.0"

__getattr__ = lazy_attributes(__name__, "benchmark")


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "trivia_qa",
        "assay_trivia_qa.benchmark:TriviaQA",
        description="TriviaQA rc.wikipedia: 7,993 trivia questions with Wikipedia evidence (alias match, acc)",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "trivia_qa_acc",
        "assay_trivia_qa.benchmark:ALIAS_ACC",
        description="the last 'ANSWER:' line (else the reply) is one of the target aliases, exactly (acc)",
    )
