"""End to end: `assay eval --datasets winogrande` through the CLI against the test server."""

from __future__ import annotations

import pytest
from assay.api import BenchmarkArgs
from assay_testserver.testing import cli_eval, rows_by
from assay_winogrande import Winogrande

pytestmark = pytest.mark.slow  # starts `assay` subprocesses


def test_winogrande_cli_exact_scores(test_server, datasets_dir, tmp_path) -> None:
    args = BenchmarkArgs(name="winogrande", dataset_dir=str(datasets_dir))
    s = list(Winogrande(args).load(args))[:12]

    def match(x):
        return "\n\n" + x.messages[-1]["content"].split("\n\n")[1] + "\n\n"  # the sentence, whole

    rules = [
        {"match": match(s[0]), "answer": f"ANSWER: {s[0].target}"},
        {"match": match(s[1]), "answer": f"ANSWER: {s[1].target}"},
        {"match": match(s[2]), "answer": s[2].choices["AB".index(s[2].target)]},  # the option's text
        {"match": match(s[3]), "answer": f"ANSWER: {'B' if s[3].target == 'A' else 'A'}"},  # wrong
        {"match": match(s[4]), "answer": "ANSWER: C"},  # malformed: not an option
    ]
    srv = test_server(rules=rules, default_answer="It depends.")
    _, report = cli_eval("winogrande", api_url=srv.url, datasets_dir=datasets_dir, work_dir=tmp_path, limit=12)
    row = rows_by(report)[("default", "default")]
    assert row["score"] == pytest.approx(3 / 12) and row["num"] == 12
    assert len(srv.requests) == 12
