"""The perf report is a fold of the log alone: known answers from a hand-written log, and
``assay report RUN --format json`` on a real run reproduces the figures from events.jsonl."""

from __future__ import annotations

import json

import pytest
from assay.events import RequestTimed, RunFinished, RunStarted
from assay.log import LogWriter
from assay_testserver.testing import assay


def _write_log(path, bodies):
    with LogWriter(path / "events.jsonl", "known") as w:
        w.append_many(bodies)


def test_known_answers_from_a_hand_written_log(tmp_path):
    # Figures worked out by hand from these timestamps (seconds):
    #  r1: sent 100.0, chunks 100.05 100.07 100.09 (3 tokens) -> TTFT .05, E2E .09, TPOT (.09-.05)/2 = .02,
    #      ITL gaps .02 .02
    #  r2: sent 100.1, chunks 100.2 100.3 (2 tokens)           -> TTFT .1, E2E .2, TPOT .1, ITL .1
    #  r3: failed (timeout) at 100.1 .. 101.1                  -> only in counts and the window
    #  w:  warmup, ignored
    #  window = max(end)=101.1 - min(sent)=100.0 = 1.1 s; 2 ok -> 2/1.1 req/s; output 5 tokens -> 5/1.1 tok/s;
    #  total (prompt 10+20 + output 5) / 1.1
    pt = {"parallel": 2, "number": 3, "rate": None}
    bodies = [
        RunStarted(kind="perf", config={"model": "m", "percentiles": [50, 100], "slo": {"ttft": 60, "e2e": 150}}),
        RequestTimed(request_id="w", sent=99.0, chunk_times=[99.5], end=99.6, phase="warmup", point=pt),
        RequestTimed(
            request_id="r1",
            sent=100.0,
            chunk_times=[100.05, 100.07, 100.09],
            end=100.1,
            status=200,
            prompt_tokens=10,
            output_tokens=3,
            usage_reported=True,
            stream=True,
            point=pt,
        ),
        RequestTimed(
            request_id="r2",
            sent=100.1,
            chunk_times=[100.2, 100.3],
            end=100.3,
            status=200,
            prompt_tokens=20,
            output_tokens=2,
            stream=True,
            point=pt,
        ),
        RequestTimed(request_id="r3", sent=100.1, end=101.1, ok=False, error_kind="timeout", point=pt),
        RunFinished(),
    ]
    _write_log(tmp_path, bodies)
    from assay_perf.metrics import PerfReporter

    rep = PerfReporter().build(tmp_path / "events.jsonl")
    (p,) = rep["points"]
    assert rep["warmup_requests"] == 1
    assert (p["requests"], p["succeeded"], p["failed"], p["failures"]) == (3, 2, 1, {"timeout": 1})
    assert p["window_s"] == pytest.approx(1.1)
    assert p["request_throughput"] == pytest.approx(2 / 1.1)
    assert p["output_token_throughput"] == pytest.approx(5 / 1.1)
    assert p["total_token_throughput"] == pytest.approx(35 / 1.1)
    assert p["ttft_s"]["mean"] == pytest.approx(0.075)
    assert p["ttft_s"]["p100"] == pytest.approx(0.1)
    assert p["e2e_latency_s"]["mean"] == pytest.approx(0.145)
    assert p["tpot_s"]["mean"] == pytest.approx(0.06)
    assert p["itl_s"]["n"] == 3 and p["itl_s"]["mean"] == pytest.approx(0.14 / 3)
    assert p["usage_reported"] == 1
    # SLO ttft<=60ms and e2e<=150ms: r1 (50, 90) meets both, r2 (100, 200) does not
    assert p["goodput"]["good_requests"] == 1
    assert p["goodput"]["requests_per_s"] == pytest.approx(1 / 1.1)


def test_open_loop_records_scheduled_time(tmp_path):
    # r2 meant to go at 100.0 but went at 100.4: the client's queueing (0.4 s) must show
    pt = {"parallel": 1, "number": 2, "rate": 10.0}
    _write_log(
        tmp_path,
        [
            RunStarted(kind="perf", config={}),
            RequestTimed(
                request_id="r1", scheduled=99.9, sent=99.9, chunk_times=[100.3], end=100.4, output_tokens=1, point=pt
            ),
            RequestTimed(
                request_id="r2", scheduled=100.0, sent=100.4, chunk_times=[100.6], end=100.7, output_tokens=1, point=pt
            ),
        ],
    )
    from assay_perf.metrics import PerfReporter

    (p,) = PerfReporter().build(tmp_path / "events.jsonl")["points"]
    assert p["queue_delay_s"]["max"] == pytest.approx(0.4)
    assert p["window_s"] == pytest.approx(0.8)  # from the first scheduled time, not the first sent


