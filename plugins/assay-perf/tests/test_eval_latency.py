"""The eval's request latency section (EvalScope's collect_perf): an `assay eval` against the test server,
which waits `ttft` before the first token, and `assay report` showing what its RequestTimed events hold."""

from __future__ import annotations


import pytest
from assay_testserver.testing import assay, bodies, report_items, run_dir_of, section

pytestmark = pytest.mark.slow


def test_an_eval_report_has_its_request_latency(test_server, datasets_dir, tmp_path) -> None:
    srv = test_server(default_answer="#### 1", ttft=0.03, itl=0.001)
    common = ["--dataset-dir", str(datasets_dir), "--limit", "4", "--no-progress", "--work-dir", str(tmp_path)]
    proc = assay("eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", *common)
    run = run_dir_of(proc)
    assert "request latency of the eval (ms)" in proc.stdout
    (point,) = section(report_items(run, 0), "eval_latency")["requests"]
    timed = bodies(run, "RequestTimed")
    assert point["requests"] == point["succeeded"] == len(timed) == 4
    assert point["ttft_s"]["mean"] >= 0.03  # the server waited 30 ms before the first token
    assert point["ttft_s"]["mean"] == pytest.approx(sum(t["chunk_times"][0] - t["sent"] for t in timed) / 4, rel=1e-9)
    # a run with no requests (the offline mock model) has no such section
    mock = assay("eval", "--model", "mock", "--datasets", "gsm8k", *common)
    assert "request latency of the eval" not in mock.stdout
