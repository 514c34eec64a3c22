"""Load shapes and workloads: arrival laws (Poisson, gamma, constant), trace replay and the
sharegpt dataset, run against the real test server (its ``requests`` list holds what it got).

Timing assertions read the ``scheduled`` times of RequestTimed (the open-loop due times,
which follow from the seed alone), never wall-clock durations, so a loaded machine cannot
make them fail."""

from __future__ import annotations

import json
import statistics

import pytest
from assay.api import AssayError
from assay_perf import datasets as ds
from assay_perf.runner import PerfOptions
from assay_testserver.testing import assay, events


def _gaps(events):
    times = sorted(e["scheduled"] for e in events)
    return [b - a for a, b in zip(times, times[1:])]


@pytest.mark.parametrize(
    ("flags", "cv", "cv_tol"),
    [
        ((), 1.0, 0.12),  # Poisson: exponential gaps, CV 1
        (("--burstiness", "0.25"), 2.0, 0.3),  # gamma shape 0.25: CV 1/sqrt(0.25) = 2
        (("--burstiness", "4"), 0.5, 0.08),  # gamma shape 4: CV 0.5
        (("--arrival", "gamma", "--burstiness", "1"), 1.0, 0.12),  # gamma shape 1 is exponential
    ],
)
def test_arrival_law_statistics(test_server, perf, request_events, flags, cv, cv_tol):
    srv = test_server()
    n, rate = 400, 1000.0
    run_dir, rep = perf(
        "--url", srv.url, "--model", "m", "--rate", str(rate), "--number", str(n), "--parallel", "64",
        "--max-tokens", "1", "--min-prompt-length", "2", "--max-prompt-length", "2", "--seed", "3", *flags,
    )  # fmt: skip
    events = request_events(run_dir)
    assert len(events) == n == rep["points"][0]["succeeded"] == len(srv.requests)
    gaps = _gaps(events)
    mean = statistics.fmean(gaps)
    assert mean == pytest.approx(1 / rate, rel=0.12)
    assert statistics.pstdev(gaps) / mean == pytest.approx(cv, abs=cv_tol)
    assert all(e["sent"] >= e["scheduled"] - 1e-6 for e in events)  # client lag stays visible
    run2, _ = perf(
        "--url", srv.url, "--model", "m", "--rate", str(rate), "--number", "20", "--parallel", "64",
        "--max-tokens", "1", "--seed", "3", *flags,
    )  # fmt: skip
    assert _gaps(request_events(run2)) == pytest.approx(gaps[:19], abs=1e-5)  # seeded: the same gaps again


def test_constant_arrivals(test_server, perf, request_events):
    srv = test_server()
    run_dir, rep = perf(
        "--url", srv.url, "--model", "m", "--rate", "200", "--arrival", "constant", "--number", "50",
        "--parallel", "8", "--max-tokens", "1",
    )  # fmt: skip
    gaps = _gaps(request_events(run_dir))
    assert len(gaps) == 49 and all(g == pytest.approx(0.005, abs=1e-5) for g in gaps)
    assert rep["points"][0]["succeeded"] == 50


def test_arrival_flag_errors(perf):
    with pytest.raises(AssayError, match="--arrival constant takes no --burstiness"):
        perf("--url", "http://127.0.0.1:9/v1", "--model", "m", "--rate", "5", "--arrival", "constant",
             "--burstiness", "2")  # fmt: skip
    with pytest.raises(AssayError, match="--burstiness must be a positive number, got 0.0"):
        perf("--url", "http://127.0.0.1:9/v1", "--model", "m", "--rate", "5", "--burstiness", "0")


