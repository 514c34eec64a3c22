"""Answer-letter extraction: every documented pattern, the traps, real option texts."""

from __future__ import annotations

import pytest
from assay.text import split_reasoning
from assay_mcq import extract_letter, read_csv

ABCD = "ABCD"


@pytest.mark.parametrize(
    ("reply", "letter", "pattern"),
    [
        ("The answer is (C)", "C", "answer_is"),
        ("ANSWER: B", "B", "answer_is"),
        ("Let me think... the correct answer is: **D**.", "D", "answer_is"),
        ("The final answer is B.", "B", "answer_is"),
        ("Answer: A) Paris", "A", "answer_is"),
        ("A is tempting, but the answer is not A. The answer is C", "C", "answer_is"),  # last statement wins
        ("答案是B", "B", "answer_zh"),
        ("正确答案为（C）", "C", "answer_zh"),  # full-width parentheses
        ("答案：Ｄ", "D", "answer_zh"),  # full-width letter and colon (NFKC)
        ("分析略，故选A。", "A", "answer_zh"),
        ("B is correct.", "B", "is_correct"),
        ("Looking at it again, (C) is the right answer", "C", "is_correct"),
        ("\\boxed{C}", "C", "boxed"),
        ("So we get \\boxed{\\text{B}}", "B", "boxed"),
        ("I pick **B** here.", "B", "bold"),
        ("**(D)**", "D", "bold"),
        ("B", "B", "lone"),
        ("(C)", "C", "lone"),
        (" D. ", "D", "lone"),
        ("Reasoning about options first.\nA", "A", "lone"),  # the last line alone
        ("B. Paris is the capital", "B", "leading"),
        ("C) 12", "C", "leading"),
        ("I would go with option D", "D", "option"),
        ("The correct option is A", "A", "option"),
        ("I'm going with B", "B", "option"),
        ("选C", "C", "option"),
        ("Paris", "B", "choice_text"),
        ("It must be paris , of course", "B", "choice_text"),
    ],
)
def test_patterns(reply: str, letter: str, pattern: str) -> None:
    assert extract_letter(reply, ABCD, ["London", "Paris", "Rome", "Berlin"]) == (letter, pattern)


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "I don't know.",
        "The answer is a mystery to me",  # a lower-case article is not a letter
        "Because of that, nothing.",  # capital letters inside words never count
        "The answer is E",  # E is not an option of a 4-choice question
        "London or Paris",  # two option texts: ambiguous
        "<think>The answer is B</think>",  # only reasoning, no answer after it
    ],
)
def test_no_answer(reply: str) -> None:
    assert extract_letter(reply, ABCD, ["London", "Paris", "Rome", "Berlin"]) == (None, "none")


def test_reasoning_is_stripped_before_extraction() -> None:
    reply = "<think>Option A looks right. The answer is A.</think>\nThe answer is (D)."
    assert split_reasoning(reply)[0] == "The answer is (D)."
    assert extract_letter(reply, ABCD) == ("D", "answer_is")
    # the opening tag came with the chat template: only the text after </think> counts
    assert extract_letter("so it is A... wait.</think>**C**", ABCD) == ("C", "bold")
    # reasoning never closed: graded as written (lm-eval's think_end_token, EvalScope's remove_until)
    assert extract_letter("<think>The answer is B, probably", ABCD) == ("B", "answer_is")


def test_the_pronoun_i_is_not_option_i() -> None:
    # TruthfulQA questions have up to 13 options (A-M), so "I" is a letter there
    letters = "ABCDEFGHIJKLM"
    assert extract_letter("Answer: I think it could be anything", letters) == (None, "none")
    assert extract_letter("I'm not sure", letters) == (None, "none")
    assert extract_letter("I am confident the answer is I.", letters) == ("I", "answer_is")
    assert extract_letter("I", letters) == ("I", "lone")


def test_letters_follow_the_number_of_choices() -> None:
    # ARC has 3- and 5-choice questions (see test_arc_*): E is valid only with 5 choices
    assert extract_letter("The answer is E", "ABCDE") == ("E", "answer_is")
    assert extract_letter("The answer is D", "ABC") == (None, "none")
    assert extract_letter("D", "ABC") == (None, "none")


def test_longer_option_text_wins_over_its_substring() -> None:
    assert extract_letter("Paris, Texas", "AB", ["Paris", "Paris, Texas"]) == ("B", "choice_text")


def test_real_mmlu_option_texts(datasets_dir) -> None:
    # every option of the first 40 anatomy test rows, answered by its text alone, maps back
    # to its own letter unless another option's text is contained in it or equal to it
    path = datasets_dir / "mmlu" / "test" / "anatomy_test.csv"
    checked = 0
    for _, row in list(read_csv(path, columns=6))[:40]:
        choices = row[1:5]
        for i, text in enumerate(choices):
            norm = [" ".join(c.casefold().split()) for c in choices]
            if any(j != i and (norm[j] in norm[i] or norm[i] in norm[j]) for j in range(4)):
                continue
            got, how = extract_letter(text, ABCD, choices)
            if how == "choice_text":
                assert got == ABCD[i], (text, choices)
                checked += 1
    assert checked > 100  # 160 options minus the ambiguous ones and ones that read as a letter pattern
