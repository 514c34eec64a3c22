"""MCQ prompts in the lm-evaluation-harness / hendrycks style, with few-shot examples.

A prompt is ``header`` (e.g. "The following are multiple choice questions (with
answers) about anatomy.\\n\\n"), then each few-shot example as a question block followed
by `` <letter>\\n\\n``, then the question block of the sample itself::

    {question}
    A. {choice A}
    B. {choice B}
    ...
    Answer:

``dataset_args.<name>.prompt_template`` replaces the question block (examples and query
alike); its placeholders are ``{question}``, ``{choices}`` (the lettered lines),
``{letters}`` ("A, B, C, D"), ``{subject}``; write literal braces as ``{{`` ``}}``.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from typing import Any

import attrs

LETTERS = string.ascii_uppercase
TEMPLATE_FIELDS = ("question", "choices", "letters", "subject")


@attrs.define
class MCQItem:
    """One question as read from a file: choices in order and the index of the right one."""

    id: str
    question: str
    choices: list[str]
    answer: int
    subject: str = "default"
    source: str = ""  # "file:line", for error messages and the event log
    extra: dict[str, Any] = attrs.field(factory=dict)

    @property
    def letters(self) -> str:
        return LETTERS[: len(self.choices)]

    @property
    def target(self) -> str:
        return LETTERS[self.answer]


@attrs.define(frozen=True)
class PromptStyle:
    header: str = "The following are multiple choice questions (with answers) about {subject}.\n\n"
    question_prefix: str = ""
    answer_prefix: str = "Answer:"
    answer_sep: str = " "  # between the answer prefix and an example's answer ("" for "答案：B")
    choice_format: str = "{letter}. {text}"
    list_choices: bool = True  # False: "question\nAnswer:" then the choice text (lm-eval ARC style)


def choice_lines(item: MCQItem, style: PromptStyle) -> str:
    return "\n".join(
        style.choice_format.format(letter=ltr, text=str(text).strip()) for ltr, text in zip(item.letters, item.choices)
    )


def question_block(item: MCQItem, style: PromptStyle, subject: str, template: str | None = None) -> str:
    if template is not None:
        return template.format_map(
            {
                "question": item.question.strip(),
                "choices": choice_lines(item, style),
                "letters": ", ".join(item.letters),
                "subject": subject,
            }
        )
    if style.list_choices:
        return f"{style.question_prefix}{item.question.strip()}\n{choice_lines(item, style)}\n{style.answer_prefix}"
    return f"{style.question_prefix}{item.question.strip()}\n{style.answer_prefix}"


def example_block(item: MCQItem, style: PromptStyle, subject: str, template: str | None = None) -> str:
    answer = item.target if style.list_choices or template is not None else str(item.choices[item.answer]).strip()
    return f"{question_block(item, style, subject, template)}{style.answer_sep}{answer}\n\n"


def build_prompt(
    item: MCQItem,
    shots: Sequence[MCQItem],
    style: PromptStyle,
    subject: str,
    template: str | None = None,
    cache: dict[Any, str] | None = None,
) -> str:
    """The whole prompt; ``cache`` (a dict the caller keeps per subject) reuses the
    header + examples text when the same examples come again."""
    key = (style, subject, template, tuple(s.source or s.id for s in shots))
    prefix = cache.get(key) if cache is not None else None
    if prefix is None:
        head = style.header.format(subject=subject) if style.header else ""
        prefix = head + "".join(example_block(s, style, subject, template) for s in shots)
        if cache is not None:
            cache[key] = prefix
    return prefix + question_block(item, style, subject, template)


def pick_shots(pool: Sequence[MCQItem], k: int, *, rand: bool, seed: int, item: MCQItem) -> list[MCQItem]:
    """The first ``k`` of ``pool`` (the item itself left out), or ``k`` drawn with a seed per item."""
    if k <= 0 or not pool:
        return []
    here = item.source.rsplit(":", 1)[0]
    cands = [s for s in pool if not (s.id == item.id and s.source.rsplit(":", 1)[0] == here)]
    if not rand:
        return list(cands[:k])
    rng = random.Random(f"{seed}:{item.subject}:{item.id}")
    return rng.sample(list(cands), min(k, len(cands)))
