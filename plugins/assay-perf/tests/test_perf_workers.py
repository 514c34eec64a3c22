"""``assay perf --workers N`` on the local executor: N processes, one schedule, one log (assay_perf.workers).

Against the real test server (its own process) with injected TTFT 50 ms and ITL 5 ms over 8 tokens,
so a request's truth is known: the same run with 1 and 2 workers must log the same requests (ids,
counts, tokens), a dense ``seq``, and TTFT / E2E within a few milliseconds of each other.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

FLAGS = (
    "--model",
    "m",
    "--max-tokens",
    "8",
    "--min-tokens",
    "8",
    "--min-prompt-length",
    "4",
    "--max-prompt-length",
    "8",
)


def _log(run_dir):
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def _measured(events):
    return {e["body"]["request_id"]: e["body"] for e in events if e["type"] == "RequestTimed"}


def test_two_workers_give_the_run_of_one(server_process, perf):
    url = server_process(ttft=0.05, itl=0.005)
    runs = {}
    for w in (1, 2):
        args = ("--url", url, *FLAGS, "--parallel", "8", "--number", "48", "--warmup-num", "4", "--stream")
        run_dir, rep = perf(*args, "--workers", str(w), "--name", f"w{w}")
        (pt,) = rep["points"]
        assert (pt["requests"], pt["succeeded"], pt["failed"]) == (48, 48, 0)
        events = _log(run_dir)
        assert [e["seq"] for e in events] == list(range(len(events)))  # one writer: dense
        assert [e["type"] for e in events if e["type"] != "RequestTimed"] == ["RunStarted", "RunFinished"]
        runs[w] = (pt, _measured(events))
    (p1, e1), (p2, e2) = runs[1], runs[2]
    ids = {f"0-{i}" for i in range(48)} | {f"0-w-{i}" for i in range(4)}
    assert set(e1) == set(e2) == ids  # the request ids a single process gives
    assert all(e["output_tokens"] == 8 and len(e["chunk_times"]) == 8 for e in e2.values())
    # the same load: TTFT and E2E agree within a few ms (truth: 50 ms and 85 ms)
    assert abs(p2["ttft_s"]["mean"] - p1["ttft_s"]["mean"]) < 0.010, (p1["ttft_s"], p2["ttft_s"])
    assert abs(p2["e2e_latency_s"]["mean"] - p1["e2e_latency_s"]["mean"]) < 0.010
    assert 0.050 <= p2["ttft_s"]["mean"] < 0.065 and 0.050 <= p1["ttft_s"]["mean"] < 0.065


def test_workers_share_one_open_loop_schedule(server_process, perf):
    url = server_process(ttft=0.0, itl=0.0)
    offsets = {}
    for w in (1, 2):
        args = ("--url", url, *FLAGS, "--parallel", "16", "--number", "40", "--rate", "100", "--stream")
        run_dir, rep = perf(*args, "--workers", str(w), "--name", f"r{w}")
        (pt,) = rep["points"]
        assert pt["succeeded"] == 40
        events = _measured(_log(run_dir))
        t0 = min(e["scheduled"] for e in events.values())
        offsets[w] = [events[f"0-{i}"]["scheduled"] - t0 for i in range(40)]
    # the same seeded arrival times, whichever process sent the request (up to each worker's start skew)
    skew = statistics.median(b - a for a, b in zip(offsets[1], offsets[2]))
    assert max(abs(b - a - skew) for a, b in zip(offsets[1], offsets[2])) < 0.005
    assert offsets[1][-1] > 0.2  # 40 arrivals at 100/s: the schedule really spreads them


def test_workers_refuse_what_one_process_must_do(tmp_path):
    base = [sys.executable, "-m", "assay", "perf", "--url", "http://127.0.0.1:9/v1", *FLAGS, "--number", "4"]
    base += ["--work-dir", str(tmp_path)]
    cases = {
        ("--parallel", "1", "--workers", "2"): "error: --parallel 1 is less than --workers 2: each worker needs a slot",
        ("--parallel", "2", "--workers", "2", "--multi-turn"): (
            "error: --multi-turn runs in one process (a conversation is one client's): no --workers"
        ),
        ("--parallel", "2", "--workers", "0"): "error: --workers must be >= 1, got 0",
    }
    for flags, message in cases.items():
        proc = subprocess.run([*base, *flags], capture_output=True, text=True)
        assert (proc.returncode, proc.stderr.strip(), proc.stdout) == (2, message, "")
    assert not list(tmp_path.iterdir())  # refused before a run directory exists
