"""SLA auto-tune: the search over real runs against a test server that slows down under load,
the answer as a projection of the log, and the search logic on known curves."""

from __future__ import annotations

import json

import anyio
import pytest
from assay.api import AssayError
from assay_perf import sla
from assay_testserver.testing import assay, table_cells


def test_sla_auto_tune_finds_the_highest_concurrency(server_process, perf, request_events):
    # latency = 0.05 s + 0.2 s per other request in flight; one wave of P requests (multiplier 1):
    # the last to arrive waits 0.05 + 0.2 (P - 1) s, so p99 <= 0.75 s holds up to P = 4 (0.65 s)
    # and fails from P = 5 (0.85 s), with 0.1 s of margin either side for a loaded machine
    url = server_process(ttft=0.05, ttft_per_active=0.2)
    run_dir, _ = perf(
        "--url",
        url,
        "--model",
        "m",
        "--sla-auto-tune",
        "--sla-params",
        '[{"p99_latency": "<=0.75"}]',
        "--sla-number-multiplier",
        "1",
        "--sla-num-runs",
        "1",
        "--sla-upper-bound",
        "64",
        "--max-tokens",
        "2",
    )
    section = json.loads((run_dir / "report.json").read_text())["sections"]["perf"]["sla"]
    assert section["variable"] == "parallel"
    # doubling 1, 2, 4 (pass), 8 (fail), then bisection 6 (fail), 5 (fail)
    assert [r["value"] for r in section["curve"]] == [1, 2, 4, 5, 6, 8]
    assert section["groups"][0]["passes"] == {"1": True, "2": True, "4": True, "5": False, "6": False, "8": False}
    assert section["groups"][0]["answer"] == 4
    # every run is one sweep point of number = 1 x value, logged as RequestTimed events
    evs = request_events(run_dir)
    assert len(evs) == 1 + 2 + 4 + 8 + 6 + 5
    assert {e["point"]["sla_run"] for e in evs} == {1}
    # the answer is a projection: `assay report` recomputes it from the log
    assert json.loads(assay("report", str(run_dir), "--format", "json").stdout)["sla"]["groups"][0]["answer"] == 4
    table = assay("report", str(run_dir)).stdout
    assert "SLA G1 (p99_latency <= 0.75): highest parallel meeting it: 4" in table
    header, *rows = table_cells(table, "SLA auto-tune over parallel")
    assert header == ["Parallel", "Runs", "Failed", "p99_latency", "G1"]
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("1", "1", "0", "pass"), ("2", "1", "0", "pass"), ("4", "1", "0", "pass"),
        ("5", "1", "0", "FAIL"), ("6", "1", "0", "FAIL"), ("8", "1", "0", "FAIL"),
    ]  # fmt: skip
    curve = {r["value"]: r["p99_latency"] for r in section["curve"]}
    assert [r[3] for r in rows] == [f"{curve[v]:.4g}" for v in (1, 2, 4, 5, 6, 8)]


def _rows(values: dict[int, float]) -> dict[int, dict]:
    return {v: {"value": v, "runs": 1, "requests": 2, "failed": 0, "p99_latency": x} for v, x in values.items()}


def test_search_and_answer_on_known_curves():
    lat = {v: 0.1 * v for v in range(1, 200)}  # passes "<= 1.0" up to 10
    rows = _rows(lat)
    seen: list[int] = []

    async def measure(v):
        seen.append(v)
        return rows[v]

    group = {"p99_latency": ("<=", 1.0)}
    anyio.run(sla.search, group, 3, 1, 100, measure)
    assert seen == [3, 6, 12, 9, 10, 11]
    measured = [rows[v] for v in sorted(set(seen))]
    assert sla.answer(measured, group) == 10
    seen.clear()
    anyio.run(sla.search, group, 40, 1, 100, measure)  # the start fails: halve, then bisect
    assert seen == [40, 20, 10, 15, 12, 11]
    # nothing passes; everything passes (the answer is the upper bound)
    assert sla.answer([rows[v] for v in (1, 2)], {"p99_latency": ("<", 0.05)}) is None
    seen.clear()
    anyio.run(sla.search, {"p99_latency": ("<=", 100.0)}, 1, 1, 20, measure)
    assert seen == [1, 2, 4, 8, 16, 20]
    # a failed request fails the value whatever its latency, unless the group sets an error_rate condition
    failed = {**rows[2], "failed": 1, "error_rate": 0.5}
    assert sla.answer([rows[1], failed, rows[3]], group) == 1
    ok_rows = [{**r, "error_rate": 0.0} for r in (rows[1], rows[3])]
    tolerant = {**group, "error_rate": ("<=", 0.5)}
    assert sla.answer([ok_rows[0], failed, ok_rows[1]], tolerant) == 3
    assert sla.metric_value({"failed": 1, "requests": 4}, "error_rate") == 0.25
    # max objective: climb while it improves; the answer is the best measured
    tps = {v: {"value": v, "runs": 1, "requests": 2, "failed": 0, "tps": min(v, 8) * 10.0} for v in range(1, 65)}
    seen.clear()

    async def measure_tps(v):
        seen.append(v)
        return tps[v]

    anyio.run(sla.search, {"tps": ("max", None)}, 1, 1, 64, measure_tps)
    assert seen == [1, 2, 4, 8, 16]
    assert sla.answer([tps[v] for v in seen], {"tps": ("max", None)}) == 8


def test_sla_params_errors(perf):
    with pytest.raises(AssayError, match="unknown metric 'p99_speed'"):
        sla.parse_params('[{"p99_speed": "<=1"}]')
    with pytest.raises(AssayError, match=r"'about 2' is not <=X"):
        sla.parse_params('{"avg_ttft": "about 2"}')
    assert sla.parse_params('{"p99.9_ttft": "< 0.5", "rps": ">=10"}') == [
        {"p99.9_ttft": ("<", 0.5), "rps": (">=", 10.0)}
    ]
    url = "http://127.0.0.1:1/v1"
    with pytest.raises(AssayError, match="--sla-auto-tune needs --sla-params"):
        perf("--url", url, "--model", "m", "--sla-auto-tune")
    with pytest.raises(AssayError, match="TPOT and ITL are measured on streamed answers"):
        perf("--url", url, "--model", "m", "--sla-auto-tune", "--sla-params", '[{"avg_tpot": "<=0.05"}]')


def test_sla_over_the_rate(test_server, perf, request_events):
    srv = test_server()
    run_dir, rep = perf(
        "--url", srv.url, "--model", "m", "--sla-auto-tune", "--sla-variable", "rate", "--sla-params",
        '[{"rps": ">0", "error_rate": "<=0"}]', "--sla-num-runs", "2", "--sla-upper-bound", "8",
        "--sla-fixed-parallel", "3", "--sla-number-multiplier", "0.5", "--max-tokens", "2",
    )  # fmt: skip
    # everything passes: doubling 1, 2, 4, 8 (the upper bound); each value twice, open loop at that rate
    assert [r["value"] for r in rep["sla"]["curve"]] == [1.0, 2.0, 4.0, 8.0]
    assert [r["runs"] for r in rep["sla"]["curve"]] == [2, 2, 2, 2]
    assert rep["sla"]["groups"][0]["answer"] == 8.0
    points = sorted({(e["point"]["rate"], e["point"]["parallel"], e["point"]["number"], e["point"]["sla_run"])
                     for e in request_events(run_dir)})  # fmt: skip
    assert points == [(r, 3, max(1, round(r * 0.5)), k) for r in (1.0, 2.0, 4.0, 8.0) for k in (1, 2)]
