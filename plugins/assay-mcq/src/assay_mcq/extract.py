"""Answer-letter extraction from a model's free-text reply.

The reply is first cleaned: ``<think>...</think>`` reasoning is removed by the kernel's one
rule (:func:`assay.text.split_reasoning`: only what follows the last ``</think>`` counts; an
unclosed ``<think>`` is graded as written), and the text is NFKC-normalised so full-width letters and colons (``Ｂ``, ``：``) read as ASCII.

Then the patterns below are tried in order; the first pattern that matches anywhere
wins, and within it the LAST match counts (models restate the question's options first
and conclude at the end). Letters are upper-case and limited to the question's own
letters (A-C for a 3-choice question), and must not be followed by another Latin letter
(so "answer is a" or "Because" never count).

==============  ==================================================================
name            examples
==============  ==================================================================
answer_is       "The answer is (B)", "ANSWER: B", "Correct answer: **B**",
                "the final answer is B.", "Answer: B) Paris"
answer_zh       "答案是B", "答案：B", "正确答案为 (B)", "正确选项是B", "故选B"
is_correct      "B is correct", "(B) is the right answer", "C would be the best"
boxed           "\\boxed{B}", "\\boxed{\\text{B}}"
bold            "**B**", "**(B)**", "**B. Paris**"
lone            the whole reply, or its last line, is one letter: "B", "(B)", "B.", "[B]"
leading         the reply starts with an option: "B. Paris", "B) Paris", "(B) Paris", "B: Paris"
option          "option B", "the correct option is B", "choice (B)", "I'll go with B",
                "I choose B", "选项B", "选B"
choice_text     the reply contains exactly one option's text (case and spacing
                ignored; an option contained in a longer matched option loses)
==============  ==================================================================

No match gives ``(None, "none")``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from assay.text import split_reasoning

__all__ = ["PATTERN_NAMES", "extract_letter"]

# a letter must not run on into a word ("Because", "I'm"), and "I" followed by a verb is the
# pronoun ("Answer: I think it is B") -- TruthfulQA's 13-option questions have an option I
_NOT_LETTER = (
    r"(?![A-Za-z'’])"
    r"(?!(?<=I)\s+(?:am|think|believe|would|will|have|guess|can|cannot|do|don't|need|choose|pick|select|chose|go)\b)"
)


@lru_cache(maxsize=64)
def _patterns(letters: str) -> list[tuple[str, re.Pattern[str]]]:
    L = "[" + re.escape(letters) + "]"
    open_ = r"[\(\[\{\*\s]*"
    return [
        (
            "answer_is",
            re.compile(
                r"(?i:answer)\s*(?:(?i:is|would be|should be|will be)\s*)?[:：=]?\s*"
                r"(?:(?i:option|choice)\s*)?" + open_ + "(" + L + ")" + _NOT_LETTER
            ),
        ),
        (
            "answer_zh",
            re.compile(
                r"(?:答案|正确答案|正确选项|最终答案|答)\s*(?:应该是|应该选|应为|应选|是|为|选)?\s*[:：]?\s*"
                r"(?:选项\s*)?"
                + open_
                + "("
                + L
                + ")"
                + _NOT_LETTER
                + r"|(?:故|所以|因此|应|我)\s*选\s*(?:择\s*)?"
                + open_
                + "("
                + L
                + ")"
                + _NOT_LETTER
            ),
        ),
        (
            "is_correct",
            re.compile(
                r"(?<![A-Za-z])[\(\[]?("
                + L
                + r")[\)\]]?"
                + _NOT_LETTER
                + r"\s*(?:is|would be|should be|seems)\s+(?:the\s+)?(?:correct|right|best|true)(?![A-Za-z])"
            ),
        ),
        ("boxed", re.compile(r"\\boxed\{\s*(?:\\text(?:bf)?\{\s*)?\(?(" + L + r")\)?" + _NOT_LETTER)),
        ("bold", re.compile(r"\*\*\s*[\(\[]?(" + L + r")" + _NOT_LETTER + r"[\)\]]?")),
        ("lone", re.compile(r"^[\s\*\(\[\"'`]*(" + L + r")[\s\*\)\]\.\"'`:：。]*$")),
        ("leading", re.compile(r"^\s*[\(\[]?(" + L + r")(?:[\)\]][\s\.:：]*|[\.:：、][\s]*)\S")),
        (
            "option",
            re.compile(
                r"(?:(?i:option|choice)(?:\s+(?i:is))?|(?i:go(?:ing)? with|choose|pick|select)|选项|选)\s*[\(\[]?("
                + L
                + r")"
                + _NOT_LETTER
            ),
        ),
    ]


PATTERN_NAMES = (
    "answer_is",
    "answer_zh",
    "is_correct",
    "boxed",
    "bold",
    "lone",
    "leading",
    "option",
    "choice_text",
)


def _norm_text(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .。")


def _last_group(pattern: re.Pattern[str], text: str) -> str | None:
    found = None
    for m in pattern.finditer(text):
        found = next(g for g in m.groups() if g)
    return found


def extract_letter(
    text: str | None,
    letters: Sequence[str] = "ABCD",
    choices: Sequence[str] | None = None,
) -> tuple[str | None, str]:
    """Return ``(letter, pattern_name)`` from a reply, or ``(None, "none")``.

    ``letters`` are the option letters of this question; ``choices`` their texts (for
    the ``choice_text`` fallback).
    """
    letters_s = "".join(letters)
    cleaned = unicodedata.normalize("NFKC", split_reasoning(text)[0].strip())
    if not cleaned:
        return None, "none"
    for name, pattern in _patterns(letters_s):
        if name == "lone":
            got = _last_group(pattern, cleaned)
            if got is None:
                lines = [ln for ln in cleaned.splitlines() if ln.strip()]
                got = _last_group(pattern, lines[-1]) if lines else None
        elif name == "leading":
            got = _last_group(pattern, cleaned.splitlines()[0] if cleaned else "")
        else:
            got = _last_group(pattern, cleaned)
        if got:
            return got, name
    if choices:
        out = _norm_text(cleaned)
        texts = [_norm_text(unicodedata.normalize("NFKC", str(c))) for c in choices]
        hits = [i for i, t in enumerate(texts) if t and t in out]
        hits = [i for i in hits if not any(j != i and texts[i] in texts[j] and texts[i] != texts[j] for j in hits)]
        if len(hits) == 1 and hits[0] < len(letters_s):
            return letters_s[hits[0]], "choice_text"
    return None, "none"
