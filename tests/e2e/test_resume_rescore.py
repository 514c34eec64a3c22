"""kill -9 at any moment, then `assay resume`: every sample generated and scored exactly once.
`assay rescore` with the server gone: a new run from the stored generations, no model call."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter

from helpers import assay, eval_gsm8k, gold, gsm8k_rows, report_rows, run_dirs
from assay_testserver.testing import assay_popen, wait_for_events
from assay_testserver.testing import events as _events

N = 40


def _start(*args):
    return assay_popen(*args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_kill_9_then_resume_does_everything_exactly_once(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, N)
    srv = test_server(
        rules=[
            {"match": r["question"], "answer": f"#### {gold(r['answer'])}" if i % 2 else "#### -1"}
            for i, r in enumerate(rows)
        ],
        ttft=0.1,
    )
    common = ["--dataset-dir", str(datasets_dir), "--no-progress"]
    # kill points: after the first event, after some generations, after most of them
    for attempt, after in enumerate([1, 6, 25]):
        work = tmp_path / f"w{attempt}"
        args = ["eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", "--limit", str(N)]
        proc = _start(*args, "--eval-batch-size", "2", "--work-dir", str(work), *common)
        run, _ = wait_for_events(work, "RunStarted" if after == 1 else "Generated", after, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = Counter(e["type"] for e in _events(run))
        assert before["RunFinished"] == 0
        # the first resume is itself killed once mid-way when there is enough left to do
        if attempt == 0:
            proc = _start("resume", str(run))
            wait_for_events(work, "Generated", before["Generated"] + 2, proc)  # it has done some of the rest
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            mid = Counter(e["type"] for e in _events(run))
            assert before["Generated"] + 2 <= mid["Generated"] < N and mid["RunFinished"] == 0  # killed mid-way
        assay("resume", str(run), "--eval-batch-size", "8")
        events = _events(run)
        loaded = Counter(e["body"]["sample_id"] for e in events if e["type"] == "SampleLoaded")
        generated = Counter(e["body"]["sample_id"] for e in events if e["type"] == "Generated")
        scored = Counter(e["body"]["sample_id"] for e in events if e["type"] == "Scored")
        assert len(loaded) == N and set(loaded.values()) == {1}, "each sample loaded once"
        assert set(generated) == set(loaded) and set(generated.values()) == {1}, "each sample generated once"
        assert set(scored) == set(loaded) and set(scored.values()) == {1}, "each sample scored once"
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(len(seqs)))
        (row,) = report_rows(run)
        assert row["num"] == N and row["errors"] == 0 and row["score"] == (N // 2) / N  # odd indices right


def test_rescore_needs_no_server(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 10)
    srv = test_server(rules=[{"match": r["question"], "answer": f"#### {gold(r['answer'])}"} for r in rows[:4]])
    eval_gsm8k(srv.url, datasets_dir, tmp_path, limit=10)
    served = len(srv.requests)
    srv.stop()
    (source,) = run_dirs(tmp_path)
    out = assay("rescore", str(source), "--scorers", "gsm8k_acc", "includes")
    new = [p for p in run_dirs(tmp_path) if p != source]
    assert len(new) == 1 and "0.4000" in out.stdout
    assert len(srv.requests) == served
    rows_new = {r["metric"]: r for r in report_rows(new[0])}
    assert rows_new["acc"]["score"] == report_rows(source)[0]["score"] == 0.4
    assert "includes" in rows_new
    started = _events(new[0])[0]["body"]
    assert started["source_run"] == str(source)
