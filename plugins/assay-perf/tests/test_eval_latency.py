"""The eval's request latency section (EvalScope's collect_perf): an `assay eval` against the test server,
which waits `ttft` before the first token, and `assay report` showing what its RequestTimed events hold."""

from __future__ import annotations


import pytest
from assay_testserver.testing import assay, bodies, report_items, run_dir_of, section

pytestmark = pytest.mark.slow


def test_an_eval_report_has_its_request_latency(test_server, datasets_dir, tmp_path) -> None:
    # 11 tokens 5 ms apart: a server late for its first tokens (a loaded machine) writes those due by then
    # together, the rest keep their pace (it paces to absolute deadlines), so the mean TPOT stays near 5 ms
    srv = test_server(default_answer="Adding the numbers gives the answer we want here. #### 1", ttft=0.03, itl=0.005)
    common = ["--dataset-dir", str(datasets_dir), "--limit", "4", "--no-progress", "--work-dir", str(tmp_path)]
    proc = assay("eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", *common)
    run = run_dir_of(proc)
    assert "request latency of the eval (ms)" in proc.stdout
    (point,) = section(report_items(run, 0), "eval_latency")["requests"]
    timed = bodies(run, "RequestTimed")
    assert point["requests"] == point["succeeded"] == len(timed) == 4
    assert point["ttft_s"]["mean"] >= 0.03  # the server waited 30 ms before the first token
    assert point["ttft_s"]["mean"] == pytest.approx(sum(t["chunk_times"][0] - t["sent"] for t in timed) / 4, rel=1e-9)
    assert point["tpot_s"] is None and "TPOT" not in proc.stdout  # whole answers: no time per output token
    # streamed: TPOT after TTFT, the section's figures (mean / p50 / p90 / p95 / p99, ms)
    streamed = assay("eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", "--stream", *common)
    (point,) = section(report_items(run_dir_of(streamed), 0), "eval_latency")["requests"]
    tpot = point["tpot_s"]
    # the server waited 5 ms between tokens (reads: within 1 ms); half of it allows a first write 25 ms late
    assert tpot["n"] == 4 and 0.0025 < tpot["mean"] < 0.05
    head, row = [line for line in streamed.stdout.splitlines() if "TTFT" in line or line.startswith("│")][-2:]
    cells = [c.strip() for c in row.split("│")[1:-1]]
    assert [c.strip() for c in head.split("┃")[1:-1]][4:7] == ["TTFT", "TPOT", "E2E"]
    assert cells[5] == " / ".join(f"{tpot[k] * 1000:.1f}" for k in ("mean", "p50", "p90", "p95", "p99"))
    # a run with no requests (the offline mock model) has no such section
    mock = assay("eval", "--model", "mock", "--datasets", "gsm8k", *common)
    assert "request latency of the eval" not in mock.stdout
