"""``assay perf --server-metrics``: the test server's real ``GET /metrics`` (vLLM's, SGLang's and TGI's
names, values following its load) sampled during each point, folded into the report; failed
scrapes are counted and shown, never fail the run."""

from __future__ import annotations

import io
import json

import pytest
from assay_perf.metrics import PerfReporter
from assay_testserver.testing import assay, table_cells
from rich.console import Console

LOAD = ("--model", "m", "--stream", "--max-tokens", "10", "--min-tokens", "10")
LOAD += ("--min-prompt-length", "60", "--max-prompt-length", "60", "--server-metrics-interval", "0.03")


def _scrapes(run_dir):
    out = []
    with open(run_dir / "events.jsonl", encoding="utf-8") as f:
        for line in f:
            ev = json.loads(line)
            if ev["type"] == "ServerMetricsSampled":
                out.append(ev["body"])
    return out


def test_vllm_metrics_follow_the_load(server_process, perf, request_events):
    url = server_process(ttft=0.15, itl=0.01, kv_cache_tokens=1000)
    run_dir, rep = perf("--url", url, "--parallel", "4", "--number", "12", "--server-metrics", *LOAD)
    (p,) = rep["points"]
    assert (p["succeeded"], p["failed"]) == (12, 0)
    sm = p["server_metrics"]
    assert sm["url"] == url[: -len("/v1")] + "/metrics"
    assert sm["failed"] == 0 and sm["scrapes"] >= 10 and sm["failures"] == {}
    assert sm["running"]["max"] == 4  # the concurrency
    assert 2 <= sm["running"]["mean"] <= 4
    # every scrape falls inside the point: none before its first request is sent, none after its last ends
    evs = request_events(run_dir)
    assert all(min(e["sent"] for e in evs) < s["t"] <= max(e["end"] for e in evs) + 0.5 for s in _scrapes(run_dir))
    assert sm["waiting"] == {"n": sm["scrapes"], "mean": 0.0, "max": 0.0}
    # the KV cache holds each running request's prompt and answer tokens (the server's usage) / 1000
    held = {e["prompt_tokens"] + e["output_tokens"] for e in request_events(run_dir)}
    assert len(held) == 1
    assert sm["kv_cache_usage"]["max"] == pytest.approx(4 * held.pop() / 1000)
    assert sm["prefix_cache_hit_rate"] is None  # no prefix cache simulated: the counters stay at 0
    scrapes = _scrapes(run_dir)
    assert len(scrapes) == sm["scrapes"] and all(s["point"] == p["point"] and "error_kind" not in s for s in scrapes)
    names = {s[0] for s in scrapes[0]["samples"]}
    assert names == {
        "vllm:num_requests_running",
        "vllm:num_requests_waiting",
        "vllm:kv_cache_usage_perc",
        "vllm:prefix_cache_queries",
        "vllm:prefix_cache_hits",
    }
    assert scrapes[0]["samples"][0][1] == {"engine": "0", "model_name": "test-model"}


def test_waiting_queue_and_sweep(server_process, perf):
    url = server_process(ttft=0.15, itl=0.01, max_num_seqs=2)
    _, rep = perf("--url", url, "--parallel", "1", "4", "--number", "3", "8", "--server-metrics", *LOAD)
    one, four = rep["points"]
    assert (one["point"]["parallel"], four["point"]["parallel"]) == (1, 4)
    assert one["server_metrics"]["running"]["max"] == 1 and one["server_metrics"]["waiting"]["max"] == 0
    # the server runs 2 at once: the other 2 of the 4 in flight wait
    assert four["server_metrics"]["running"]["max"] == 2 and four["server_metrics"]["waiting"]["max"] == 2
    assert four["server_metrics"]["waiting"]["mean"] > 1


@pytest.mark.parametrize("flavor", ["sglang", "tgi"])
def test_sglang_and_tgi_names(server_process, perf, flavor):
    url = server_process(ttft=0.15, itl=0.01, metrics_flavor=flavor, prefix_cache_block=8)
    _, rep = perf(
        "--url", url, "--parallel", "3", "--number", "6", "--server-metrics", *LOAD,
        "--prefix-length", "40", "--prefix-count", "1",
    )  # fmt: skip
    sm = rep["points"][0]["server_metrics"]
    assert sm["failed"] == 0 and sm["running"]["max"] == 3 and sm["waiting"]["max"] == 0
    if flavor == "sglang":  # token_usage and the hit-rate gauge
        assert 0 < sm["kv_cache_usage"]["max"] <= 1 and 0 < sm["prefix_cache_hit_rate"] < 1
    else:  # TGI has neither
        assert sm["kv_cache_usage"] is None and sm["prefix_cache_hit_rate"] is None