def test_report_command_folds_a_real_run(server_process, perf, request_events, tmp_path):
    url = server_process(ttft=0.01, itl=0.002)
    run_dir, rep = perf(
        "--url",
        url,
        "--model",
        "m",
        "--parallel",
        "4",
        "--number",
        "12",
        "--stream",
        "--max-tokens",
        "6",
        "--min-tokens",
        "6",
        "--min-prompt-length",
        "4",
        "--max-prompt-length",
        "9",
        "--percentiles",
        "50",
        "90",
    )
    report = json.loads(assay("report", str(run_dir), "--format", "json").stdout)
    section = report["sections"]["perf"] if "sections" in report else report
    assert section == json.loads((run_dir / "report.json").read_text())["sections"]["perf"]
    (p,) = section["points"]
    events = request_events(run_dir)
    ttfts = sorted(e["chunk_times"][0] - e["sent"] for e in events)
    assert p["ttft_s"]["mean"] == pytest.approx(sum(ttfts) / len(ttfts), abs=1e-12)
    assert p["ttft_s"]["max"] == ttfts[-1]
    assert set(p["ttft_s"]) >= {"p50", "p90"} and "p99" not in p["ttft_s"]
    # the random dataset without a tokenizer makes 4..9 words; the test server counts words
    assert 4 <= p["prompt_tokens"]["min"] and p["prompt_tokens"]["max"] <= 9
    assert (run_dir / "points" / "parallel_4_number_12.json").is_file()


def test_cli_prints_tables_and_report_renders(test_server, tmp_path, capsys):
    from assay.cli import main

    srv = test_server(default_answer="x y z")
    rc = main(
        [
            "perf",
            "--url",
            srv.url,
            "--model",
            "m",
            "--number",
            "3",
            "--parallel",
            "2",
            "--stream",
            "--max-tokens",
            "3",
            "--work-dir",
            str(tmp_path),
            "--name",
            "cli",
            "--slo",
            "ttft:5000",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "TTFT" in out and "Req/s" in out and "3/3" in out  # goodput: all 3 within a 5 s TTFT SLO
    assert main(["report", str(tmp_path / "cli")]) == 0
    assert "TTFT" in capsys.readouterr().out
    # a second run with the same --name is refused, not appended to the first log
    assert (
        main(["perf", "--url", srv.url, "--model", "m", "--number", "1", "--work-dir", str(tmp_path), "--name", "cli"])
        == 2
    )
    assert "already holds a run" in capsys.readouterr().err


def test_markdown_and_csv_are_the_perf_reporters_table(tmp_path):
    # the kernel names no perf column: `assay report --format markdown|csv` is PerfReporter.plain_table
    pt = {"parallel": 2, "number": 3, "rate": None}
    _write_log(
        tmp_path,
        [
            RunStarted(kind="perf", config={"model": "m"}),
            RequestTimed(
                request_id="a", sent=100.0, chunk_times=[100.05, 100.09], end=100.1, output_tokens=2, point=pt
            ),
            RequestTimed(request_id="b", sent=100.1, chunk_times=[100.2, 100.3], end=100.3, output_tokens=3, point=pt),
            RequestTimed(request_id="c", sent=100.1, end=101.1, ok=False, error_kind="timeout", point=pt),
            RunFinished(),
        ],
    )
    # window 101.1 - 100.0 = 1.1 s: 2 ok -> 1.8182 req/s, 5 tokens -> 4.5455 tok/s; TTFT .05 and .1, E2E .09 and .2
    md = assay("report", str(tmp_path), "--format", "markdown").stdout
    assert md == (
        "| Point | Requests | OK | Failed | Req/s | Out tok/s | TTFT p50 (s) | TTFT p99 (s) | E2E p50 (s) | "
        "E2E p99 (s) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        "| parallel=2, number=3 | 3 | 2 | 1 | 1.8182 | 4.5455 | 0.0750 | 0.0995 | 0.1450 | 0.1989 |\n"
    )
    rows = assay("report", str(tmp_path), "--format", "csv").stdout.splitlines()
    assert rows[0] == "Point,Requests,OK,Failed,Req/s,Out tok/s,TTFT p50 (s),TTFT p99 (s),E2E p50 (s),E2E p99 (s)"
    cells = rows[1].split('",', 1)[1].split(",")
    assert rows[1].startswith('"parallel=2, number=3",') and cells[:3] == ["3", "2", "1"]
    assert [float(c) for c in cells[3:]] == pytest.approx([2 / 1.1, 5 / 1.1, 0.075, 0.0995, 0.145, 0.1989])
