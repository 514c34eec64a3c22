"""The eval's request latency section (EvalScope's collect_perf): an `assay eval` against the test server,
which waits `ttft` before the first token, and `assay report` showing what its RequestTimed events hold."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def assay(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "assay", *args], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_an_eval_report_has_its_request_latency(test_server, datasets_dir, tmp_path) -> None:
    srv = test_server(default_answer="#### 1", ttft=0.03, itl=0.001)
    common = ["--dataset-dir", str(datasets_dir), "--limit", "4", "--no-progress", "--work-dir", str(tmp_path)]
    proc = assay("eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", *common)
    run = re.search(r"run directory: (\S+)", proc.stderr).group(1)
    assert "request latency of the eval (ms)" in proc.stdout
    items = json.loads(assay("report", run, "--format", "json").stdout)
    (section,) = [i["section"] for i in items if i.get("reporter") == "eval_latency"]
    (point,) = section["requests"]
    timed = [
        json.loads(x)["body"]
        for x in open(f"{run}/events.jsonl", encoding="utf-8")
        if json.loads(x)["type"] == "RequestTimed"
    ]
    assert point["requests"] == point["succeeded"] == len(timed) == 4
    assert point["ttft_s"]["mean"] >= 0.03  # the server waited 30 ms before the first token
    assert point["ttft_s"]["mean"] == pytest.approx(sum(t["chunk_times"][0] - t["sent"] for t in timed) / 4, rel=1e-9)
    # a run with no requests (the offline mock model) has no such section
    mock = assay("eval", "--model", "mock", "--datasets", "gsm8k", *common)
    assert "request latency of the eval" not in mock.stdout
