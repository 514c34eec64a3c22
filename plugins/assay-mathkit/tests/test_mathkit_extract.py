"""assay_mathkit: boxed-answer extraction, math equivalence, AIME integers, pass@k.

Figures come from the real files in the shared datasets (MATH-500 solutions and answers,
AIME 2024 AoPS solutions) or are worked out by hand in the comments.
"""

from __future__ import annotations

import json

import pytest
from assay.api import AssayError
from assay_mathkit import extract_aime_integer, last_boxed, math_equal, pass_at_k, read_jsonl


def _rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_last_boxed_of_every_math500_solution_is_equivalent_to_its_answer(datasets_dir):
    rows = _rows(datasets_dir / "math500" / "test.jsonl")
    assert len(rows) == 500  # SOURCE.md: 500 rows
    nested = [r for r in rows if "{" in r["answer"]]
    assert len(nested) > 50  # answers like \frac{3\sqrt{3}}{4}: nested braces are the common case
    for r in rows:
        boxed = last_boxed(r["solution"])
        assert boxed is not None, r["unique_id"]
        assert math_equal(boxed, r["answer"]), (r["unique_id"], boxed, r["answer"])


def test_math_verify_parses_the_real_answers_written_another_way(datasets_dir):
    rows = _rows(datasets_dir / "math500" / "test.jsonl")
    # answers with spaces or currency signs, rewritten (spaces removed, "\\$" dropped) so the
    # string shortcut cannot hide a gold answer that math-verify fails to parse
    picked = [r for r in rows if " " in r["answer"] or "\\$" in r["answer"]]
    assert len(picked) >= 40
    for r in picked:
        other = r["answer"].replace(" ", "").replace("\\$", "")
        assert other != r["answer"]
        assert math_equal(other, r["answer"]), (r["unique_id"], r["answer"])
    # currency answers: test/algebra/2626.json is \$32,\!348
    money = next(r["answer"] for r in rows if r["unique_id"] == "test/algebra/2626.json")
    assert math_equal("32348", money) and not math_equal("32349", money)


def test_last_boxed_tricky_forms():
    # real answer test/precalculus/499.json, nested three deep, inside a sentence
    assert last_boxed(r"so the range is $\boxed{\left[ \frac{\pi^2}{8}, \frac{5 \pi^2}{4} \right]}$.") == (
        r"\left[ \frac{\pi^2}{8}, \frac{5 \pi^2}{4} \right]"
    )
    assert last_boxed(r"first \boxed{1} then \boxed{\frac{a}{b^{2}}}") == r"\frac{a}{b^{2}}"  # the last one wins
    assert last_boxed(r"\boxed{\{1, 2\}}") == r"\{1, 2\}"  # escaped braces do not close the group
    assert last_boxed(r"$\boxed 5$.") == "5"
    assert last_boxed(r"\fbox{7}") == "7"
    assert last_boxed(r"\boxed{unbalanced") is None
    assert last_boxed("no box here") is None


@pytest.mark.parametrize(
    ("pred", "gold", "equal"),
    [
        (r"(3,\pi/2)", r"\left( 3, \frac{\pi}{2} \right)", True),  # test/precalculus/807.json written another way
        ("0.5", r"\frac{1}{2}", True),
        (r"\dfrac14", r"\frac14", True),
        (r"\frac{\sqrt2}{2}", r"\frac{\sqrt{2}}{2}", True),
        ("6 - 5i", "6-5i", True),
        (r"\text{Evelyn}", r"\text{Evelyn}", True),
        ("2", "3", False),
        (r"(-2,7]", r"[-2,7]", False),  # open and closed intervals differ
        (r"\frac{14}{3}", "4.67", False),  # a rounded decimal is not the fraction
        ("", "3", False),
    ],
)
def test_math_equal(pred, gold, equal):
    assert math_equal(pred, gold) is equal


def test_aime_integer_from_real_aops_solutions(datasets_dir):
    rows = _rows(datasets_dir / "aime24" / "test.jsonl")
    boxed = [r for r in rows if last_boxed(r["solution"]) is not None]
    assert len(boxed) == 29  # 29 of the 30 AoPS solutions end with a \boxed answer (row id 60 does not)
    for r in boxed:
        # their boxes hold forms like \textbf{(113) }, 104., \mathbf{127}, 025
        assert extract_aime_integer(r["solution"]) == int(r["answer"]), r["id"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r"\boxed{033}", 33),
        ("Thus the answer is 204.", 204),
        ("so x = 5 and y = 7", 7),  # fallback: the last number
        (r"\boxed{\frac12}", None),  # a box that holds no integer is no answer
        ("no digits", None),
    ],
)
def test_aime_integer_forms(text, value):
    assert extract_aime_integer(text) == value


def test_pass_at_k_by_hand():
    assert pass_at_k(4, 1, 1) == 0.25  # pass@1 = c/n
    assert pass_at_k(4, 1, 2) == 0.5  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(4, 0, 4) == 0.0
    assert pass_at_k(4, 2, 3) == 1.0  # n - c < k: every 3-subset holds a correct one
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)  # 1 - C(3,2)/C(5,2) = 1 - 3/10
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def test_read_jsonl_names_the_bad_line(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n\n{"a": \n', encoding="utf-8")
    with pytest.raises(AssayError, match=r"x.jsonl:3: invalid JSON"):
        read_jsonl(p)
