"""No silent failure: a broken setup stops the run with one clear message and a non-zero exit;
errored samples are explained; streaming faults are retried, then counted; SIGTERM/SIGHUP are
recorded as interruptions that `assay resume` finishes. The real CLI against the real test server."""

from __future__ import annotations

import json
import signal
import socket
from collections import Counter

import pytest
from helpers import assay, gold, gsm8k_rows, report_rows, run_dirs
from assay_testserver.testing import assay_popen, served_eval, wait_for_events
from assay_testserver.testing import events as _events


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _right_answers(rows):
    return [{"match": r["question"], "answer": f"#### {gold(r['answer'])}"} for r in rows]


def _eval(tmp_path, datasets_dir, url, *extra, limit=5, check=False, timeout=120):
    args = ["--datasets", "gsm8k", "--limit", str(limit), "--dataset-dir", str(datasets_dir), *extra]
    return served_eval(url, tmp_path, *args, model=None, check=check, timeout=timeout)


# ---- a broken setup stops the run -------------------------------------------------


def test_dead_endpoint_stops_the_run_with_the_cause(tmp_path, datasets_dir):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    proc = _eval(tmp_path, datasets_dir, url, "--model", "m", "--retries", "1", "--eval-batch-size", "2")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""  # no table, no score
    (run,) = run_dirs(tmp_path)
    assert (
        f"error: the run stopped: its first 3 sample(s) all failed the same way and none succeeded: "
        f"{url}/chat/completions: connection refused (is the server running, and is the port right?); "
        "check --api-url and that the server is up"
    ) in proc.stderr
    assert f"to finish this run once that is fixed: assay resume {run}" in proc.stderr
    assert "Traceback" not in proc.stderr and "timed out" not in proc.stderr.lower()
    events = _events(run)
    failed = [e["body"] for e in events if e["type"] == "SampleFailed"]
    assert len(failed) == 3
    assert {(f["error_kind"], f["attempt"]) for f in failed} == {("connection", 2)}
    assert all(e["body"]["error_kind"] in ("connection", "cancelled") for e in events if e["type"] == "RequestTimed")
    (finished,) = [e["body"] for e in events if e["type"] == "RunFinished"]
    assert finished["status"] == "failed" and "connection refused" in finished["error"]
    assert not [e for e in events if e["type"] in ("Generated", "Scored")]


@pytest.mark.parametrize(
    ("settings", "model", "path", "cause", "hint"),
    [
        (
            {"require_api_key": "sk-right-key"},
            "test-model",
            "/v1",
            "HTTP 401: Incorrect API key provided.",
            "check --api-key (or $ASSAY_API_KEY)",
        ),
        (
            {"served_models": ["qwen"]},
            "gpt-4o",
            "/v1",
            "HTTP 404: The model `gpt-4o` does not exist. (the server serves: 'qwen')",
            "check --model (a name the server serves) and --api-url (usually ending in /v1)",
        ),
        ({}, "m", "/v2", "HTTP 404: 404: Not Found", "check --model"),
    ],
    ids=["wrong-key", "wrong-model", "wrong-path"],
)
def test_wrong_key_model_or_path_stops_after_three_requests(
    tmp_path, datasets_dir, test_server, settings, model, path, cause, hint
):
    srv = test_server(**settings)
    url = srv.url.removesuffix("/v1") + path
    proc = _eval(
        tmp_path, datasets_dir, url, "--model", model, "--api-key", "sk-wrong-SECRET-1", "--eval-batch-size", "1"
    )
    assert proc.returncode == 1, proc.stderr
    assert (
        f"its first 3 sample(s) all failed the same way and none succeeded: {url}/chat/completions: {cause}; {hint}"
        in (proc.stderr)
    )
    (run,) = run_dirs(tmp_path)
    # not retried (retrying cannot fix these): three samples, one request each
    assert sum(e["type"] == "RequestTimed" for e in _events(run)) == 3
    assert srv.server.count == (0 if path == "/v2" else 3)  # a wrong path never reaches a handler
    assert "SECRET-1" not in (run / "events.jsonl").read_text() + proc.stderr + proc.stdout
    kinds = Counter(e["body"]["error_kind"] for e in _events(run) if e["type"] == "SampleFailed")
    assert kinds == {("auth" if "401" in cause else "not_found"): 3}
    if "401" in cause:
        # fixed, the run is finished in place: every sample evaluated once, no error left
        done = assay("resume", str(run), "--api-key", "sk-right-key", check=False)
        assert done.returncode == 0, done.stderr
        (row,) = report_rows(run)
        assert row["num"] == 5 and row["errors"] == 0


