"""LongBench-Write: counts, prompts, the official word count and length score, bad rows, and
`assay eval` through the CLI against the test server.

Expected figures: 120 / 60 / 48 rows (longbench_write/SOURCE.md); the formula from
THUDM/LongWriter evaluation/eval_length.py, the count from pred.py; scores from replies of
known length (worked out by hand in the comments).
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.events import Generated, SampleLoaded
from assay.plugins import PluginHost
from assay_longbench_write.benchmark import SCORER, LongBenchWrite, count_words, length_score
from assay_testserver.testing import assay, bodies, cli_eval, report_items, rows_by, run_dirs


def _load(**kw):
    args = BenchmarkArgs(name="longbench_write", **kw)
    return list(LongBenchWrite(args).load(args))


def test_counts_and_subsets(datasets_dir) -> None:
    t0 = time.process_time()  # CPU seconds: wall time on the loaded 2-core box is noise
    s = _load(dataset_dir=str(datasets_dir))
    assert time.process_time() - t0 < 3.0
    assert len(s) == 120
    assert Counter(x.subset for x in s) == {"[0, 500)": 26, "[500, 2k)": 36, "[2k, 4k)": 31, "[4k, 20k]": 27}
    rows = [
        json.loads(line) for line in (datasets_dir / "longbench_write" / "longbench_write.jsonl").open(encoding="utf-8")
    ]
    assert sorted(x.metadata["source"].rsplit(":", 1)[1] for x in s) == sorted(str(i) for i in range(1, 121))
    first = s[0]
    assert first.messages == [{"role": "user", "content": rows[0]["prompt"]}] and first.target == 100
    by_type = _load(dataset_dir=str(datasets_dir), extra={"group_by": "type"})
    assert Counter(x.subset for x in by_type) == Counter(r["type"] for r in rows)
    assert len(_load(dataset_dir=str(datasets_dir), extra={"file": "longbench_write_en"})) == 60
    ruler = _load(dataset_dir=str(datasets_dir), extra={"file": "longwrite_ruler"})
    assert len(ruler) == 48


def test_ruler_buckets(datasets_dir) -> None:
    ruler = _load(dataset_dir=str(datasets_dir), extra={"file": "longwrite_ruler"})
    assert Counter(x.target for x in ruler) == {1000: 8, 2000: 8, 5000: 8, 10000: 8, 20000: 8, 30000: 8}
    assert {x.target for x in ruler if x.subset == "(20k, inf)"} == {30000}


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("Hello, world! It's 2024.", 4),  # Hello, world, It, s (digits are not words)
        ("对于雷锋精神的推文", 9),
        ("Mixed 中文 and English", 5),
        ("", 0),
    ],
)
def test_count_words(text, n) -> None:
    assert count_words(text) == n


def test_length_score_formula() -> None:
    assert length_score(100, 100) == 100.0
    assert length_score(100, 200) == pytest.approx(100 * (1 - 1 / 3))  # 1 - (2 - 1)/3
    assert length_score(100, 400) == 0.0  # 1 - (4 - 1)/3 = 0
    assert length_score(150, 50) == 0.0  # 1 - (3 - 1)/2 = 0
    assert length_score(200, 100) == 50.0  # 1 - (2 - 1)/2
    assert length_score(200, 0) == 0.0  # empty reply (the official script divides by zero)


def test_scorer_reads_after_think() -> None:
    s = SampleLoaded(sample_id="x", benchmark="longbench_write", target=100)
    out = "<think>" + "plan " * 500 + "</think>" + "word " * 100
    sc = SCORER.score(s, Generated(sample_id="x", model="m", output=out))[0]
    assert (sc.metric, sc.value, sc.extracted) == ("score_l", 1.0, 100)


def test_bad_rows_and_options(tmp_path, datasets_dir) -> None:
    d = tmp_path / "longbench_write"
    d.mkdir()
    (d / "longbench_write.jsonl").write_text(
        '{"prompt": "Write 100 words", "type": "News Report", "length": 100}\n'
        '{"prompt": "Write", "type": "News Report", "length": "100"}\n',
        encoding="utf-8",
    )
    with pytest.raises(
        AssayError, match=r"longbench_write\.jsonl:2: 'length' must be a positive whole number, got '100'"
    ):
        _load(dataset_dir=str(tmp_path))
    with pytest.raises(AssayError, match=r"file = 'ruler': expected one of"):
        _load(dataset_dir=str(datasets_dir), extra={"file": "ruler"})
    with pytest.raises(AssayError, match=r"no subset '\[0, 100\)' in group_by=length"):
        _load(dataset_dir=str(datasets_dir), subset_list=["[0, 100)"])
    with pytest.raises(AssayError, match=r"unknown key\(s\) 'files' \(did you mean 'file'\?\)"):
        _load(dataset_dir=str(datasets_dir), extra={"files": "x"})


def test_discovery() -> None:
    host = PluginHost()
    assert host.benchmarks()["longbench_write"].distribution == "assay-longbench-write"
    assert "longbench_write_length" in host.scorers()


@pytest.mark.slow
def test_cli_exact_length_scores(test_server, datasets_dir, tmp_path) -> None:
    s = _load(dataset_dir=str(datasets_dir))[:4]
    assert [x.target for x in s] == [100, 100, 150, 200]
    replies = [
        "word " * 100,  # 100 of 100: S_l 100
        "word " * 200,  # 200 of 100: 100 * (1 - 1/3) = 66.67
        "word " * 50,  # 50 of 150: 100 * max(0, 1 - 2/2) = 0
        "好" * 100,  # 100 Chinese characters of 200: 100 * (1 - 1/2) = 50
    ]
    srv = test_server(rules=[{"match": x.messages[0]["content"], "answer": r} for x, r in zip(s, replies)])
    run_dir, report = cli_eval(
        "longbench_write",
        api_url=srv.url,
        datasets_dir=datasets_dir,
        work_dir=tmp_path,
        limit=4,
        dataset_args={"subset_list": ["[0, 500)"]},
    )
    row = rows_by(report, "score_l")[("default", "[0, 500)")]
    assert row["num"] == 4
    assert row["score"] == pytest.approx((1 + 2 / 3 + 0 + 0.5) / 4)  # 0.5417: S_l 54.17
    got = {e["sample_id"].rsplit("/", 1)[1]: (e["value"], e["extracted"]) for e in bodies(run_dir, "Scored")}
    assert got == {
        "longbench_write-1": (1.0, 100),
        "longbench_write-2": (pytest.approx(2 / 3), 200),
        "longbench_write-3": (0.0, 50),
        "longbench_write-4": (0.5, 100),
    }


def test_parse_quality_verdicts() -> None:
    from assay_longbench_write.benchmark import DIMS, parse_dimensions

    full = {"Analysis": "fine", **dict.fromkeys(DIMS, 4)}
    assert parse_dimensions(json.dumps(full)) == dict.fromkeys(DIMS, 4.0)
    fenced = "Analysis first.\n```json\n" + json.dumps(full, indent=1) + "\n```"  # newlines inside are removed
    assert parse_dimensions(fenced) == dict.fromkeys(DIMS, 4.0)
    assert parse_dimensions(json.dumps({**full, "Clarity": 6})) is None  # outside 1-5
    assert parse_dimensions(json.dumps({k: v for k, v in full.items() if k != "Coherence"})) is None
    assert parse_dimensions("The response is good.") is None


@pytest.mark.slow
def test_cli_quality_with_a_scripted_judge(test_server, datasets_dir, tmp_path) -> None:
    from assay_longbench_write.benchmark import DIMS

    s = _load(dataset_dir=str(datasets_dir))[:3]
    assert [x.target for x in s] == [100, 100, 150]
    replies = ["RESP-0 " + "word " * 99, "RESP-1 " + "word " * 199, "RESP-2 " + "word " * 49]  # 100, 200, 50 words
    model = test_server(rules=[{"match": x.messages[0]["content"], "answer": r} for x, r in zip(s, replies)])
    verdicts = [
        json.dumps({"Analysis": "excellent", **dict.fromkeys(DIMS, 5)}),  # score_q 1
        "Analysis...\n```json\n" + json.dumps({"Analysis": "average", **dict.fromkeys(DIMS, 3)}) + "\n```",  # 0.5
        "I cannot rate this.",  # unparseable: a judge failure, not a score
    ]
    judge = test_server(rules=[{"match": f"<Response>\n\nRESP-{i} ", "answer": v} for i, v in enumerate(verdicts)])
    args = ["eval", "--model", "m", "--api-url", model.url, "--api-key", "EMPTY", "--datasets", "longbench_write"]
    args += ["--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path), "--limit", "3", "--no-progress"]
    args += [
        "--dataset-args",
        json.dumps(
            {
                "longbench_write": {
                    "subset_list": ["[0, 500)"],
                    "metric_list": ["longbench_write_length", "longbench_write_quality"],
                }
            }
        ),
    ]
    args += ["--judge-model-args", json.dumps({"model_id": "judge", "api_url": judge.url, "api_key": "EMPTY"})]
    assay(*args, timeout=180, check=3)  # completed, one sample not judged
    (run,) = run_dirs(tmp_path)
    rows = {r["metric"]: r for r in report_items(run, check=3) if r.get("subset") == "[0, 500)"}
    assert rows["score_q"]["score"] == pytest.approx(0.75)  # (1 + 0.5) / 2 judged; S_q 75
    assert rows["Relevance"]["score"] == pytest.approx(0.75)
    judged = bodies(run, "Judged")
    assert len(judged) == 3 and sorted(b.get("status", "ok") for b in judged) == ["judge_failed", "ok", "ok"]
    assert judged[0]["messages"][0]["content"].startswith("You are an expert in evaluating text quality.")
    assert "<User Request>\n\n" + s[0].messages[0]["content"] + "\n\n</User Request>" in next(
        b["messages"][0]["content"] for b in judged if "RESP-0 " in b["messages"][0]["content"]
    )
    # the length score of all three (the judge failure leaves it alone): (1 + 2/3 + 0) / 3
    assert (rows["score_l"]["num"], rows["score_l"]["score"]) == (3, pytest.approx(5 / 9))
    assert (rows["score_q"]["num"], rows["score_q"]["judge_failures"]) == (2, 1)
    assert rows["score_q"]["coverage"] == "0.750 on 2/3 judged; 1 judge failure"


@pytest.mark.slow
def test_quality_without_a_judge_is_refused_before_the_run(datasets_dir, tmp_path) -> None:
    metrics = {"longbench_write": {"metric_list": ["longbench_write_length", "longbench_write_quality"]}}
    proc = assay(
        *["eval", "--model", "m", "--api-url", "http://127.0.0.1:9/v1", "--datasets", "longbench_write"],
        *["--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path), "--no-progress"],
        *["--dataset-args", json.dumps(metrics)],
        timeout=120,
        check=2,
    )
    assert (
        "longbench_write is scored by a judge (scorer longbench_write_quality): pass --judge-model-args" in proc.stderr
    )
    assert not any(tmp_path.iterdir())  # no run was started