def _write_trace(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


TRACE = [
    {"timestamp": 1000, "input_length": 30, "output_length": 3, "hash_ids": [0]},
    {"timestamp": 1050, "input_length": 12, "output_length": 5},
    {"timestamp": 1050, "input_length": 7, "output_length": 2},
    {"timestamp": 1120, "input_length": 600, "output_length": 4, "hash_ids": [0, 1]},
    {"timestamp": 1400, "input_length": 520, "output_length": 1, "hash_ids": [0, 2]},
]


def test_trace_replay_offsets_and_lengths(test_server, perf, request_events, tmp_path):
    trace = _write_trace(tmp_path / "trace.jsonl", TRACE)
    srv = test_server()
    run_dir, rep = perf("--url", srv.url, "--model", "m", "--trace", str(trace), "--parallel", "4")
    events = request_events(run_dir)
    times = sorted(e["scheduled"] for e in events)
    assert [t - times[0] for t in times] == pytest.approx([0.0, 0.05, 0.05, 0.12, 0.4], abs=1e-5)
    assert rep["points"][0]["succeeded"] == 5
    got = sorted((len(b["messages"][0]["content"].split()), b["max_tokens"]) for b in srv.requests)
    assert got == sorted((r["input_length"], r["output_length"]) for r in TRACE)
    # rows sharing Mooncake hash ids share those 512-word blocks (the prefix a server can cache)
    by_len = {len(b["messages"][0]["content"].split()): b["messages"][0]["content"].split() for b in srv.requests}
    assert by_len[600][:30] == by_len[30] and by_len[520][:512] == by_len[600][:512]
    assert by_len[520][512:] != by_len[600][512:520]  # block 2 is not block 1
    # --trace-speed 2 halves the offsets; --number caps the rows replayed
    run2, _ = perf("--url", srv.url, "--model", "m", "--trace", str(trace), "--trace-speed", "2", "--number", "4")
    times = sorted(e["scheduled"] for e in request_events(run2))
    assert [t - times[0] for t in times] == pytest.approx([0.0, 0.025, 0.025, 0.06], abs=1e-5)


def test_trace_errors(perf, tmp_path):
    url = ("--url", "http://127.0.0.1:9/v1", "--model", "m")
    bad = _write_trace(tmp_path / "bad.jsonl", [TRACE[0], {"timestamp": 5, "input_length": 3}])
    with pytest.raises(
        AssayError, match=r"bad\.jsonl:2: timestamp 5 is before the previous row's 1000: sort the trace"
    ):
        perf(*url, "--trace", str(bad))
    bad = _write_trace(tmp_path / "len.jsonl", [{"timestamp": 0, "input_length": "9"}])
    with pytest.raises(AssayError, match=r"len\.jsonl:1: 'input_length' must be a positive integer, got '9'"):
        perf(*url, "--trace", str(bad))
    with pytest.raises(AssayError, match="--trace replays the trace's own arrival times: give no --rate"):
        perf(*url, "--trace", str(bad), "--rate", "3")


def test_sharegpt_real_500_prompts_sent(test_server, perf, datasets_dir):
    path = datasets_dir / "sharegpt" / "ShareGPT_V3_filtered_500.json"
    rows = json.loads(path.read_text(encoding="utf-8"))
    expected = [r["conversations"][0]["value"] for r in rows]
    assert len(expected) == 500  # the row count in sharegpt/SOURCE.md
    opts = PerfOptions(url="http://127.0.0.1:1/v1", model="m", dataset_path=str(datasets_dir / "sharegpt"))
    assert list(ds.sharegpt(opts)) == expected  # a directory finds the .json file
    srv = test_server()
    _, rep = perf(
        "--url", srv.url, "--model", "m", "--dataset", "sharegpt", "--dataset-path", str(path),
        "--number", "500", "--parallel", "16", "--max-tokens", "2",
    )  # fmt: skip
    assert rep["points"][0]["succeeded"] == 500
    assert sorted(b["messages"][0]["content"] for b in srv.requests) == sorted(expected)
    assert all(b["messages"][0]["role"] == "user" and len(b["messages"]) == 1 for b in srv.requests)


def test_sharegpt_full_format_and_errors(tmp_path):
    f = tmp_path / "sg.json"
    f.write_text(
        json.dumps(
            [
                {"id": "a", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]},
                {"id": "b", "conversations": [{"from": "gpt", "value": "skipped: no human turn first"}]},
                {"id": "c", "conversations": []},
                {"id": "d", "conversations": [{"from": "human", "value": "second"}]},
            ]
        ),
        encoding="utf-8",
    )
    opts = PerfOptions(url="http://127.0.0.1:1/v1", model="m", dataset_path=str(f))
    assert list(ds.sharegpt(opts)) == ["hi", "second"]
    f.write_text('{"conversations": []}', encoding="utf-8")
    with pytest.raises(AssayError, match=r"sg\.json: expected a JSON list of conversations, got dict"):
        list(ds.sharegpt(opts))


