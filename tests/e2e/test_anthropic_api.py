"""`assay eval --eval-type anthropic_api`: the Anthropic Messages API against the test server's own
implementation (x-api-key and anthropic-version checked, system prompt top-level, max_tokens
required, thinking blocks), streamed and not, with its faults."""

from __future__ import annotations

import json

import pytest
from assay_testserver.testing import events as _events
from helpers import eval_gsm8k, gold, gsm8k_rows, report_rows, run_dirs

KEY = "sk-ant-SECRET-4242"
THINKING = "Let me add the numbers up carefully first."
SYSTEM = "You are a careful grade-school maths solver."


def _rules(rows, correct):
    rules = []
    for i, row in enumerate(rows):
        answer = f"So the total is {gold(row['answer'])}.\n#### {gold(row['answer'])}" if i in correct else "#### 99999"
        rules.append({"match": row["question"], "answer": answer})
    return rules


def _eval(srv, tmp_path, datasets_dir, limit, *extra, key=KEY, check=True):
    return eval_gsm8k(
        srv.url,
        datasets_dir,
        tmp_path,
        "--eval-type",
        "anthropic_api",
        "--api-key",
        key,
        "--dataset-args",
        json.dumps({"gsm8k": {"system_prompt": SYSTEM}}),
        *extra,
        limit=limit,
        model="claude-test",
        check=check,
    )


@pytest.mark.parametrize("stream", [False, True])
def test_gsm8k_exact_score_reasoning_apart_key_hidden(tmp_path, datasets_dir, test_server, stream):
    rows = gsm8k_rows(datasets_dir, 12)
    correct = {i for i in range(12) if i % 3 == 0}  # 4 of 12
    srv = test_server(rules=_rules(rows, correct), reasoning=THINKING, require_api_key=KEY, itl=0.001)
    out = _eval(srv, tmp_path, datasets_dir, 12, *(["--stream"] if stream else []))
    (run,) = run_dirs(tmp_path)
    (row,) = report_rows(run)
    assert (row["score"], row["num"], row["errors"]) == (4 / 12, 12, 0)
    # what went over the wire: the Messages API's shape
    assert len(srv.requests) == 12
    for body in srv.requests:
        assert body["system"] == SYSTEM and body["model"] == "claude-test"
        assert [m["role"] for m in body["messages"]] == ["user"] and body["max_tokens"] > 0
        assert body.get("stream", False) is stream and "stream_options" not in body
    events = _events(run, whole=True)
    generated = [e["body"] for e in events if e["type"] == "Generated"]
    assert len(generated) == 12
    for g in generated:
        assert g["reasoning"] == THINKING and THINKING not in g["output"] and "####" in g["output"]
        assert g["finish_reason"] == "end_turn"
        assert g["usage"]["prompt_tokens"] > 0 and g["usage"]["completion_tokens"] == len(g["output"].split())
    timed = [e["body"] for e in events if e["type"] == "RequestTimed"]
    assert len(timed) == 12 and {t["api"] for t in timed} == {"anthropic_messages"}
    assert all(t["url"] == srv.url + "/messages" and t["usage_reported"] for t in timed)
    for t, g in zip(sorted(timed, key=lambda t: t["sample_id"]), sorted(generated, key=lambda g: g["sample_id"])):
        assert t["output_tokens"] == g["usage"]["completion_tokens"]
        # streamed: one content chunk per text delta (one word each), so TTFT < latency; whole: one chunk
        assert len(t["chunk_times"]) == (t["output_tokens"] if stream else 1)
        assert t["first_byte"] <= t["chunk_times"][0] <= t["last_content"] <= t["end"]
    for text in ((run / "events.jsonl").read_text(), (run / "report.json").read_text(), out.stdout, out.stderr):
        assert "SECRET-4242" not in text


def test_overloaded_and_rate_limited_are_retried(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 4)
    srv = test_server(rules=_rules(rows, set(range(4))), faults={"http_529": [1], "http_429": [2], "error_event": [3]})
    _eval(srv, tmp_path, datasets_dir, 4, "--stream", "--eval-batch-size", "1")
    (run,) = run_dirs(tmp_path)
    (row,) = report_rows(run)
    assert (row["score"], row["errors"]) == (1.0, 0)
    timed = [e["body"] for e in _events(run, whole=True) if e["type"] == "RequestTimed"]
    assert len(timed) == 7  # 4 answers + 3 retried failures
    failed = sorted((t["error_kind"], t.get("status")) for t in timed if t.get("ok", True) is False)
    assert failed == [("http_429", 429), ("http_5xx", 529), ("stream_error", 200)]


def test_bad_request_is_not_retried(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 3)
    srv = test_server(rules=_rules(rows, set(range(3))), faults={"http_400": [1]})
    proc = _eval(srv, tmp_path, datasets_dir, 3, "--eval-batch-size", "1", "--retries", "3", check=False)
    assert proc.returncode == 3, proc.stderr
    (run,) = run_dirs(tmp_path)
    (row,) = report_rows(run)
    assert (row["num"], row["errors"], row["score"]) == (3, 1, 2 / 3)
    assert srv.server.count == 3  # the 400 was not retried
    (failed,) = [e["body"] for e in _events(run, whole=True) if e["type"] == "SampleFailed"]
    assert failed["message"] == "HTTP 400: injected bad request" and failed.get("attempt", 1) == 1


def test_wrong_key_is_told_without_the_key(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 2)
    srv = test_server(rules=_rules(rows, {0, 1}), require_api_key="the-right-one")
    proc = _eval(srv, tmp_path, datasets_dir, 2, "--retries", "3", check=False)
    assert proc.returncode != 0
    assert srv.server.count <= 2  # no retry of a 401
    text = proc.stdout + proc.stderr
    assert "HTTP 401: invalid x-api-key" in text
    (run,) = run_dirs(tmp_path)
    for t in (text, (run / "events.jsonl").read_text()):
        assert "SECRET-4242" not in t
