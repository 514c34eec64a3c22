"""End to end: `assay eval` through the CLI against the real test server, exact scores."""

from __future__ import annotations

import pytest
from assay.api import BenchmarkArgs
from assay_cmmlu import CMMLU
from assay_testserver.testing import cli_eval, rows_by

pytestmark = pytest.mark.slow  # starts `assay` subprocesses

WRONG = {"A": "B", "B": "C", "C": "D", "D": "A"}


def _items(datasets_dir, subject, n):
    args = BenchmarkArgs(name="cmmlu", dataset_dir=str(datasets_dir))
    return CMMLU(args).read_items(datasets_dir / "cmmlu", subject, "test")[:n]


def _match(item) -> str:
    return f"题目：{item.question.strip()}\nA. {item.choices[0].strip()}"


def test_cmmlu_cli_scores_by_subset_and_category(test_server, datasets_dir, tmp_path) -> None:
    ag = _items(datasets_dir, "agronomy", 3)  # Other
    ac = _items(datasets_dir, "ancient_chinese", 3)  # Social Science (China specific)
    st = _items(datasets_dir, "astronomy", 3)  # STEM
    rules = [
        {"match": _match(ag[0]), "answer": f"答案是：{ag[0].target}"},
        {"match": _match(ag[1]), "answer": f"{ag[1].target}. {ag[1].choices[ag[1].answer]}"},  # agronomy 2/3
        {"match": _match(ac[0]), "answer": f"答案：{WRONG[ac[0].target]}"},
        {
            "match": _match(ac[1]),
            "answer": f"<think>也许是{WRONG[ac[1].target]}</think>答案是{ac[1].target}",
        },  # 1/3
        {"match": _match(st[0]), "answer": f"**{st[0].target}**"},
        {"match": _match(st[1]), "answer": f"\\boxed{{{st[1].target}}}"},
        {"match": _match(st[2]), "answer": f"选项{st[2].target}"},  # astronomy 3/3
    ]
    srv = test_server(rules=rules, default_answer="无法判断")
    _, report = cli_eval(
        "cmmlu",
        api_url=srv.url,
        datasets_dir=datasets_dir,
        work_dir=tmp_path,
        limit=3,
        dataset_args={"subset_list": ["agronomy", "ancient_chinese", "astronomy"]},
    )
    rows = rows_by(report)
    # expected figures follow from the rules; the rest get the unparseable default
    assert rows[("Other", "agronomy")]["score"] == pytest.approx(2 / 3)
    assert rows[("Social Science", "ancient_chinese")]["score"] == pytest.approx(1 / 3)
    assert rows[("STEM", "astronomy")]["score"] == pytest.approx(3 / 3)
    # ancient_chinese is also in the official "China specific" group: its own category row
    for cat, want in (("Other", 2 / 3), ("Social Science", 1 / 3), ("STEM", 1.0), ("China specific", 1 / 3)):
        assert rows[(cat, "OVERALL")]["score"] == pytest.approx(want)
    assert rows[("-", "OVERALL")]["score"] == pytest.approx(6 / 9) and rows[("-", "OVERALL")]["num"] == 9
