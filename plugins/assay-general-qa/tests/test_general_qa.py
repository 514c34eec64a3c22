"""general_qa: the user's own JSONL files, scored by exact match, BLEU and ROUGE.

Expected BLEU/ROUGE figures are worked out by hand from the n-gram counts in the comments.
"""

from __future__ import annotations

import json

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.events import Generated, SampleLoaded
from assay.plugins import PluginHost
from assay_general_qa.benchmark import GeneralQA
from assay_general_qa.scoring import BleuScorer, ExactMatchScorer, RougeScorer
from assay_testserver.testing import run_dirs


def test_plugin_is_discovered():
    host = PluginHost()
    (p,) = [p for p in host.loaded if p.name == "general_qa"]
    assert p.distribution == "assay-general-qa" and p.version == "0.1.0"
    assert "general_qa" in host.benchmarks()
    assert {"qa_exact_match", "qa_bleu", "qa_rouge"} <= set(host.scorers())


def _scores(target, output):
    s = SampleLoaded(sample_id="general_qa/x/1", benchmark="general_qa", target=target)
    g = Generated(sample_id=s.sample_id, model="m", output=output)
    return {
        sc.metric: sc.value for scorer in (ExactMatchScorer(), BleuScorer(), RougeScorer()) for sc in scorer.score(s, g)
    }


def test_scores_by_hand():
    got = _scores("the cat sat on the mat", "the cat sat on a mat")
    assert got["exact_match"] == 0.0
    # 1..4-gram precisions 5/6, 3/5, 2/4, 1/3; equal lengths, so no brevity penalty
    assert got["bleu"] == pytest.approx((5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25, abs=1e-4)
    # unigram overlap 5 of 6 both ways; bigram overlap 3 of 5; LCS 5 of 6
    assert got["rouge1"] == pytest.approx(5 / 6)
    assert got["rouge2"] == pytest.approx(3 / 5)
    assert got["rougeL"] == pytest.approx(5 / 6)
    same = _scores("Paris is the capital.", "  Paris is   the capital. ")
    assert same == {"exact_match": 1.0, "bleu": pytest.approx(1.0), "rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}
    assert _scores("yes", "no") == {"exact_match": 0.0, "bleu": 0.0, "rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}


def test_chinese_is_scored_by_characters():
    # rouge-score's own tokenizer drops CJK; here each character is a token
    got = _scores("北京是首都", "首都是北京")
    assert got["rouge1"] == 1.0  # same 5 characters
    # bigrams: reference 北京 京是 是首 首都, answer 首都 都是 是北 北京: 2 of 4 shared
    assert got["rouge2"] == pytest.approx(2 / 4)
    assert got["exact_match"] == 0.0


def test_reasoning_is_stripped():
    assert _scores("42", "<think>maybe 41</think>42")["exact_match"] == 1.0


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_loading_query_and_messages_files(tmp_path):
    _write(
        tmp_path / "arith.jsonl",
        [{"query": "1+1?", "response": "2"}, {"system": "Be terse.", "query": "2+2?", "response": "4"}],
    )
    _write(
        tmp_path / "chat.jsonl",
        [
            {
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello"},
                    {"role": "user", "content": "Capital of France?"},
                ],
                "response": "Paris",
            }
        ],
    )
    args = BenchmarkArgs(name="general_qa", local_path=str(tmp_path))
    samples = list(GeneralQA(args).load(args))
    assert [(s.subset, s.id, s.target) for s in samples] == [
        ("arith", "1", "2"),
        ("arith", "2", "4"),
        ("chat", "1", "Paris"),
    ]
    assert samples[1].messages == [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "2+2?"}]
    assert len(samples[2].messages) == 3
    one = BenchmarkArgs(name="general_qa", local_path=str(tmp_path), subset_list=["chat"])
    assert [s.subset for s in GeneralQA(one).load(one)] == ["chat"]


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(AssayError, match="local_path"):
        GeneralQA(BenchmarkArgs(name="general_qa"))
    _write(tmp_path / "a.jsonl", [{"query": "q", "response": "r"}, {"query": "q2"}])
    args = BenchmarkArgs(name="general_qa", local_path=str(tmp_path))
    with pytest.raises(AssayError, match=r"a.jsonl:2: missing string key 'response'"):
        list(GeneralQA(args).load(args))
    _write(tmp_path / "a.jsonl", [{"question": "q", "response": "r"}])
    with pytest.raises(AssayError, match=r"a.jsonl:1: needs 'query' or 'messages'"):
        list(GeneralQA(args).load(args))
    bad = BenchmarkArgs(name="general_qa", local_path=str(tmp_path), subset_list=["nope"])
    with pytest.raises(AssayError, match=r"no file for subset\(s\) \['nope'\]"):
        list(GeneralQA(bad).load(bad))


def test_eval_against_the_http_server(tmp_path, test_server):
    data = tmp_path / "qa"
    data.mkdir()
    _write(
        data / "capitals.jsonl",
        [
            {"query": "Capital of France?", "response": "Paris"},
            {"query": "Capital of Japan?", "response": "Tokyo"},
            {"query": "Capital of Italy?", "response": "Rome"},
            {"query": "Capital of Spain?", "response": "Madrid"},
        ],
    )
    _write(data / "sentences.jsonl", [{"query": "Describe the cat.", "response": "the cat sat on the mat"}])
    srv = test_server(
        rules=[
            {"match": "Capital of France?", "answer": "Paris"},
            {"match": "Capital of Japan?", "answer": "<think>Kyoto?</think>Tokyo"},
            {"match": "Capital of Italy?", "answer": "Milan"},
            {"match": "Describe the cat.", "answer": "the cat sat on a mat"},
        ],
        default_answer="I do not know",
    )
    from assay.cli import main

    work = tmp_path / "out"
    assert (
        main(
            [
                "eval",
                "--model",
                "m",
                "--api-url",
                srv.url,
                "--api-key",
                "EMPTY",
                "--datasets",
                "general_qa",
                "--dataset-args",
                json.dumps({"general_qa": {"local_path": str(data)}}),
                "--work-dir",
                str(work),
                "--no-progress",
            ]
        )
        == 0
    )
    (run,) = run_dirs(work)
    rows = json.loads((run / "report.json").read_text())["rows"]
    got = {(r["subset"], r["metric"]): (r["num"], r["score"]) for r in rows}
    assert got[("capitals", "exact_match")] == (4, 0.5)  # Paris, Tokyo right; Milan, "I do not know" wrong
    assert got[("capitals", "rouge1")] == (4, 0.5)  # one-word answers: rouge1 is 1 or 0
    assert got[("sentences", "exact_match")] == (1, 0.0)
    assert got[("sentences", "rouge2")][1] == pytest.approx(3 / 5)
    assert got[("sentences", "bleu")][1] == pytest.approx((5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25, abs=1e-4)
    assert got[("OVERALL", "exact_match")] == (5, pytest.approx(2 / 5))
