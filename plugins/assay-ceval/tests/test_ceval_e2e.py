"""End to end: `assay eval` through the CLI against the real test server, exact scores."""

from __future__ import annotations

import pytest
from assay.api import BenchmarkArgs
from assay_ceval import CEval
from assay_testserver.testing import cli_eval, bodies, rows_by

pytestmark = pytest.mark.slow  # starts `assay` subprocesses

WRONG = {"A": "B", "B": "C", "C": "D", "D": "A"}


def _items(datasets_dir, subject, n):
    args = BenchmarkArgs(name="ceval", dataset_dir=str(datasets_dir))
    return CEval(args).read_items(datasets_dir / "ceval", subject, "val")[:n]


def _match(item) -> str:
    return f"{item.question.strip()}\nA. {item.choices[0].strip()}"


def test_ceval_cli_scores_by_subset_and_category(test_server, datasets_dir, tmp_path) -> None:
    cn = _items(datasets_dir, "computer_network", 3)  # STEM
    os_ = _items(datasets_dir, "operating_system", 3)  # STEM
    law = _items(datasets_dir, "law", 4)  # Humanities
    rules = [
        {"match": _match(cn[0]), "answer": f"答案：{cn[0].target}"},
        {"match": _match(cn[1]), "answer": f"正确答案是（{cn[1].target}）"},
        {"match": _match(cn[2]), "answer": f"答案是{WRONG[cn[2].target]}"},  # computer_network 2/3
        {"match": _match(os_[0]), "answer": "不知道"},  # operating_system 0/3
        {"match": _match(law[0]), "answer": law[0].target},
        {"match": _match(law[1]), "answer": f"The answer is {law[1].target}"},
        {"match": _match(law[2]), "answer": f"故选{law[2].target}。"},  # law 3/4
    ]
    srv = test_server(rules=rules, default_answer="我不确定。")
    run_dir, report = cli_eval(
        "ceval",
        api_url=srv.url,
        datasets_dir=datasets_dir,
        work_dir=tmp_path,
        limit=4,
        dataset_args={"subset_list": ["computer_network", "operating_system", "law"]},
    )
    rows = rows_by(report)
    # expected figures follow from the rules; limit 4 per subset, every other reply unparseable
    assert rows[("STEM", "computer_network")]["score"] == pytest.approx(2 / 4)
    assert rows[("STEM", "operating_system")]["score"] == 0.0
    assert rows[("Humanities", "law")]["score"] == pytest.approx(3 / 4)
    assert rows[("STEM", "OVERALL")]["score"] == pytest.approx(2 / 8)
    assert rows[("Humanities", "OVERALL")]["score"] == pytest.approx(3 / 4)
    assert rows[("-", "OVERALL")]["score"] == pytest.approx(5 / 12) and rows[("-", "OVERALL")]["num"] == 12
    loaded = bodies(run_dir, "SampleLoaded")
    assert len(loaded) == 12 and all(e["messages"][0]["content"].count("\n答案：") == 6 for e in loaded)
