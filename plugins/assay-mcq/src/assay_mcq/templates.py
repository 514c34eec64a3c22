"""EvalScope's multiple-choice prompts (``evalscope.utils.multi_choices``), for the benchmarks
whose reference is EvalScope's adapter (gpqa_diamond, winogrande, ...).

The template holds ``{question}``, ``{choices}`` (``A) text`` lines) and ``{letters}``
("A,B,C,D"); a user's ``prompt_template`` with the same placeholders (and ``{subject}``)
replaces it.
"""

from __future__ import annotations

from .prompt import MCQItem

SINGLE_ANSWER = (
    "Answer the following multiple choice question. The entire content of your response should be of the "
    "following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of {letters}.\n\n"
    "{question}\n\n{choices}"
)
SINGLE_ANSWER_COT = (
    "Answer the following multiple choice question. The last line of your response should be of the "
    "following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of {letters}. "
    "Think step by step before answering.\n\n{question}\n\n{choices}"
)


def choice_lines(item: MCQItem) -> str:
    """``A) first\\nB) second ...``"""
    return "\n".join(f"{ltr}) {str(c).strip()}" for ltr, c in zip(item.letters, item.choices))


def fill(template: str, item: MCQItem) -> str:
    return template.format_map(
        {
            "question": item.question.strip(),
            "choices": choice_lines(item),
            "letters": ",".join(item.letters),
            "subject": item.subject,
        }
    )
