"""End to end: `assay eval` on the user's files through the CLI against the real test server."""

from __future__ import annotations

import pytest
from assay_testserver.testing import cli_eval, rows_by

pytestmark = pytest.mark.slow  # starts `assay` subprocesses


def test_general_mcq_cli(test_server, datasets_dir, tmp_path, mcq_set) -> None:
    root = mcq_set(tmp_path / "mine")
    rules = [
        {"match": "Which is a prime,\nnumber?", "answer": "The answer is (C)"},  # right
        {"match": 'Say "hi"', "answer": "C"},  # not an option of this 2-option question
        {"match": "Largest planet?", "answer": "Jupiter"},  # right, by option text
        {"match": "Five options?", "answer": "**E**"},  # right, 5th option
    ]
    srv = test_server(rules=rules, default_answer="?")
    _, report = cli_eval(
        "general_mcq",
        api_url=srv.url,
        datasets_dir=datasets_dir,
        work_dir=tmp_path / "runs",
        dataset_args={"local_path": str(root), "few_shot_num": 1},
    )
    rows = rows_by(report)
    # expected from the rules: example 2 of 3, more 1 of 2 ("No id" gets the default reply)
    assert rows[("default", "example")]["score"] == pytest.approx(2 / 3)
    assert rows[("default", "more")]["score"] == pytest.approx(1 / 2)
    assert rows[("-", "OVERALL")]["score"] == pytest.approx(3 / 5)
