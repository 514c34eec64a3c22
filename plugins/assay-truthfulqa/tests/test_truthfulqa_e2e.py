"""End to end: MC1 through the CLI against the real test server; MC1/MC2 with log-likelihoods."""

from __future__ import annotations

import math

import pytest
from assay.api import BenchmarkArgs
from assay_testserver.testing import cli_eval, bodies, rows_by
from assay_truthfulqa import TruthfulQA

pytestmark = pytest.mark.slow  # starts `assay` subprocesses


def test_truthfulqa_generation_mc1(test_server, datasets_dir, tmp_path) -> None:
    args = BenchmarkArgs(name="truthful_qa", dataset_dir=str(datasets_dir))
    samples = list(TruthfulQA(args).load(args))[:6]

    def match(s):
        return s.messages[-1]["content"].split("\nB. ")[0]  # "Q: <question>\nA. <first option>"

    def wrong(s):
        return "A" if s.target != "A" else "B"

    rules = [
        {"match": match(samples[0]), "answer": f"The answer is ({samples[0].target})"},
        {"match": match(samples[1]), "answer": samples[1].target},
        {
            "match": match(samples[2]),
            "answer": samples[2].choices[ord(samples[2].target) - 65],
        },  # the best answer's text
        {"match": match(samples[3]), "answer": f"The answer is ({wrong(samples[3])})"},
        {"match": match(samples[4]), "answer": "None of these."},
    ]
    srv = test_server(rules=rules, default_answer="I have no comment")
    run_dir, report = cli_eval("truthful_qa", api_url=srv.url, datasets_dir=datasets_dir, work_dir=tmp_path, limit=6)
    rows = rows_by(report, "mc1")
    # expected from the rules: 3 right of 6 (sample 5 gets the default reply)
    assert rows[("default", "multiple_choice")]["score"] == pytest.approx(3 / 6)
    assert not rows_by(report, "mc2")  # generation mode reports MC1 only
    assert all("MC1 only" in e["explanation"] for e in bodies(run_dir, "Scored"))


def test_truthfulqa_loglikelihood_mc1_mc2_with_the_mock_backend(datasets_dir, tmp_path) -> None:
    _, report = cli_eval(
        "truthful_qa",
        api_url=None,
        datasets_dir=datasets_dir,
        work_dir=tmp_path,
        limit=8,
        dataset_args={"mcq_mode": "loglikelihood"},
    )
    run_dir = next(tmp_path.iterdir())
    loaded = {e["sample_id"]: e for e in bodies(run_dir, "SampleLoaded")}
    mc1, mc2 = [], []
    for g in bodies(run_dir, "Generated"):
        md, lps = loaded[g["sample_id"]]["metadata"], g["choice_logprobs"]
        t, f = lps[: md["n_true"]], lps[md["n_true"] :]
        mc1.append(float(t[md["best_index"]] > max(f)))
        mc2.append(sum(math.exp(x) for x in t) / sum(math.exp(x) for x in lps))
    # recomputed from the logged log-likelihoods with the official formulas
    assert rows_by(report, "mc1")[("default", "multiple_choice")]["score"] == pytest.approx(sum(mc1) / 8)
    assert rows_by(report, "mc2")[("default", "multiple_choice")]["score"] == pytest.approx(sum(mc2) / 8)