def test_errors_after_a_success_are_counted_and_explained(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 5)
    # a 400 is about one request (a prompt too long...): never stops the run, even first
    srv = test_server(rules=_right_answers(rows), faults={"http_400": [1, 2, 4]})
    proc = _eval(tmp_path, datasets_dir, srv.url, "--model", "m", "--eval-batch-size", "1")
    assert proc.returncode == 3, proc.stderr
    assert "why samples errored:\n  3 x http_4xx: HTTP 400: injected bad request\n" in proc.stdout
    (run,) = run_dirs(tmp_path)
    (row,) = report_rows(run)
    assert row["num"] == 5 and row["errors"] == 3 and row["score"] == 2 / 5
    report = json.loads((run / "report.json").read_text())
    assert report["errors_by_kind"] == [{"kind": "http_4xx", "count": 3, "example": "HTTP 400: injected bad request"}]
    shown = assay("report", str(run), check=False)
    assert shown.returncode == 3  # as `assay eval`: completed, some samples errored
    assert "why samples errored:\n  3 x http_4xx: HTTP 400: injected bad request\n" in shown.stdout
    finished = [e["body"] for e in _events(run) if e["type"] == "RunFinished"]
    assert [f.get("status", "completed") for f in finished] == ["completed"]


def test_all_samples_evaluated_exits_zero(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 3)
    srv = test_server(rules=_right_answers(rows))
    proc = _eval(tmp_path, datasets_dir, srv.url, "--model", "m", limit=3)
    assert proc.returncode == 0, proc.stderr
    assert "why samples errored" not in proc.stdout


# ---- streaming faults ---------------------------------------------------------------


@pytest.mark.parametrize("fault", ["not_event_stream", "empty_stream", "error_event", "stream_error"])
def test_stream_faults_are_retried_then_counted(tmp_path, datasets_dir, test_server, fault):
    rows = gsm8k_rows(datasets_dir, 4)
    # requests: sample 0 -> 1 (ok); sample 1 -> 2, 3, 4 (fault each time: failed after 2 retries);
    # sample 2 -> 5 (ok); sample 3 -> 6 (fault), 7 (ok on its retry)
    srv = test_server(rules=_right_answers(rows), faults={fault: [2, 3, 4, 6]}, tokens_per_chunk=1)
    proc = _eval(
        tmp_path, datasets_dir, srv.url, "--model", "m", "--stream", "--retries", "2", "--eval-batch-size", "1", limit=4
    )
    assert proc.returncode == 3, proc.stderr
    assert srv.server.count == 7
    (run,) = run_dirs(tmp_path)
    (row,) = report_rows(run)
    assert row["num"] == 4 and row["errors"] == 1 and row["score"] == 3 / 4
    events = _events(run)
    (failed,) = [e["body"] for e in events if e["type"] == "SampleFailed"]
    assert failed["sample_id"] == "gsm8k/main/1" and failed["attempt"] == 3 and failed["error_kind"] == "stream_error"
    bad = [e["body"] for e in events if e["type"] == "RequestTimed" and not e["body"].get("ok", True)]
    assert [t["error_kind"] for t in bad] == ["stream_error"] * 4
    message = {
        "not_event_stream": "StreamError: a 200 response that is not an event stream (Content-Type: "
        "'application/json; charset=utf-8')",
        "empty_stream": "StreamError: the event stream ended with no content and no finish_reason",
        "error_event": "StreamError: error event in the stream: injected error event",
        "stream_error": "APIError: injected stream error",
    }[fault]
    assert failed["message"].startswith(message)
    generated = {e["body"]["sample_id"]: e["body"] for e in events if e["type"] == "Generated"}
    assert generated["gsm8k/main/3"]["attempt"] == 2 and generated["gsm8k/main/3"]["output"].startswith("####")
    assert f"1 x stream_error: {message}" in proc.stdout


def test_a_timed_out_attempt_is_recorded_as_timeout(tmp_path, datasets_dir, test_server):
    srv = test_server(default_answer="#### 1", faults={"hang": [1]}, hang_seconds=30)
    proc = _eval(
        tmp_path, datasets_dir, srv.url, "--model", "m", "--stream", "--timeout", "0.5", "--retries", "0", limit=2
    )
    assert proc.returncode == 3, proc.stderr
    (run,) = run_dirs(tmp_path)
    events = _events(run)
    (failed,) = [e["body"] for e in events if e["type"] == "SampleFailed"]
    assert failed["error_kind"] == "timeout" and failed["sample_id"] == "gsm8k/main/0"
    bad = [e["body"] for e in events if e["type"] == "RequestTimed" and not e["body"].get("ok", True)]
    assert [t["error_kind"] for t in bad] == ["timeout"]
    assert "CancelledError" not in (run / "events.jsonl").read_text()


