"""``assay perf --self-test``: a real subprocess of the CLI against the built-in loopback server; the
ceiling it keeps reaches later runs' logs, and their reports warn near it."""

from __future__ import annotations

import json

from assay_testserver.testing import assay, events


def test_self_test_measures_the_client_and_keeps_its_ceiling(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    flags = ["--self-test", "--parallel", "1", "4", "--number", "20", "60", "--quiet"]
    out = assay("perf", *flags, "--work-dir", str(tmp_path / "runs"), env=env, timeout=120)
    line = next(x for x in out.stdout.splitlines() if x.startswith("self-test: "))
    assert " requests/s at --parallel " in line and "(32 streamed tokens each)" in line
    ceiling = json.loads((tmp_path / "cache" / "assay" / "perf-self-test.json").read_text())
    assert ceiling["failed"] == 0 and ceiling["stream"] is True and ceiling["output_tokens"] == 32
    assert (
        ceiling["requests_per_s"] > 0 and 0 < ceiling["client_cpu_ms_per_request"] < ceiling["run_cpu_ms_per_request"]
    )
    assert ceiling["ttft_error_at_parallel"] == 1 and 0 < ceiling["ttft_error_ms_mean"] < 1000
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert json.loads((run_dir / "self_test.json").read_text()) == ceiling
    report = json.loads((run_dir / "report.json").read_text())["sections"]["perf"]
    # every request of both points succeeded, 32 output tokens each (the server's usage)
    assert [(p["point"]["parallel"], p["succeeded"], p["failed"]) for p in report["points"]] == [(1, 20, 0), (4, 60, 0)]
    assert all(p["output_tokens"]["mean"] == 32 for p in report["points"])
    assert round(ceiling["requests_per_s"], 6) == round(max(p["request_throughput"] for p in report["points"]), 6)


def test_runs_near_the_ceiling_are_warned(tmp_path, test_server):
    cache = tmp_path / "cache" / "assay"
    cache.mkdir(parents=True)
    # a ceiling of 1 request/s: any run of this test reaches 70% of it
    cache.joinpath("perf-self-test.json").write_text(json.dumps({"requests_per_s": 1.0, "stream": True}))
    srv = test_server()
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    args = ("perf", "--url", srv.url, "--model", "m", "--number", "5")
    out = assay(*args, "--work-dir", str(tmp_path / "runs"), env=env, timeout=120)
    warning = (
        "warning: 1 point(s) reached 70% or more of this client's own ceiling (1 requests/s, assay perf "
        "--self-test): the client may be the bottleneck there"
    )
    assert warning in " ".join(out.stdout.split())
    (run_dir,) = (tmp_path / "runs").iterdir()
    first = events(run_dir, whole=True)[0]
    assert first["body"]["config"]["client_ceiling"]["requests_per_s"] == 1.0
    cache.joinpath("perf-self-test.json").write_text(json.dumps({"requests_per_s": 1e9}))
    out = assay(*args, "--work-dir", str(tmp_path / "runs2"), env=env, timeout=120)
    assert "own ceiling" not in out.stdout
