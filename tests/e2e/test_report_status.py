"""`assay report` says what a log holds and exits non-zero unless the run completed.

Exit codes: 0 completed, 1 failed or interrupted, 2 nothing to report (no events, damage), 3 not finished.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from assay_testserver.testing import assay_popen
from helpers import assay, run_dirs

pytestmark = pytest.mark.slow  # starts `assay` subprocesses


def test_empty_log(tmp_path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "events.jsonl").write_bytes(b"")
    proc = assay("report", str(run), check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        f"error: {run / 'events.jsonl'}: the log holds no events (the file is empty); nothing was recorded for this run\n"
    )


def test_log_with_only_a_torn_line(tmp_path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_bytes(b'{"v":1,"type":"RunStarted","seq":0,"ts":1.0,"run_id":"x","bo')
    for fmt in ("table", "json"):
        proc = assay("report", str(log), "--format", fmt, check=False)
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr == (
            f"error: {log}: the log holds no events (only a torn last line of 60 bytes, never acknowledged); "
            "nothing was recorded for this run\n"
        )


def _gsm8k(tmp_path, srv, data_dir, *more):
    args = ["eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", "--dataset-dir", str(data_dir)]
    args += ["--dataset-args", '{"gsm8k": {"few_shot_num": 0}}', "--work-dir", str(tmp_path / "runs")]
    return [*args, "--no-progress", *more]


def test_failed_run(tmp_path, test_server) -> None:
    data = tmp_path / "data" / "gsm8k"
    data.mkdir(parents=True)
    (data / "test.jsonl").write_text('{"question": "q", "answer": "#### 1"}\n{"question": 2}\n', encoding="utf-8")
    srv = test_server()
    assay(*_gsm8k(tmp_path, srv, tmp_path / "data"), check=2, timeout=120)
    (run,) = run_dirs(tmp_path / "runs")
    rep = assay("report", str(run), check=False)
    assert rep.returncode == 1
    err = f"{data / 'test.jsonl'}:2: expected an object with string keys 'question' and 'answer'"
    assert rep.stderr == f"run failed: AssayError: {err} (0 samples loaded, 0 errored when it stopped)\n"
    js = assay("report", str(run), "--format", "json", check=False)
    assert js.returncode == 1 and json.loads(js.stdout) == []


def test_interrupted_and_killed_runs(tmp_path, test_server, datasets_dir) -> None:
    srv = test_server(ttft=60.0)  # no answer comes while the test runs
    # SIGINT's default disposition for the run, whatever this process inherited (as test_no_silent_failure's
    # signal test does): a test run started in the background by a script (`pytest ... &` without job
    # control) has SIGINT ignored, and assay rightly keeps an ignored signal ignored
    proc = assay_popen(
        *_gsm8k(tmp_path, srv, datasets_dir, "--limit", "3"),
        env={"PYTHONFAULTHANDLER": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while len(srv.requests) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert srv.requests, "no request reached the server"
    (run,) = run_dirs(tmp_path / "runs")
    log = run / "events.jsonl"
    # killed (or still running): no RunFinished yet
    rep = assay("report", str(run), check=False)
    assert rep.returncode == 4
    assert rep.stderr == (
        "run not finished: the log has no RunFinished (3 samples loaded, 0 errored so far); it is still running, "
        f"or it was killed: finish it with `assay resume {run}`\n"
    )
    assert rep.stdout == ""  # nothing scored yet: no rows
    os.kill(proc.pid, signal.SIGINT)
    try:
        proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # say why: where it waits, and which signals it ignores or blocks
        status = open(f"/proc/{proc.pid}/status").read()  # its signals: pending, blocked, ignored, caught
        masks = "\n".join(line for line in status.splitlines() if line.startswith(("Sig", "ShdPnd")))
        proc.send_signal(signal.SIGABRT)  # faulthandler (PYTHONFAULTHANDLER) prints every thread's stack
        stacks = proc.communicate(timeout=30)[1]
        pytest.fail(f"the run did not end within 60 s of SIGINT; its signal masks:\n{masks}\nits threads:\n{stacks}")
    last = json.loads(log.read_bytes().splitlines()[-1])
    assert last["type"] == "RunFinished" and last["body"]["status"] == "interrupted"
    rep = assay("report", str(run), check=False)
    assert rep.returncode == 1
    assert rep.stderr.startswith("run interrupted: ")
    assert rep.stderr.endswith(" (3 samples loaded, 0 errored when it stopped)\n")
