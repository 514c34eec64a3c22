"""End to end through the `assay` CLI: simple_qa / chinese_simpleqa answered by one test server and
graded by another (the scripted judge: a verdict per predicted answer, a malformed verdict, a failing
call); rescore without a judge call, rescore --rejudge, resume after kill -9 without re-judging."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from assay.api import BenchmarkArgs
from assay_simpleqa.benchmark import ChineseSimpleQA, SimpleQA
from assay_testserver.testing import (
    assay,
    assay_popen,
    events,
    report_items,
    run_dir_of,
    run_dirs,
    section,
    wait_for_events,
)

pytestmark = pytest.mark.slow  # starts `assay` subprocesses

KEY = "sk-judge-SECRET-0123456789abcdef"


def by_metric(rows: list[dict], subset: str = "default") -> dict[str, dict]:
    return {r["metric"]: r for r in rows if "metric" in r and r["subset"] == subset}


def simple_qa(datasets_dir: Path, n: int) -> list:
    args = BenchmarkArgs(name="simple_qa", dataset_dir=str(datasets_dir))
    return list(SimpleQA(args).load(args))[:n]


def judge_args(srv, **more) -> str:
    return json.dumps({"model_id": "judge-model", "api_url": srv.url, "api_key": KEY, **more})


# verdicts keyed on the predicted answer the judge is shown (the simple-evals template's line)
VERDICTS = ["A", "A", "A", "B", "C", "The grade is B", "I cannot grade this.", None]  # None: HTTP 500


def judge_rules(verdicts: list[str | None]) -> list[dict]:
    rules = []
    for i, v in enumerate(verdicts):
        rule = {"match": f"Predicted answer: ANSWER-{i}\n", "answer": v or "A"}
        if v is None:
            rule["fault"] = "http_500"
        rules.append(rule)
    return rules


def eval_args(model_srv, judge_srv, datasets_dir: Path, work: Path, n: int, dataset: str = "simple_qa") -> list[str]:
    return [
        "eval",
        "--model",
        "test-model",
        "--api-url",
        model_srv.url,
        "--datasets",
        dataset,
        "--limit",
        str(n),
        "--dataset-dir",
        str(datasets_dir),
        "--work-dir",
        str(work),
        "--no-progress",
        "--retries",
        "1",
        "--judge-model-args",
        judge_args(judge_srv),
        "--judge-worker-num",
        "2",
        "--eval-batch-size",
        "4",
    ]


def test_simple_qa_eval_exact_scores_coverage_and_judge_failures(test_server, datasets_dir, tmp_path) -> None:
    n = len(VERDICTS)
    samples = simple_qa(datasets_dir, n)
    model = test_server(
        rules=[{"match": s.metadata["question"], "answer": f"ANSWER-{i}"} for i, s in enumerate(samples)]
    )
    judge = test_server(rules=judge_rules(VERDICTS), require_api_key=KEY)
    proc = assay(*eval_args(model, judge, datasets_dir, tmp_path / "w", n), check=3)  # 3: some samples not judged
    run = run_dir_of(proc)

    # 6 judged: A, A, A, B, C, B; the malformed verdict and the failed call are judge failures, not scores
    rows = by_metric(report_items(run, 3))
    assert rows["is_correct"]["score"] == pytest.approx(3 / 6)
    assert rows["is_incorrect"]["score"] == pytest.approx(2 / 6)
    assert rows["is_not_attempted"]["score"] == pytest.approx(1 / 6)
    for r in rows.values():
        assert (r["num"], r["judged"], r["judge_failures"], r["errors"]) == (6, 6, 2, 0)
    assert rows["is_correct"]["coverage"] == "0.500 on 6/8 judged; 2 judge failures"
    agg = section(report_items(run, 3), "simpleqa")["rows"][0]
    assert (agg["correct"], agg["incorrect"], agg["not_attempted"], agg["judge_failures"]) == (3, 2, 1, 2)
    assert agg["accuracy_given_attempted"] == pytest.approx(3 / 5)
    assert agg["f1"] == pytest.approx(2 * 0.6 * 0.5 / 1.1)
    assert "0.5000 on 6/8 judged" in proc.stdout and "judge failures: 2" in proc.stdout

    # every call logged: 8 Judged (2 judge_failed), the exact prompt, the official template filled in
    judged = {e["body"]["sample_id"]: e["body"] for e in events(run, "Judged")}
    assert len(events(run, "Judged")) == n
    status = Counter(b.get("status", "ok") for b in judged.values())
    assert status == {"ok": 6, "judge_failed": 2}
    first = judged["simple_qa/default/0"]
    assert first["label"] == "A" and first["output"] == "A" and first["judge"] == "judge-model"
    content = first["messages"][0]["content"]
    assert content.startswith("Your job is to look at a question, a gold target, and a predicted answer")
    assert f"Question: {samples[0].metadata['question']}\nGold target: {samples[0].target}\n" in content
    assert content.endswith('Just return the letters "A", "B", or "C", with no text around it.')
    assert judged["simple_qa/default/5"]["label"] == "B"
    assert "unparseable verdict" in judged["simple_qa/default/6"]["reason"]
    assert "HTTP 500" in judged["simple_qa/default/7"]["reason"] and judged["simple_qa/default/7"]["attempt"] == 2
    failed = [e["body"] for e in events(run, "SampleFailed")]
    assert sorted(f["sample_id"] for f in failed) == ["simple_qa/default/6", "simple_qa/default/7"]
    assert {f["stage"] for f in failed} == {"judge"}
    # its RequestTimed: one per judge request (the retried 500 twice) beside the model's 8
    timed = [e["body"] for e in events(run, "RequestTimed")]
    judge_ids = {rid for b in judged.values() for rid in b.get("request_ids", [])}
    assert len(judge_ids) == 7 and judge_ids <= {t["request_id"] for t in timed}
    assert len(timed) == 8 + 6 + 1 + 2  # model, ok verdicts, the malformed one, the 500 twice
    # concurrency bounded by --judge-worker-num 2 (the model side runs 4 at a time)
    assert judge.server.max_in_flight <= 2
    assert judge.server.count == 9  # 7 calls, the 500 one retried once
    # the judge's key reached the judge (it requires it) and nothing else
    text = (run / "events.jsonl").read_text(encoding="utf-8")
    assert KEY not in text and KEY not in proc.stdout and KEY not in proc.stderr
    assert '"api_key":"***"' in text

    # rescore: the logged verdicts, no judge (and no model) call
    calls = judge.server.count, model.server.count
    proc2 = assay("rescore", str(run), "--work-dir", str(tmp_path / "r"), check=3)  # as eval: 2 judge failures
    rescored = run_dir_of(proc2)
    assert (judge.server.count, model.server.count) == calls
    assert {m: (r["score"], r["judge_failures"]) for m, r in by_metric(report_items(rescored, 3)).items()} == {
        m: (r["score"], r["judge_failures"]) for m, r in rows.items()
    }
    copied = {e["body"]["sample_id"]: e["body"] for e in events(rescored, "Judged")}
    assert len(copied) == n
    assert {b.get("reused_from") for sid, b in copied.items() if sid != "simple_qa/default/7"} == {str(run)}
    # the failed call has no verdict to reuse, and rescore without --rejudge asks no judge
    assert "rescore without --rejudge calls no judge" in copied["simple_qa/default/7"]["reason"]

    # rescore --rejudge with another judge: every sample judged again, by it only
    judge2 = test_server(rules=[{"match": "Predicted answer: ANSWER-", "answer": "A"}])
    proc3 = assay(
        "rescore", str(run), "--work-dir", str(tmp_path / "r2"), "--rejudge", "--judge-model-args", judge_args(judge2)
    )
    rejudged = run_dir_of(proc3)
    assert judge2.server.count == n and judge.server.count == calls[0] and model.server.count == calls[1]
    rows3 = by_metric(report_items(rejudged, 0))
    assert (
        rows3["is_correct"]["score"] == 1.0
        and rows3["is_correct"]["coverage"] == "1.000 on 8/8 judged; 0 judge failures"
    )
    assert all("reused_from" not in e["body"] for e in events(rejudged, "Judged"))
    assert KEY not in (rejudged / "events.jsonl").read_text(encoding="utf-8")


def test_simple_qa_needs_a_judge(datasets_dir, tmp_path) -> None:
    proc = assay(
        "eval", "--datasets", "simple_qa", "--limit", "1", "--dataset-dir", str(datasets_dir),
        "--work-dir", str(tmp_path), "--no-progress", check=2,
    )  # fmt: skip
    assert "simple_qa is scored by a judge" in proc.stderr and "--judge-model-args" in proc.stderr
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_resume_after_kill_does_not_rejudge(test_server, datasets_dir, tmp_path) -> None:
    n = 8
    samples = simple_qa(datasets_dir, n)
    model = test_server(
        rules=[{"match": s.metadata["question"], "answer": f"ANSWER-{i}"} for i, s in enumerate(samples)]
    )
    judge = test_server(rules=judge_rules(["A", "B"] * (n // 2)), ttft=0.3, require_api_key=KEY)
    work = tmp_path / "w"
    args = eval_args(model, judge, datasets_dir, work, n)
    args[args.index("--eval-batch-size") + 1] = "1"
    proc = assay_popen(*args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run, _ = wait_for_events(work, "Judged", 3, proc)
    finally:
        proc.kill()
        proc.wait()
    before = {e["body"]["sample_id"] for e in events(run, "Judged")}
    assert 3 <= len(before) < n and not events(run, "RunFinished")
    calls = judge.server.count
    # the key is not in the log: given again, as for the evaluated model
    assay("resume", str(run), "--judge-model-args", judge_args(judge), check=0)
    per_sample = Counter(e["body"]["sample_id"] for e in events(run, "Judged"))
    assert set(per_sample) == {f"simple_qa/default/{i}" for i in range(n)} and set(per_sample.values()) == {1}
    assert judge.server.count - calls == n - len(before)  # only the samples not judged before
    assert Counter(e["body"]["sample_id"] for e in events(run, "Generated")).most_common(1)[0][1] == 1
    rows = by_metric(report_items(run, 0))
    assert (
        rows["is_correct"]["score"] == 0.5 and rows["is_correct"]["coverage"] == "0.500 on 8/8 judged; 0 judge failures"
    )


def test_chinese_simpleqa_eval_per_category(test_server, datasets_dir, tmp_path) -> None:
    args = BenchmarkArgs(name="chinese_simpleqa", dataset_dir=str(datasets_dir), limit=2)
    samples = list(ChineseSimpleQA(args).load(args))
    firsts: dict[str, list] = {}
    for s in samples:
        firsts.setdefault(s.subset, []).append(s)
    chosen = [x for subset in firsts.values() for x in subset[:2]]  # --limit 2: two per category
    assert len(chosen) == 12
    model = test_server(
        rules=[{"match": s.metadata["question"], "answer": f"ANSWER-{i}"} for i, s in enumerate(chosen)]
    )
    # category k: first answer right, second wrong; in 中华文化 the second is not attempted
    verdicts = []
    for i, s in enumerate(chosen):
        verdicts.append("A" if i % 2 == 0 else ("C" if s.subset == "中华文化" else "B"))
    judge = test_server(rules=[{"match": f"预测答案: ANSWER-{i}\n", "answer": v} for i, v in enumerate(verdicts)])
    proc = assay(*eval_args(model, judge, datasets_dir, tmp_path / "w", 2, dataset="chinese_simpleqa"), check=0)
    run = run_dir_of(proc)
    rows = report_items(run, 0)
    correct = {r["subset"]: r for r in rows if r.get("metric") == "is_correct" and r["subset"] != "OVERALL (macro)"}
    cats = ["中华文化", "人文与社会科学", "工程、技术与应用科学", "生活、艺术与文化", "社会", "自然与自然科学"]
    for c in cats:
        assert correct[c]["score"] == 0.5 and correct[c]["num"] == 2 and correct[c]["judge_failures"] == 0
    assert correct["OVERALL"]["score"] == 0.5 and correct["OVERALL"]["num"] == 12
    na = {r["subset"]: r["score"] for r in rows if r.get("metric") == "is_not_attempted"}
    assert na["中华文化"] == 0.5 and na["社会"] == 0.0
    agg = {r["subset"]: r for r in section(rows, "simpleqa")["rows"]}
    assert agg["中华文化"]["accuracy_given_attempted"] == 1.0
    assert agg["社会"]["accuracy_given_attempted"] == 0.5
    assert agg["OVERALL"]["accuracy_given_attempted"] == pytest.approx(6 / 11)
    prompt = events(run, "Judged")[0]["body"]["messages"][0]["content"]
    assert prompt.startswith("请根据给定问题、标准答案和模型预测的答案来评估模型的回答是否正确。")
    assert judge.server.count == 12


def test_every_sample_judge_failed_is_shown_never_a_zero(test_server, datasets_dir, tmp_path) -> None:
    """Every judge call fails (a judge that hangs up), fewer samples than the fail-fast streak: all judge-failed."""
    from assay import run_task

    model = test_server(default_answer="Paris")
    judge = test_server(faults={"http_500_headers": 1.0})  # an error that echoes the request headers (the key)
    rep = run_task(
        {
            "model": "test-model",
            "api_url": model.url,
            "datasets": ["simple_qa"],
            "limit": 2,
            "retries": 0,
            "dataset_dir": str(datasets_dir),
            "work_dir": str(tmp_path),
            "progress": False,
            "judge_model_args": {"model_id": "judge", "api_url": judge.url, "api_key": KEY},
        }
    )
    [row] = rep["rows"]
    assert (row["score"], row["num"], row["judged"], row["judge_failures"]) == (None, 0, 0, 2)
    assert row["coverage"] == "- on 0/2 judged; 2 judge failures"
    assert rep["judge_failures"] == 2 and rep["errored_samples"] == 0
    [kind] = rep["judge_failures_by_kind"]
    assert kind["kind"] == "judge call failed" and kind["count"] == 2
    assert "HTTP 500: cannot handle this request" in kind["example"]
    agg = rep["sections"]["simpleqa"]["rows"][0]
    assert agg["judge_failures"] == 2 and agg["f1"] is None and agg["is_correct"] is None
    (run,) = run_dirs(tmp_path)
    assert KEY not in (run / "events.jsonl").read_text(encoding="utf-8")
    assert KEY not in json.dumps(rep)


def test_a_judge_rejecting_its_key_stops_the_run_then_resume_asks_again(test_server, datasets_dir, tmp_path) -> None:
    n = 6
    samples = simple_qa(datasets_dir, n)
    model = test_server(
        rules=[{"match": s.metadata["question"], "answer": f"ANSWER-{i}"} for i, s in enumerate(samples)]
    )
    judge = test_server(rules=judge_rules(["A"] * n), require_api_key=KEY)
    args = eval_args(model, judge, datasets_dir, tmp_path / "w", n)
    args[args.index("--judge-model-args") + 1] = judge_args(judge, api_key="sk-wrong-key-0123456789")
    proc = assay(*args, check=1)
    assert "the run stopped: the first 3 judge calls to 'judge-model' all failed the same way" in proc.stderr
    assert "HTTP 401" in proc.stderr and "sk-wrong-key-0123456789" not in proc.stderr
    run = next(p.parent for p in (tmp_path / "w").glob("*/events.jsonl"))
    assert f"assay resume {run}" in proc.stderr
    # resume with the right key: the failed calls are asked again, every sample ends judged once (ok)
    assay("resume", str(run), "--judge-model-args", judge_args(judge), check=0)
    ok = Counter(e["body"]["sample_id"] for e in events(run, "Judged") if e["body"].get("status", "ok") == "ok")
    assert set(ok) == {f"simple_qa/default/{i}" for i in range(n)} and set(ok.values()) == {1}
    rows = by_metric(report_items(run, 0))
    assert rows["is_correct"]["coverage"] == "1.000 on 6/6 judged; 0 judge failures"