@pytest.mark.parametrize("dist", ["uniform", "normal", "fixed"])
def test_length_distributions_reach_the_server(test_server, perf, dist):
    srv = test_server()
    _, rep = perf(
        "--url", srv.url, "--model", "m", "--number", "300", "--parallel", "16",
        "--min-prompt-length", "20", "--max-prompt-length", "80", "--input-length-dist", dist,
        "--min-tokens", "4", "--max-tokens", "16", "--output-length-dist", dist,
    )  # fmt: skip
    assert rep["points"][0]["succeeded"] == 300 == len(srv.requests)
    ins = [len(b["messages"][0]["content"].split()) for b in srv.requests]  # the server counts words
    outs = [b["max_tokens"] for b in srv.requests]
    assert all(b["min_tokens"] == b["max_tokens"] for b in srv.requests)  # --min-tokens forces the drawn length
    assert all(20 <= n <= 80 for n in ins) and all(4 <= n <= 16 for n in outs)
    if dist == "fixed":
        assert set(ins) == {80} and set(outs) == {16}
    elif dist == "uniform":  # flat: mean at the midpoint, sd (hi - lo) / sqrt(12), both ends reached
        assert statistics.fmean(ins) == pytest.approx(50, abs=3) and statistics.pstdev(ins) == pytest.approx(
            17.3, abs=2
        )
        assert min(ins) <= 22 and max(ins) >= 78 and set(outs) == set(range(4, 17))
    else:  # normal: mean at the midpoint, sd a sixth of the range
        assert statistics.fmean(ins) == pytest.approx(50, abs=2) and statistics.pstdev(ins) == pytest.approx(
            10, abs=1.5
        )
        assert statistics.fmean(outs) == pytest.approx(10, abs=0.5) and statistics.pstdev(outs) == pytest.approx(
            2, abs=0.5
        )


ANSWERS = [f"reply{k} from the server" for k in range(100)]


