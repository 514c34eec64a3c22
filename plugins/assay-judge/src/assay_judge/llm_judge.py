"""``llm_judge``: a judge grades an answer against the reference, as EvalScope's ``LLMJudge`` does.

Used by ``judge_strategy: llm`` (in place of a benchmark's rule-based scorers), by ``llm_recall`` (only for
samples the rules scored 0) and by name in ``metric_list`` (``general_qa`` with a judge). The prompts and the
verdict patterns are EvalScope's (``evalscope/metrics/llm_judge.py``): ``score_type: pattern`` (default) asks
for "A" (correct, 1.0) or "B" (incorrect, 0.0), the first ``(A|B)`` in the reply; ``score_type: numeric``
asks for a 0-1 rating as ``[[rating]]``. A judge's ``prompt_template`` replaces the prompt; ``{question}``,
``{gold}`` and ``{pred}`` in it are replaced (other braces are kept, as EvalScope does). Unlike EvalScope, a
reply with no verdict is a judge failure, not a 0.
"""

from __future__ import annotations

from typing import Any

from assay.api import Score

from .judge import parse_label, parse_rating

PATTERN_TEMPLATE = """Your job is to look at a question, a gold target, and a predicted answer, and return a letter "A" or "B" to indicate whether the predicted answer is correct or incorrect.

[Question]
{question}

[Reference Answer]
{gold}

[Predicted Answer]
{pred}

Evaluate the model's answer based on correctness compared to the reference answer.
Grade the predicted answer of this new question as one of:
A: CORRECT
B: INCORRECT

Just return the letters "A" or "B", with no text around it.
"""  # noqa: E501 - EvalScope's DEFAULT_PROMPT_TEMPLATE, verbatim

NUMERIC_TEMPLATE = """Please act as an impartial judge and evaluate the quality of the response provided by an AI assistant to the user question displayed below. Your evaluation should consider factors such as the helpfulness, relevance, accuracy, depth, creativity, and level of detail of the response.
Begin your evaluation by providing a short explanation. Be as objective as possible.
After providing your explanation, you must rate the response on a scale of 0 (worst) to 1 (best) by strictly following this format: \"[[rating]]\", for example: \"Rating: [[0.5]]\"

[Question]
{question}

[Response]
{pred}
"""  # noqa: E501 - EvalScope's DEFAULT_NUMERIC_SCORE_TEMPLATE, verbatim

MAPPING = {"A": 1.0, "B": 0.0}


def question_of(sample: Any) -> str:
    """The question the model was asked: ``metadata["question"]``, else the last user message, else the prompt."""
    question = (sample.metadata or {}).get("question")
    if isinstance(question, str):
        return question
    for message in reversed(sample.messages or []):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return message["content"]
    return sample.prompt or "Not provided"


class LLMJudgeScorer:
    """Scores ``acc`` (or the metric ``metric`` names) with the judge's verdict."""

    def __init__(self, metric: str = "acc") -> None:
        self.metric = metric
        self.pattern = parse_label(r"(A|B)")
        self.numeric = parse_rating(r"\[\[(\d+(?:\.\d+)?)\]\]", backup=None)

    async def score(self, sample: Any, generated: Any, judge: Any, metric: str | None = None) -> list[Score]:
        options = judge.options[0] if judge.options else {}
        numeric = options.get("score_type", "pattern") == "numeric"
        template = judge.prompt_template(NUMERIC_TEMPLATE if numeric else PATTERN_TEMPLATE)
        gold = (
            sample.target if isinstance(sample.target, str) else ("" if sample.target is None else str(sample.target))
        )
        prompt = (
            template.replace("{question}", question_of(sample))
            .replace("{pred}", generated.output)
            .replace("{gold}", gold)
        )
        result = (
            await judge.ask(sample, prompt, parse=self.numeric if numeric else self.pattern, key="llm_judge")
        ).require()
        value = float(result.value) if numeric else MAPPING[result.label or ""]
        return [
            Score(
                metric=metric or self.metric,
                value=value,
                extracted=generated.output,
                explanation=f"LLM judge: {result.verdicts[0].output if result.verdicts else ''}",
            )
        ]


SCORER = LLMJudgeScorer()