# ---- --api-url without --model --------------------------------------------------------


def test_api_url_without_model_uses_the_one_served_model(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 2)
    srv = test_server(rules=_right_answers(rows), served_models=["Qwen2.5-0.5B-Instruct"])
    proc = _eval(tmp_path, datasets_dir, srv.url, limit=2)
    assert proc.returncode == 0, proc.stderr
    assert f"model: Qwen2.5-0.5B-Instruct (the one model served at {srv.url})" in proc.stderr
    assert [r["model"] for r in srv.requests] == ["Qwen2.5-0.5B-Instruct"] * 2
    (run,) = run_dirs(tmp_path)
    (row,) = report_rows(run)
    assert row["model"] == "Qwen2.5-0.5B-Instruct" and row["score"] == 1.0
    assert "mock" not in proc.stdout


def test_api_url_without_model_asks_for_one_when_several_are_served(tmp_path, datasets_dir, test_server):
    srv = test_server(served_models=["a-7b", "b-70b"])
    proc = _eval(tmp_path, datasets_dir, srv.url, limit=2)
    assert proc.returncode == 2
    assert f"error: --model not given and {srv.url} serves 2 models ('a-7b', 'b-70b'): pass --model NAME" in proc.stderr
    assert srv.server.count == 0 and run_dirs(tmp_path) == []


def test_api_url_without_model_on_a_dead_endpoint(tmp_path, datasets_dir):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    proc = _eval(tmp_path, datasets_dir, url, limit=2)
    assert proc.returncode == 1
    assert (
        f"error: --model not given, and asking the server which model it serves failed: GET {url}/models: "
        "connection refused (is the server running, and is the port right?)"
    ) in proc.stderr
    assert "Traceback" not in proc.stderr


# ---- SIGTERM and SIGHUP -----------------------------------------------------------------


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_signals_interrupt_then_resume_finishes(tmp_path, datasets_dir, test_server, sig, code):
    n = 20
    rows = gsm8k_rows(datasets_dir, n)
    srv = test_server(rules=_right_answers(rows), ttft=0.15)
    work = tmp_path / "w"
    args = ["eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", "--limit", str(n)]
    args += ["--eval-batch-size", "2", "--dataset-dir", str(datasets_dir), "--work-dir", str(work), "--no-progress"]
    # the child must not inherit an ignored signal (nohup ignores SIGHUP, a background job SIGINT): assay
    # rightly keeps an ignored signal ignored, which is not what this test is about
    proc = assay_popen(*args, preexec_fn=lambda: signal.signal(sig, signal.SIG_DFL))
    run, _ = wait_for_events(work, "Generated", 3, proc, timeout=90)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    name = signal.Signals(sig).name
    assert f"interrupted ({name})\nto finish this run: assay resume {run}\n" in err
    assert "Traceback" not in err and out == ""
    events = _events(run)
    (finished,) = [e["body"] for e in events if e["type"] == "RunFinished"]
    assert finished["status"] == "interrupted" and finished["error"] == f"interrupted by {name}"
    generated_before = sum(e["type"] == "Generated" for e in events)
    assert 3 <= generated_before < n
    done = assay("resume", str(run), check=False)
    assert done.returncode == 0, done.stderr
    assert f"resuming {run}: {n - generated_before} to generate, 0 to score" in done.stderr
    events = _events(run)
    generated = Counter(e["body"]["sample_id"] for e in events if e["type"] == "Generated")
    scored = Counter(e["body"]["sample_id"] for e in events if e["type"] == "Scored")
    assert len(generated) == n and set(generated.values()) == {1}
    assert len(scored) == n and set(scored.values()) == {1}
    assert [e["body"].get("status", "completed") for e in events if e["type"] == "RunFinished"] == [
        "interrupted",
        "completed",
    ]
    (row,) = report_rows(run)
    assert row["num"] == n and row["errors"] == 0 and row["score"] == 1.0


def test_nohup_keeps_sighup_ignored(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 6)
    srv = test_server(rules=_right_answers(rows), ttft=0.15)
    args = ["eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", "--limit", "6"]
    args += ["--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path), "--no-progress"]
    proc = assay_popen(*args, prefix=["nohup"], cwd=tmp_path)
    wait_for_events(tmp_path, "Generated", 1, proc, timeout=90)
    proc.send_signal(signal.SIGHUP)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    (run,) = run_dirs(tmp_path)
    assert [e["body"].get("status", "completed") for e in _events(run) if e["type"] == "RunFinished"] == ["completed"]
