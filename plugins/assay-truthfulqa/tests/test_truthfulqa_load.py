"""TruthfulQA: answer formatting, both modes on the real CSV, MC1/MC2 arithmetic, discovery."""

from __future__ import annotations

import csv
import math
from importlib import metadata

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.events import Generated, SampleLoaded
from assay.plugins import PluginHost
from assay_truthfulqa import QA_PRIMER, TruthfulQA, TruthfulQAScorer, format_best, split_multi_answer


def _load(datasets_dir, **kw):
    args = BenchmarkArgs(name="truthful_qa", dataset_dir=str(datasets_dir), **kw)
    return list(TruthfulQA(args).load(args))


def _csv(datasets_dir):
    with open(datasets_dir / "truthfulqa" / "TruthfulQA.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_official_answer_formatting() -> None:
    assert format_best(" Nothing happens ") == "Nothing happens."
    assert split_multi_answer("You die; You get sick.;  ") == ["You die.", "You get sick."]


def test_generation_mode_mc1_on_the_real_csv(datasets_dir) -> None:
    samples = _load(datasets_dir)
    rows = _csv(datasets_dir)
    assert len(samples) == 817 == len(rows)  # truthfulqa/SOURCE.md
    s, r = samples[0], rows[0]
    wrong = split_multi_answer(r["Incorrect Answers"])
    assert len(s.choices) == 1 + len(wrong)  # best answer + every incorrect answer
    assert s.choices[ord(s.target) - 65] == format_best(r["Best Answer"])  # the target letter points at the best answer
    assert sorted(s.choices) == sorted([format_best(r["Best Answer"]), *wrong])
    assert s.messages[-1]["content"].startswith(f"Q: {r['Question']}\nA. ")
    # the shuffle is seeded: same seed same order, and the best answer is not always A
    assert [x.target for x in _load(datasets_dir)] == [x.target for x in samples]
    assert len({x.target for x in samples}) > 3
    assert max(len(x.choices) for x in samples) == 13  # up to 12 incorrect answers in the CSV


def test_loglikelihood_mode_layout(datasets_dir) -> None:
    s = _load(datasets_dir, extra={"mcq_mode": "loglikelihood"})[0]
    r = _csv(datasets_dir)[0]
    true, false = split_multi_answer(r["Correct Answers"]), split_multi_answer(r["Incorrect Answers"])
    assert s.prompt == f"{QA_PRIMER}\n\nQ: {r['Question']}\nA:"
    assert s.choices == [" " + a for a in true + false]
    assert s.metadata["n_true"] == len(true) and true[s.metadata["best_index"]] == format_best(r["Best Answer"])


def test_mc1_mc2_arithmetic() -> None:
    sample = SampleLoaded(
        sample_id="t/m/0",
        benchmark="t",
        choices=[" a", " b", " c", " d"],
        target="a.",
        metadata={"mode": "loglikelihood", "n_true": 2, "best_index": 1},
    )
    # true lps [-1, -2] (best = -2), false lps [-1.5, -3]: best -2 < max false -1.5 -> mc1 0
    # mc2 = (e^-1 + e^-2) / (e^-1 + e^-2 + e^-1.5 + e^-3), computed by hand below
    out = {
        s.metric: s.value
        for s in TruthfulQAScorer().score(
            sample, Generated(sample_id="t/m/0", model="m", choice_logprobs=[-1.0, -2.0, -1.5, -3.0])
        )
    }
    want = (math.exp(-1) + math.exp(-2)) / (math.exp(-1) + math.exp(-2) + math.exp(-1.5) + math.exp(-3))
    assert out == {"mc1": 0.0, "mc2": pytest.approx(want)}
    out = {
        s.metric: s.value
        for s in TruthfulQAScorer().score(
            sample, Generated(sample_id="t/m/0", model="m", choice_logprobs=[-900.0, -1.0, -1.5, -800.0])
        )
    }
    assert out["mc1"] == 1.0 and out["mc2"] == pytest.approx(1 / (1 + math.exp(-0.5)))  # stable at large magnitudes
    with pytest.raises(ValueError, match="no log-likelihoods"):
        TruthfulQAScorer().score(sample, Generated(sample_id="t/m/0", model="m", output="a"))


def test_errors(datasets_dir) -> None:
    with pytest.raises(AssayError, match="few_shot_num"):
        _load(datasets_dir, few_shot_num=3)
    with pytest.raises(AssayError, match="no subset 'mc2'"):
        _load(datasets_dir, subset_list=["mc2"])


def test_discovery() -> None:
    host = PluginHost()
    [p] = [p for p in host.loaded if p.name == "truthfulqa"]
    assert (p.distribution, p.version) == ("assay-truthfulqa", metadata.version("assay-truthfulqa"))
    assert host.benchmarks()["truthful_qa"].distribution == "assay-truthfulqa"
    assert host.scorers()["truthfulqa_mc"].distribution == "assay-truthfulqa"