def test_vllm_prefix_cache_counters(server_process, perf):
    # every prompt starts with the same 40-word prefix (5 blocks of 8); after the first request,
    # each one finds those 5 blocks cached: the server's counters say so between two scrapes
    url = server_process(ttft=0.1, prefix_cache_block=8)
    _, rep = perf(
        "--url", url, "--parallel", "1", "--number", "8", "--server-metrics", *LOAD,
        "--prefix-length", "40", "--prefix-count", "1",
    )  # fmt: skip
    p = rep["points"][0]
    rate = p["server_metrics"]["prefix_cache_hit_rate"]
    assert rate is not None and 0.3 < rate < 0.7  # 40 of ~100 prompt words cached
    assert p["prefix_cache_hit_rate"] == pytest.approx(rate, abs=0.1)  # the clients' own figure (usage)
    # the report's table: mean / max over the scrapes, the hit rate in %
    buf = io.StringIO()
    PerfReporter().render(rep, Console(file=buf, width=200, color_system=None))
    sm = p["server_metrics"]

    def mm(s, scale=1.0):
        return f"{s['mean'] * scale:.1f} / {s['max'] * scale:.1f}"

    assert table_cells(buf.getvalue(), "server metrics (Prometheus")[1:] == [
        ["1", "8", str(sm["scrapes"]), "0", mm(sm["running"]), mm(sm["waiting"]),
         mm(sm["kv_cache_usage"], 100), f"{rate * 100:.1f}"],
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("fault", "kind"), [("http_500", "http_500"), ("garbage", "malformed"), ("refused", "connection")]
)
def test_failed_scrapes_are_counted_never_fatal(test_server, tmp_path, fault, kind):
    srv = test_server(ttft=0.1, metrics_fault=None if fault == "refused" else fault)
    extra = ["http://127.0.0.1:1/metrics"] if fault == "refused" else []
    args = ["perf", "--url", srv.url, "--parallel", "2", "--number", "4", *LOAD, "--server-metrics", *extra]
    env = {"COLUMNS": "200", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = assay(*args, "--work-dir", str(tmp_path), "--name", "r", env=env, timeout=120)
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    (p,) = report["sections"]["perf"]["points"]
    assert (p["succeeded"], p["failed"]) == (4, 0)
    sm = p["server_metrics"]
    assert sm["scrapes"] >= 3 and sm["failed"] == sm["scrapes"] and sm["failures"] == {kind: sm["scrapes"]}
    assert sm["running"] is None and sm["kv_cache_usage"] is None
    out = proc.stdout
    assert f"{sm['scrapes']} of {sm['scrapes']} scrapes failed ({kind}={sm['scrapes']})" in out
    n = str(sm["scrapes"])
    assert table_cells(out, "server metrics (Prometheus") == [
        ["Parallel", "Number", "Scrapes", "Failed", "Running", "Waiting", "KV cache %", "Prefix hit %"],
        ["2", "4", n, n, "-", "-", "-", "-"],
    ]
    assert "\x1b" not in out + proc.stderr  # the garbage page's escape sequence never reaches the terminal


def test_the_key_goes_to_the_api_host_only(test_server, perf):
    key = "sk-SECRET-metrics-1"
    api = test_server(ttft=0.1, require_api_key=key)
    other = test_server()  # another port: another host as far as credentials go
    base = ["--url", api.url, "--parallel", "2", "--number", "4", "--api-key", key, *LOAD]
    run_dir, rep = perf(*base, "--server-metrics")
    assert rep["points"][0]["server_metrics"]["failed"] == 0
    assert api.server.metrics_auth and all(api.server.metrics_auth)
    run_dir, rep = perf(*base, "--server-metrics", other.url.removesuffix("/v1") + "/metrics")
    sm = rep["points"][0]["server_metrics"]
    assert sm["failed"] == 0 and sm["running"]["max"] == 0  # the other server carries no load
    assert other.server.metrics_auth and not any(other.server.metrics_auth)
    assert key not in (run_dir / "events.jsonl").read_text()


def test_a_point_shorter_than_the_interval_has_no_scrape(test_server, perf):
    srv = test_server()
    _, rep = perf("--url", srv.url, "--number", "2", "--model", "m", "--server-metrics")
    sm = rep["points"][0]["server_metrics"]
    assert (sm["scrapes"], sm["failed"], sm["running"], sm["url"]) == (0, 0, None, None)
