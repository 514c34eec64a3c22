"""The log index under the TUI: checked against the kernel's own fold and a plain JSON read
of the same real logs (expected figures come from those, never typed in)."""

from __future__ import annotations

import itertools
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from assay.report import build_report
from assay_tui.index import ERRORED, FAILED, PASSED, Replayer, RunIndex, throughput_series
from assay_tui.runs import find_logs, read_info
from assay_tui.synth import write_eval_log, write_perf_log


def _gsm8k_run(datasets_dir: Path, work: Path, **extra) -> Path:
    pytest.importorskip("assay_gsm8k", reason="these real runs need the assay-gsm8k plugin")
    from assay import run_task

    cfg = {
        "model": "mock",
        "datasets": ["gsm8k"],
        "limit": 20,
        "dataset_dir": str(datasets_dir),
        "work_dir": str(work),
        "progress": False,
    }
    cfg.update(extra)
    run_task(cfg)
    (run_dir,) = [p for p in work.iterdir() if p.is_dir()]
    return run_dir


def _plain(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_index_matches_kernel_fold_and_plain_read(datasets_dir, tmp_path):
    run_dir = _gsm8k_run(datasets_dir, tmp_path / "w", model_args={"answer": "The answer is 18.\n#### 18"})
    ix = RunIndex(run_dir)
    ix.update()
    assert ix.complete and ix.torn_bytes == 0 and not ix.warnings
    events = _plain(run_dir / "events.jsonl")
    # expected: the kernel's report of the same log, and the lines counted by json.loads
    assert ix.report_rows() == build_report(run_dir)["rows"]
    assert ix.events == len(events)
    loaded = [e["body"]["sample_id"] for e in events if e["type"] == "SampleLoaded"]
    assert ix.sids == loaded and ix.n_samples == 20
    acc = {e["body"]["sample_id"]: e["body"]["value"] for e in events if e["type"] == "Scored"}
    for i, sid in enumerate(ix.sids):
        assert ix.value[i] == acc[sid]
        assert ix.status_of[i] == (PASSED if acc[sid] == 1.0 else FAILED)
        # the offsets point at this sample's own lines
        assert ix.read_line(ix.loaded_off[i])["body"]["sample_id"] == sid
        assert ix.read_line(ix.gen_off[i])["type"] == "Generated"
    # the mock always answers 18: exactly the samples whose gsm8k answer is 18 pass
    targets = {e["body"]["sample_id"]: str(e["body"]["target"]) for e in events if e["type"] == "SampleLoaded"}
    passed = {sid for sid, t in targets.items() if t.strip() == "18"}
    assert {ix.sids[i] for i in range(20) if ix.status_of[i] == PASSED} == passed
    assert ix.model == "mock" and ix.datasets == ["gsm8k"] and ix.status == "completed"
    d = ix.detail(0)
    assert d["loaded"]["body"]["messages"] and d["generated"]["body"]["output"].endswith("#### 18")
    assert [s["body"]["metric"] for s in d["scored"]] == [
        e["body"]["metric"] for e in events if e["type"] == "Scored" and e["body"]["sample_id"] == ix.sids[0]
    ]


def test_incremental_update_equals_one_pass(tmp_path):
    path = write_eval_log(tmp_path / "r", groups={"a": 30, "b": 25}, error_every=4)
    data = path.read_bytes()
    live = tmp_path / "live" / "events.jsonl"
    live.parent.mkdir()
    whole = RunIndex(path)
    whole.update()
    ix = RunIndex(live)
    # grow the file in uneven pieces, cutting lines in half: the tail is followed
    cuts = [0, 100, 1777, 4000, len(data) // 2, len(data) - 5, len(data)]
    for a, b in itertools.pairwise(cuts):
        with open(live, "ab") as f:
            f.write(data[a:b])
        ix.update()
        assert ix.offset == data[:b].rfind(b"\n") + 1
    assert ix.sids == whole.sids and bytes(ix.status_of) == bytes(whole.status_of)
    assert ix.report_rows() == whole.report_rows() == build_report(path)["rows"]
    # synth: k % 4 == 3 errors, so 30 -> 7 errored, 25 -> 6 errored
    assert ix.n_errors == 7 + 6 == int((ix.statuses() == ERRORED).sum())


def test_torn_tail_and_corrupt_line_are_warnings(tmp_path):
    path = write_eval_log(tmp_path / "r", groups={"main": 10})
    lines = path.read_bytes().splitlines(keepends=True)
    # line 5 corrupted (newline-terminated garbage), and a torn last line
    lines[4] = b'{"v":1,"type":"Generated","seq":4,"ts":1.0,"run_id":"x","body":{"sample_id": BROKEN\n'
    path.write_bytes(b"".join(lines) + b'{"v":1,"type":"Scored"')
    ix = RunIndex(path)
    ix.update()
    assert any(f"{path}:5: corrupted" in w for w in ix.warnings)
    assert ix.torn_bytes == len(b'{"v":1,"type":"Scored"') and "unterminated" in ix.torn_warning
    assert ix.events == len(lines) - 1
    info = read_info(path)
    assert any("unterminated" in w for w in info.warnings)
    # the replay control skips the bad line with the same warning and stops before the torn tail
    rp = Replayer(path)
    assert rp.step(10_000) == len(lines) - 1
    assert any(":5: corrupted" in w for w in rp.warnings)
    rp.close()


def test_find_logs_and_info(tmp_path, datasets_dir):
    run_dir = _gsm8k_run(datasets_dir, tmp_path / "w")
    write_perf_log(tmp_path / "w" / "perf1")
    logs, problems = find_logs([tmp_path / "w", tmp_path / "missing"])
    assert sorted(p.parent.name for p in logs) == sorted(["perf1", run_dir.name])
    assert problems == [f"{tmp_path / 'missing'}: no such file or directory"]
    info = read_info(run_dir / "events.jsonl")
    report = json.loads((run_dir / "report.json").read_text())
    assert info.kind == "eval" and info.model == "mock" and info.datasets == ["gsm8k"] and info.status == "completed"
    assert info.score == report["rows"][0]["score"] and info.errors == report["errored_samples"]
    assert read_info(tmp_path / "w" / "perf1" / "events.jsonl").kind == "perf"


def test_perf_plot_data(tmp_path):
    """The per-request figures the perf plots draw (the metric tables are assay-perf's reporter's)."""
    path = write_perf_log(tmp_path / "p", requests=100, parallel=(2,), fail_every=25)
    ix = RunIndex(path)
    ix.update()
    (p,) = ix.perf.values()
    # synth: request k sent at k*0.05, ttft 0.02+0.001*(k%10), 10 chunks 0.005 s apart; k%25==24 fail
    ok = np.frombuffer(bytes(p.ok), np.uint8).astype(bool)
    assert len(p.sent) == 100 and int(ok.sum()) == 96
    ttft = np.frombuffer(p.ttft, np.float64)[ok]
    expected = [0.02 + 0.001 * (k % 10) for k in range(100) if k % 25 != 24]
    assert ttft.tolist() == pytest.approx(expected, abs=1e-6)  # epoch-scale float64 timestamps
    latency = np.frombuffer(p.latency, np.float64)[ok]
    assert latency.tolist() == pytest.approx([t + 0.045 for t in expected], abs=1e-6)
    _, reqs, toks = throughput_series(p)
    assert sum(reqs) == pytest.approx(96) and sum(toks) == pytest.approx(960)


def test_perf_log_written_by_assay_perf(tmp_path, test_server):
    """A real `assay perf` run against the test server: the TUI's fold agrees with assay-perf's report."""
    pytest.importorskip("assay_perf", reason="assay-perf is not installed")
    from assay.cli import main

    srv = test_server(default_answer="one two three four five six", ttft=0.02, itl=0.005)
    rc = main(
        [
            "perf",
            "--url",
            srv.url,
            "--model",
            "m",
            "--parallel",
            "2",
            "--number",
            "12",
            "--stream",
            "--max-tokens",
            "16",
            "--work-dir",
            str(tmp_path),
            "--name",
            "perf",
            "--quiet",
        ]
    )
    assert rc == 0
    path = tmp_path / "perf" / "events.jsonl"
    ix = RunIndex(path)
    ix.update()
    assert ix.kind == "perf" and not ix.warnings
    (p,) = ix.perf.values()
    events = [e for e in _plain(path) if e["type"] == "RequestTimed" and e["body"].get("phase", "measure") == "measure"]
    assert len(p.sent) == len(events) == 12
    ok = np.frombuffer(bytes(p.ok), np.uint8).astype(bool)
    ttft = [e["body"]["chunk_times"][0] - e["body"]["sent"] for e in events if e["body"].get("ok", True)]
    assert np.frombuffer(p.ttft, np.float64)[ok].tolist() == pytest.approx(ttft, rel=1e-9)
    assert min(ttft) >= 0.02  # the server waits ttft before the first chunk


def test_search_and_members(tmp_path):
    path = write_eval_log(tmp_path / "r", groups={"a": 12, "b": 8})
    ix = RunIndex(path)
    ix.update()
    a = ix.members(ix.group("gsm8k", "a"))
    both = ix.members(ix.group("gsm8k", "OVERALL"))
    assert len(a) == 12 and len(both) == 20
    # synth prompts read "Question k: ..."; "question 1" matches k = 1, 10, 11 in subset a
    found = ix.search(a, "question 1")
    assert sorted(ix.sids[i] for i in found) == ["gsm8k/a/1", "gsm8k/a/10", "gsm8k/a/11"]
    assert ix.row(int(a[3]))["target"] == "3" and math.isclose(ix.row(int(a[3]))["score"], 1.0)


def test_copied_run_dir_replays(tmp_path):
    path = write_eval_log(tmp_path / "r", groups={"main": 5})
    shutil.copytree(tmp_path / "r", tmp_path / "copy")
    rp = Replayer(tmp_path / "copy")
    assert rp.step(1) == 1 and rp.last["type"] == "RunStarted"
    rp.step(10_000)
    assert rp.fold.rows() == build_report(path)["rows"]
    assert int(np.sum(list(rp.counts.values()))) == len(_plain(path))
    rp.close()


def test_unreadable_and_shrunk_logs_end_indexing_with_a_warning(tmp_path):
    ix = RunIndex(tmp_path / "gone" / "events.jsonl")
    assert ix.update() == 0 and ix.complete
    (warning,) = ix.warnings
    assert warning.startswith(f"{tmp_path / 'gone' / 'events.jsonl'}: cannot read: ")
    path = write_eval_log(tmp_path / "r", groups={"main": 4})
    ix = RunIndex(path)
    ix.update()
    path.write_bytes(path.read_bytes()[:100])
    assert ix.update() == 0 and ix.complete and "shrank" in ix.warnings[-1]


def test_plugin_event_with_clashing_fields_is_kept_core_misfit_is_reported(tmp_path):
    path = write_eval_log(tmp_path / "r", groups={"main": 6})
    lines = path.read_bytes().splitlines(keepends=True)
    # a plugin's event whose "value" is text (clashes with Scored.value) and a Scored with text value
    plugin = b'{"v":1,"type":"JudgeNote","seq":99,"ts":1.0,"run_id":"x","body":{"sample_id":"gsm8k/main/0","value":"great"}}\n'
    bad = b'{"v":1,"type":"Scored","seq":98,"ts":1.0,"run_id":"x","body":{"sample_id":"gsm8k/main/1","scorer":"s","metric":"acc","value":"high"}}\n'
    path.write_bytes(b"".join(lines[:-1]) + plugin + bad + lines[-1])
    ix = RunIndex(path)
    ix.update()
    n = len(lines) + 2
    assert ix.events == n - 1  # the malformed Scored is skipped, the plugin event is counted
    assert ix.warnings == [ix.warnings[0]] and f"{path}:{n - 1}: malformed Scored event" in ix.warnings[0]
    # expected: the kernel's report of the same log without the malformed line (the kernel refuses it)
    clean = tmp_path / "clean" / "events.jsonl"
    clean.parent.mkdir()
    clean.write_bytes(b"".join(lines[:-1]) + plugin + lines[-1])
    assert ix.report_rows() == build_report(clean)["rows"]


def test_concurrent_updates_do_not_double_count(tmp_path, monkeypatch):
    """Threads indexing the same log (a screen asked for it while the background pass ran)."""
    import threading

    import assay_tui.index

    monkeypatch.setattr(assay_tui.index, "_BLOCK", 16 << 10)  # many small slices
    path = write_eval_log(tmp_path / "r", groups={"main": 3000})
    ix = RunIndex(path)

    def work() -> None:
        while not ix.complete:
            ix.update(max_bytes=32 << 10)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ix.events == len(path.read_bytes().splitlines()) and ix.n_samples == 3000
    assert ix.report_rows() == build_report(path)["rows"]
