"""The one ``<think>`` rule every scorer applies (assay.text.split_reasoning)."""

from __future__ import annotations

import pytest

from assay.text import split_reasoning


@pytest.mark.parametrize(
    ("output", "answer", "reasoning"),
    [
        (r"<think>maybe \boxed{3}</think> so \boxed{4}", r"so \boxed{4}", r"maybe \boxed{3}"),
        ("<THINKING>a</Thinking>\n\nB", "B", "a"),  # both tag spellings, any case
        ("<think>a</think>b</think> c", "c", "a</think>b"),  # the last closing tag ends the reasoning
        ("opened in the template</think>A", "A", "opened in the template"),
        ("<think>\n</think>\n\n", "", ""),  # reasoning and nothing after it: an empty answer
        # unclosed: graded as written, as lm-eval's think_end_token and EvalScope's remove_until do
        (r"<think>still thinking \boxed{3}", r"<think>still thinking \boxed{3}", None),
        ("plain  \n", "plain  \n", None),  # no tag: the output unchanged
        (None, "", None),
        ("", "", None),
    ],
)
def test_split_reasoning(output: str | None, answer: str, reasoning: str | None) -> None:
    assert split_reasoning(output) == (answer, reasoning)
