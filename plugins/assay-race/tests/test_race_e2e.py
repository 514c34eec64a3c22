"""End to end: `assay eval --datasets race` through the CLI against the test server."""

from __future__ import annotations

import pytest
from assay.api import BenchmarkArgs
from assay_testserver.testing import cli_eval, rows_by
from assay_race import RACE

pytestmark = pytest.mark.slow  # starts `assay` subprocesses


def test_race_cli_exact_scores(test_server, datasets_dir, tmp_path) -> None:
    args = BenchmarkArgs(name="race", dataset_dir=str(datasets_dir))
    s = list(RACE(args).load(args))[:12]

    def match(x):
        return "\nQuestion:\n" + x.messages[-1]["content"].split("\nQuestion:\n", 1)[1]  # question and options

    def wrong(x):
        return "ABCD"[("ABCD".index(x.target) + 1) % 4]

    rules = [
        {"match": match(s[0]), "answer": f"The article says so.\nANSWER: {s[0].target}"},
        {"match": match(s[1]), "answer": f"ANSWER: {s[1].target}"},
        {"match": match(s[2]), "answer": f"<think>hmm</think>The answer is ({s[2].target})."},
        {"match": match(s[3]), "answer": f"ANSWER: {s[3].target}"},
        {"match": match(s[4]), "answer": f"ANSWER: {wrong(s[4])}"},  # wrong
        {"match": match(s[5]), "answer": "ANSWER: F"},  # malformed: not an option
    ]
    srv = test_server(rules=rules, default_answer="The article does not say.")
    _, report = cli_eval("race", api_url=srv.url, datasets_dir=datasets_dir, work_dir=tmp_path, limit=12)
    row = rows_by(report)[("default", "middle")]
    assert row["score"] == pytest.approx(4 / 12) and row["num"] == 12
    assert len(srv.requests) == 12
