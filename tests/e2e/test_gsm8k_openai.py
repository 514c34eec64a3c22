"""`assay eval` as a user runs it: a subprocess against a real HTTP server on loopback."""

from __future__ import annotations

import json

from helpers import assay, eval_gsm8k, gold, gsm8k_rows, report_rows, run_dirs
from assay_testserver.testing import events as _events


def _rules(rows, correct):
    rules = []
    for i, row in enumerate(rows):
        if i in correct:
            answer = f"Step by step... so the total is {gold(row['answer'])}.\n#### {gold(row['answer'])}"
        elif i % 2:
            answer = "#### 99999"  # wrong number
        else:
            answer = "I am not sure."  # malformed: no number at all
        rules.append({"match": row["question"], "answer": answer})
    return rules


def test_accuracy_is_the_exact_fraction_answered_correctly(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 20)
    correct = {i for i in range(20) if i % 3 == 0}  # 7 of 20
    srv = test_server(rules=_rules(rows, correct))
    out = eval_gsm8k(
        srv.url,
        datasets_dir,
        tmp_path,
        "--api-key",
        "sk-test-SECRET-777",
        "--eval-batch-size",
        "16",
        limit=20,
        model="qwen2.5",
    )
    (run,) = run_dirs(tmp_path)
    rows_out = report_rows(run)
    assert len(rows_out) == 1
    row = rows_out[0]
    # expected: 7 correct of 20 (indices 0,3,...,18), the rest wrong or malformed
    assert row["num"] == 20 and row["errors"] == 0
    assert row["score"] == 7 / 20
    assert row["model"] == "qwen2.5" and row["dataset"] == "gsm8k" and row["subset"] == "main"
    assert row["ci_low"] < 0.35 < row["ci_high"]
    assert "gsm8k" in out.stdout and "0.3500" in out.stdout
    # the key never reaches the log, the report or the screen
    for text in ((run / "events.jsonl").read_text(), (run / "report.json").read_text(), out.stdout, out.stderr):
        assert "SECRET-777" not in text
    events = _events(run, whole=True)
    kinds = [e["type"] for e in events]
    assert kinds.count("Generated") == 20 and kinds.count("RequestTimed") == 20 and kinds.count("Scored") == 20
    # the prompt actually sent is in the log: 4 few-shot examples from train, then the question
    loaded = next(e["body"] for e in events if e["type"] == "SampleLoaded")
    assert loaded["messages"][-1]["content"].count("Question:") == 5
    assert srv.requests[0]["messages"] in [e["body"]["messages"] for e in events if e["type"] == "SampleLoaded"]


def test_streaming_gives_the_same_scores(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 6)
    srv = test_server(rules=_rules(rows, {0, 1, 2}), itl=0.001)
    eval_gsm8k(srv.url, datasets_dir, tmp_path, "--stream", limit=6)
    (run,) = run_dirs(tmp_path)
    assert report_rows(run)[0]["score"] == 3 / 6
    timed = [
        json.loads(line)["body"] for line in (run / "events.jsonl").read_text().splitlines() if '"RequestTimed"' in line
    ]
    assert all(t.get("stream") and len(t["chunk_times"]) >= 2 and t.get("usage_reported") for t in timed)


def test_server_errors_are_retried_then_counted(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 5)
    # request 1: 500 then retried; requests 2..: 429s for one sample until retries run out
    srv = test_server(rules=_rules(rows, set(range(5))), faults={"http_500": [1], "garbage": [3, 4, 5]})
    proc = eval_gsm8k(srv.url, datasets_dir, tmp_path, "--retries", "2", "--eval-batch-size", "1", limit=5, check=False)
    assert proc.returncode == 3, proc.stderr  # completed, some samples errored
    (run,) = run_dirs(tmp_path)
    (row,) = report_rows(run)
    # sample 0: 500, retried, right. sample 1: garbage x3 (retries=2) -> errored. samples 2-4 right.
    assert row["errors"] == 1 and row["num"] == 5 and row["score"] == 4 / 5
    events = _events(run, whole=True)
    failed = [e["body"] for e in events if e["type"] == "SampleFailed"]
    assert len(failed) == 1 and failed[0]["stage"] == "generate" and failed[0]["attempt"] == 3
    timed = [e["body"] for e in events if e["type"] == "RequestTimed"]
    assert sorted(t["error_kind"] for t in timed if not t.get("ok", True)) == [
        "http_5xx",
        "malformed",
        "malformed",
        "malformed",
    ]


def test_a_hanging_server_times_out(tmp_path, datasets_dir, test_server):
    srv = test_server(default_answer="#### 1", faults={"hang": [1, 2]}, hang_seconds=30)
    proc = eval_gsm8k(
        srv.url,
        datasets_dir,
        tmp_path,
        "--retries",
        "0",
        "--timeout",
        "0.5",
        "--eval-batch-size",
        "2",
        limit=2,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr  # timeouts are not a systematic failure: counted, explained
    assert "why samples errored:\n  2 x timeout: " in proc.stdout
    (run,) = run_dirs(tmp_path)
    (row,) = report_rows(run)
    assert row["errors"] == 2 and row["score"] == 0.0


def test_missing_data_offline_is_one_clear_error(tmp_path):
    proc = assay(
        "eval",
        "--datasets",
        "gsm8k",
        "--dataset-dir",
        str(tmp_path / "nowhere"),
        "--work-dir",
        str(tmp_path),
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Looked in" in proc.stderr and "nowhere" in proc.stderr and "Traceback" not in proc.stderr


def test_streaming_in_crlf_framing_with_reasoning_gives_exact_scores_and_chunk_times(
    tmp_path, datasets_dir, test_server
):
    # CRLF line ends, a keep-alive comment before each event, each event split in two writes,
    # two tokens per chunk and a reasoning chunk first: reasoning is kept apart from the answer
    rows = gsm8k_rows(datasets_dir, 8)
    srv = test_server(
        rules=_rules(rows, {0, 3, 5}), sse_framing="crlf", tokens_per_chunk=2, reasoning="let me think", itl=0.001
    )
    eval_gsm8k(srv.url, datasets_dir, tmp_path, "--stream", limit=8)
    (run,) = run_dirs(tmp_path)
    assert report_rows(run)[0]["score"] == 3 / 8
    events = _events(run, whole=True)
    timed = [e["body"] for e in events if e["type"] == "RequestTimed"]
    assert len(timed) == 8 and all("error_kind" not in t and t["stream"] and t["usage_reported"] for t in timed)
    done = [e["body"] for e in events if e["type"] == "Generated"]
    assert len(done) == 8 and {d.get("reasoning") for d in done} == {"let me think"}
    assert all("let me think" not in d["output"] for d in done)
    for t in timed:  # one content chunk per two tokens of the answer, in time order
        assert t["chunk_times"] == sorted(t["chunk_times"]) and t["last_content"] == t["chunk_times"][-1]
        assert t["first_byte"] <= t["chunk_times"][0] <= t["end"]
