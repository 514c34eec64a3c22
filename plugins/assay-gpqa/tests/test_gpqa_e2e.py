"""End to end: `assay eval --datasets gpqa_diamond` through the CLI against the test server."""

from __future__ import annotations

import pytest
from assay.api import BenchmarkArgs
from assay_gpqa import GPQADiamond
from assay_testserver.testing import cli_eval, bodies, rows_by

pytestmark = pytest.mark.slow  # starts `assay` subprocesses


def test_gpqa_cli_exact_scores(test_server, datasets_dir, tmp_path) -> None:
    args = BenchmarkArgs(name="gpqa_diamond", dataset_dir=str(datasets_dir))
    s = list(GPQADiamond(args).load(args))[:10]

    def match(x):
        return x.messages[-1]["content"].split("\n\n")[1]  # the question text

    def wrong(x):
        return "ABCD"[("ABCD".index(x.target) + 1) % 4]

    rules = [
        {"match": match(s[0]), "answer": f"Reasoning...\nANSWER: {s[0].target}"},
        {"match": match(s[1]), "answer": f"The answer is ({s[1].target})"},
        {"match": match(s[2]), "answer": f"<think>A or B?</think>\nANSWER: {s[2].target}"},
        {"match": match(s[3]), "answer": f"ANSWER: {wrong(s[3])}"},  # wrong
        {"match": match(s[4]), "answer": "ANSWER: E"},  # malformed: not an option
    ]
    srv = test_server(rules=rules, default_answer="I am not sure.")
    run_dir, report = cli_eval("gpqa_diamond", api_url=srv.url, datasets_dir=datasets_dir, work_dir=tmp_path, limit=10)
    row = rows_by(report)[("default", "default")]
    assert row["score"] == pytest.approx(3 / 10) and row["num"] == 10
    assert len(srv.requests) == 10
    loaded = bodies(run_dir, "SampleLoaded")
    assert [e["metadata"]["permutation"] for e in loaded] == [x.metadata["permutation"] for x in s]
