"""End to end: `assay eval` through the CLI against the real test server, exact scores.

The dev split's first 40 rows hold a numeric-key question (ARC-Easy-Dev line 9), a
5-choice one (ARC-Easy-Dev line 18) and a 3-choice one (ARC-Challenge-Dev line 36).
"""

from __future__ import annotations

import pytest
from assay.api import BenchmarkArgs
from assay_arc import ARC
from assay_testserver.testing import cli_eval, rows_by

pytestmark = pytest.mark.slow  # starts `assay` subprocesses


def _items(datasets_dir, subset):
    args = BenchmarkArgs(name="arc", dataset_dir=str(datasets_dir))
    return ARC(args).read_items(datasets_dir / "arc", subset, "dev")[:40]


def _match(item) -> str:
    return f"Question: {item.question.strip()}\nA. {item.choices[0].strip()}"


def test_arc_cli_numeric_keys_and_3_5_choices(test_server, datasets_dir, tmp_path) -> None:
    easy, chal = _items(datasets_dir, "ARC-Easy"), _items(datasets_dir, "ARC-Challenge")
    num, five, three = easy[8], easy[17], chal[35]
    assert num.extra["labels"] == ["1", "2", "3", "4"] and len(five.choices) == 5 and len(three.choices) == 3
    rules = [
        {"match": _match(num), "answer": f"The answer is ({num.target})"},  # key "1" -> A
        {"match": _match(five), "answer": f"**{five.target}**"},
        {"match": _match(easy[0]), "answer": easy[0].target},
        {"match": _match(easy[1]), "answer": "ABCD"[(easy[1].answer + 1) % 4]},  # wrong
        {"match": _match(three), "answer": f"{three.target}. {three.choices[three.answer]}"},
        {"match": _match(chal[0]), "answer": "The answer is E"},  # not an option of a 4-choice question
    ]
    srv = test_server(rules=rules, default_answer="I am not sure.")
    _, report = cli_eval(
        "arc",
        api_url=srv.url,
        datasets_dir=datasets_dir,
        work_dir=tmp_path,
        limit=40,
        dataset_args={"eval_split": "dev"},
        extra=["--eval-batch-size", "8"],
    )
    rows = rows_by(report)
    # expected: ARC-Easy 3 right of 40, ARC-Challenge 1 of 40 (every other reply unparseable)
    assert (
        rows[("default", "ARC-Easy")]["score"] == pytest.approx(3 / 40) and rows[("default", "ARC-Easy")]["num"] == 40
    )
    assert rows[("default", "ARC-Challenge")]["score"] == pytest.approx(1 / 40)
    assert rows[("-", "OVERALL")]["score"] == pytest.approx(4 / 80)
    assert len(srv.requests) == 80
