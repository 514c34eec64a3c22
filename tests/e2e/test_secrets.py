"""Secrets never reach a log, a report or a screen; what reaches the terminal is inert.

Real `assay` subprocesses against the real test server, whose faults leak the key the way real
servers do (a 401 quoting it, a 400 / 500 echoing the request headers).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess

from helpers import assay, eval_gsm8k, gold, gsm8k_rows, run_dirs
from assay_testserver.testing import assay_popen, wait_for_events
from assay_testserver.testing import events as _events

KEY = "sk-test-Zq9XlR2mN7vB4cT1yW8eK3hJ"


def _assert_nowhere(key, run, *texts):
    for path in run.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert key.encode() not in data, f"the key is in {path}"
            assert key[:12].encode() not in data, f"a piece of the key is in {path}"
    for text in texts:
        assert key not in text and key[:12] not in text


def test_eval_never_writes_or_prints_the_key(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 5)
    srv = test_server(
        rules=[{"match": r["question"], "answer": f"#### {gold(r['answer'])}"} for r in rows],
        faults={"http_400_headers": [1], "http_401_key": [2], "http_500_headers": [3]},
    )
    proc = eval_gsm8k(
        srv.url,
        datasets_dir,
        tmp_path,
        "--api-key",
        KEY,
        "--retries",
        "0",
        "--eval-batch-size",
        "1",
        limit=5,
        check=False,
    )
    (run,) = run_dirs(tmp_path)
    report = assay("report", str(run), check=False)
    report_json = assay("report", str(run), "--format", "json", check=False)
    _assert_nowhere(KEY, run, proc.stdout, proc.stderr, report.stdout, report.stderr, report_json.stdout)

    events = _events(run)
    failed = sorted(e["body"]["message"] for e in events if e["type"] == "SampleFailed")
    timed_errors = [e["body"]["error"] for e in events if e["type"] == "RequestTimed" and e["body"].get("error")]
    assert len(failed) == 3 and len(timed_errors) == 3
    assert sum("Incorrect API key provided: ***." in m for m in failed) == 1
    assert sum("'Authorization': 'Bearer ***'" in m for m in failed) == 2  # the 400 and the 500 echo
    assert sum("Incorrect API key provided: ***." in m for m in timed_errors) == 1
    assert sum(e["type"] == "Generated" for e in events) == 2
    (started,) = [e["body"] for e in events if e["type"] == "RunStarted"]
    assert started["config"]["api_key"] == "***"
    argv = started["host"]["argv"]
    assert argv[argv.index("--api-key") + 1] == "***" and "--datasets" in argv
    # the key was really sent (the faults quote what the server received)
    assert len(srv.requests) == 5


def test_perf_never_writes_or_prints_the_key(tmp_path, test_server):
    srv = test_server(
        default_answer="a b c d", faults={"http_401_key": [1], "http_400_headers": [2], "http_500_headers": [3]}
    )
    proc = assay(
        "perf",
        "--url",
        srv.url,
        "--model",
        "m",
        "--api-key",
        KEY,
        "--parallel",
        "1",
        "--number",
        "5",
        "--max-tokens",
        "4",
        "--min-prompt-length",
        "4",
        "--max-prompt-length",
        "8",
        "--work-dir",
        str(tmp_path),
        "--name",
        "p",
    )
    run = tmp_path / "p"
    report = assay("report", str(run))
    _assert_nowhere(KEY, run, proc.stdout, proc.stderr, report.stdout, report.stderr)
    errors = sorted(e["body"]["error"] for e in _events(run) if e["type"] == "RequestTimed" and e["body"].get("error"))
    assert len(errors) == 3
    assert (
        errors[0].startswith("HTTP 400: ") and errors[1].startswith("HTTP 401: ") and errors[2].startswith("HTTP 500")
    )
    assert "Incorrect API key provided: ***." in errors[1]


def test_an_error_message_never_prints_the_key(tmp_path):
    # a key pasted into a config value that ends up quoted in an error message
    proc = assay(
        "eval", "--datasets", "nope", "--api-key", KEY, "--model-args", json.dumps({"api_key": KEY}), check=False
    )
    assert proc.returncode == 2 and KEY not in proc.stdout + proc.stderr
    proc = assay("eval", "--datasets", KEY, "--api-key", KEY, "--work-dir", str(tmp_path), check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "***" in proc.stderr and KEY not in proc.stderr


def test_resume_sends_the_real_max_tokens(tmp_path, datasets_dir, test_server):
    """max_tokens is a setting, not a secret: logged as given and sent again by resume."""
    rows = gsm8k_rows(datasets_dir, 6)
    srv = test_server(rules=[{"match": r["question"], "answer": f"#### {gold(r['answer'])}"} for r in rows], ttft=0.3)
    args = [
        "eval",
        "--model",
        "m",
        "--api-url",
        srv.url,
        "--api-key",
        KEY,
        "--datasets",
        "gsm8k",
        "--limit",
        "6",
        "--generation-config",
        '{"max_tokens": 77, "temperature": 0}',
        "--model-args",
        json.dumps({"headers": {"X-Api-Key": KEY}}),
        "--dataset-dir",
        str(datasets_dir),
        "--work-dir",
        str(tmp_path),
        "--no-progress",
    ]
    proc = assay_popen(*args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run, _ = wait_for_events(tmp_path, "Generated", 1, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = len(srv.requests)
    generated = sum(e["type"] == "Generated" for e in _events(run))
    assert 1 <= generated <= before < 6
    (started,) = [e["body"] for e in _events(run) if e["type"] == "RunStarted"]
    assert started["config"]["generation_config"] == {"max_tokens": 77, "temperature": 0}
    assert started["config"]["model_args"] == {"headers": {"X-Api-Key": "***"}}

    resumed = assay("resume", str(run), "--api-key", KEY)
    assert KEY not in resumed.stdout + resumed.stderr
    assert len(srv.requests) == before + 6 - generated  # the samples left, each asked once
    assert [r["max_tokens"] for r in srv.requests] == [77] * len(srv.requests)
    assert all(r["temperature"] == 0 for r in srv.requests)
    _assert_nowhere(KEY, run)