def test_multi_turn_sends_the_real_previous_answers(test_server, perf, request_events):
    # the server answers its k-th request with ANSWERS[k] (one rule matching every prompt)
    srv = test_server(rules=[{"match": "", "answers": ANSWERS}])
    run_dir, rep = perf(
        "--url", srv.url, "--model", "m", "--multi-turn", "--min-turns", "2", "--max-turns", "4",
        "--number", "12", "--parallel", "1", "--stream", "--max-tokens", "10",
        "--min-prompt-length", "3", "--max-prompt-length", "3",
    )  # fmt: skip
    reqs = srv.requests
    assert len(reqs) == 12
    for k, body in enumerate(reqs):
        msgs = body["messages"]
        assert [m["role"] for m in msgs] == ["user", "assistant"] * (len(msgs) // 2) + ["user"]
        if len(msgs) > 1:  # a later turn: the previous request's messages, its real answer, a new user turn
            assert msgs[:-2] == reqs[k - 1]["messages"]
            assert msgs[-2] == {"role": "assistant", "content": ANSWERS[k - 1]}
            assert msgs[-1]["content"] not in [m["content"] for m in msgs[:-1]]
    turns = [e["turn"] for e in request_events(run_dir)]  # parallel 1: log order = server order
    assert turns == [(len(b["messages"]) + 1) // 2 for b in reqs]
    starts = [i for i, t in enumerate(turns) if t == 1]
    lengths = [b - a for a, b in zip(starts, [*starts[1:], 12])]
    assert all(2 <= n <= 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4  # the last one is cut by --number
    (p,) = rep["points"]
    per_turn = {t["turn"]: t for t in p["turns"]}
    assert {t: v["requests"] for t, v in per_turn.items()} == {t: turns.count(t) for t in set(turns)}
    assert all(v["succeeded"] == v["requests"] and v["ttft_s"]["n"] == v["requests"] for v in per_turn.values())
    # the server counts prompt words: the history grows turn by turn
    means = [per_turn[t]["prompt_tokens"]["mean"] for t in sorted(per_turn)]
    assert means == sorted(means) and means[0] == 3


def test_multi_turn_failed_turn_ends_the_conversation_and_flag_errors(test_server, perf, request_events):
    srv = test_server(rules=[{"match": "", "answers": ANSWERS}], faults={"http_500": [2]})
    run_dir, rep = perf(
        "--url", srv.url, "--model", "m", "--multi-turn", "--min-turns", "3", "--max-turns", "3",
        "--number", "5", "--parallel", "1", "--max-tokens", "10",
    )  # fmt: skip
    assert [len(b["messages"]) for b in srv.requests] == [1, 3, 1, 3, 5]  # request 2 failed: a new conversation
    events = request_events(run_dir)
    assert [(e["turn"], e.get("ok", True), e.get("error_kind")) for e in events] == [
        (1, True, None), (2, False, "http_5xx"), (1, True, None), (2, True, None), (3, True, None),
    ]  # fmt: skip
    assert rep["points"][0]["failed"] == 1
    with pytest.raises(AssayError, match=r"--multi-turn runs closed loop .*: no --rate/--trace"):
        perf("--url", srv.url, "--model", "m", "--multi-turn", "--rate", "5")
    with pytest.raises(AssayError, match="--multi-turn needs a chat API"):
        perf("--url", srv.url + "/completions", "--model", "m", "--multi-turn", "--number", "2")
    with pytest.raises(AssayError, match="--min-turns 3 / --max-turns 2: need 1 <= min <= max"):
        perf("--url", srv.url, "--model", "m", "--multi-turn", "--min-turns", "3", "--max-turns", "2")


def test_prefix_cache_workload(test_server, perf):
    srv = test_server()
    _, rep = perf(
        "--url", srv.url, "--model", "m", "--number", "12", "--parallel", "4", "--max-tokens", "1",
        "--prefix-length", "40", "--prefix-count", "3", "--min-prompt-length", "5", "--max-prompt-length", "5",
    )  # fmt: skip
    assert rep["points"][0]["succeeded"] == 12
    words = [b["messages"][0]["content"].split() for b in srv.requests]
    assert all(len(w) == 45 for w in words)  # 40 prefix words + the 5-word prompt
    prefixes = [tuple(w[:40]) for w in words]
    assert sorted(prefixes.count(p) for p in set(prefixes)) == [4, 4, 4]  # 3 prefixes, in turn over 12 requests
    assert len({tuple(w[40:]) for w in words}) == 12  # the prompts after them differ
    assert rep["points"][0]["prompt_tokens"]["mean"] == 45  # the server's usage counts the prefix
    with pytest.raises(AssayError, match="--prefix-length 5 / --prefix-count 0: need a length >= 0 and a count >= 1"):
        perf("--url", srv.url, "--model", "m", "--prefix-length", "5", "--prefix-count", "0")


def test_cli_subprocess_multi_turn_and_trace(server_process, tmp_path):
    """The real ``assay perf`` command in its own process against the test server's process."""
    url = server_process(itl=0.001)
    base = ["perf", "--url", url, "--model", "m", "--work-dir", str(tmp_path)]
    proc = assay(
        *base, "--multi-turn", "--min-turns", "3", "--max-turns", "3", "--number", "9", "--parallel", "3",
        "--stream", "--max-tokens", "4", "--name", "mt", timeout=120,
    )  # fmt: skip
    assert "per turn (--multi-turn)" in proc.stdout and f"report: {tmp_path / 'mt' / 'report.json'}" in proc.stdout
    report = json.loads((tmp_path / "mt" / "report.json").read_text(encoding="utf-8"))
    (point,) = report["sections"]["perf"]["points"]
    # 9 requests over 3 users: how many conversations start depends on which user is quicker
    counts = [t["succeeded"] for t in point["turns"]]
    assert [t["turn"] for t in point["turns"]] == [1, 2, 3] and sum(counts) == 9 == point["succeeded"]
    assert counts == sorted(counts, reverse=True) and counts[0] >= 3
    trace = _write_trace(tmp_path / "t.jsonl", TRACE)
    assay(*base, "--trace", str(trace), "--parallel", "5", "--quiet", "--name", "tr", timeout=120)
    started = events(tmp_path / "tr", whole=True)[0]
    assert started["type"] == "RunStarted" and started["body"]["config"]["trace"] == str(trace)
    assert started["body"]["config"]["seed"] == 42
    proc = assay(*base, "--trace", str(trace), "--rate", "4", check=2, timeout=120)
    assert "--trace replays the trace's own arrival times: give no --rate" in proc.stderr


def test_prefix_cache_hits_reported_by_the_server(test_server, perf, request_events):
    # the test server's prefix cache: blocks of 8 words, cached after the first request holding them
    srv = test_server(prefix_cache_block=8)
    run_dir, rep = perf(
        "--url", srv.url, "--model", "m", "--number", "10", "--parallel", "1", "--max-tokens", "1", "--stream",
        "--prefix-length", "40", "--prefix-count", "2", "--min-prompt-length", "5", "--max-prompt-length", "5",
    )  # fmt: skip
    # 45 words: 5 full blocks, all inside the 40-word prefix; each prefix's first request misses
    assert [e["cached_tokens"] for e in request_events(run_dir)] == [0, 0] + [40] * 8
    (p,) = rep["points"]
    assert p["cached_tokens"]["mean"] == 32 and p["prefix_cache_hit_rate"] == pytest.approx(320 / 450)
    # without --prefix-length the random prompts share no block: nothing cached
    _, rep = perf("--url", srv.url, "--model", "m", "--number", "4", "--max-tokens", "1", "--seed", "9",
                  "--min-prompt-length", "20", "--max-prompt-length", "20")  # fmt: skip
    assert rep["points"][0]["prefix_cache_hit_rate"] == 0
