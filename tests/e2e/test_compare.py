"""`assay compare` on real runs: `assay eval` / `assay perf` subprocesses against the repo's test server.

The right/wrong answers of each run are scripted per sample, so the differences, the discordant
pairs and the exact McNemar p-value are known by construction; the test computes the p-value on its
own from the binomial formula (sum of C(n, i) / 2^n over the lower tail, doubled).
"""

from __future__ import annotations

import json
import math

from helpers import assay, eval_gsm8k, gold, gsm8k_rows, run_dirs
from assay_testserver.testing import events as _events

WIDE = {"COLUMNS": "250"}  # one console line per note, table cells not squeezed


def _rules(rows, correct):
    rules = []
    for i, row in enumerate(rows):
        answer = f"#### {gold(row['answer'])}" if i in correct else "#### 99999"
        rules.append({"match": row["question"], "answer": answer})
    return rules


def _eval(test_server, datasets_dir, work, rows, correct, limit, *extra, faults=None, check=True):
    srv = test_server(rules=_rules(rows, correct), faults=faults or {})
    work.mkdir()
    proc = eval_gsm8k(srv.url, datasets_dir, work, *extra, limit=limit, check=check)
    (run,) = run_dirs(work)
    return run, proc


def _binom_two_sided(b, c):
    # independent of assay.compare: the tail is summed term by term from the pmf
    n, k = b + c, min(b, c)
    pmf = [math.factorial(n) / (math.factorial(i) * math.factorial(n - i)) * 0.5**n for i in range(n + 1)]
    return min(1.0, 2 * sum(pmf[: k + 1]))


def _ids(run):
    events = _events(run, whole=True)
    return [e["body"]["sample_id"] for e in events if e["type"] == "SampleLoaded"]


def test_two_runs_diff_mcnemar_and_flips(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 20)
    a_right = set(range(0, 14))  # 14/20
    b_right = set(range(3, 20)) - {10}  # 16/20; flips: 0,1,2,10 right only in A; 14..19 right only in B
    run_a, _ = _eval(test_server, datasets_dir, tmp_path / "a", rows, a_right, 20)
    run_b, _ = _eval(test_server, datasets_dir, tmp_path / "b", rows, b_right, 20)
    ids = _ids(run_a)
    assert ids == _ids(run_b) and len(ids) == 20
    proc = assay("compare", str(run_a), str(run_b), "--format", "json")
    result = json.loads(proc.stdout)
    assert result["kind"] == "eval" and len(result["runs"]) == 2
    (comp,) = result["comparisons"]
    (row,) = comp["rows"]
    assert (row["dataset"], row["subset"], row["metric"]) == ("gsm8k", "main", "acc")
    assert row["shared"] == 20 and row["only_in_a"] == 0 and row["only_in_b"] == 0
    assert row["errored_a"] == row["errored_b"] == 0
    assert row["score_a"] == 14 / 20 and row["score_b"] == 16 / 20
    assert math.isclose(row["diff"], 2 / 20)
    assert row["test"] == "mcnemar_exact"
    assert row["right_in_a_only"] == sorted(ids[i] for i in (0, 1, 2, 10))
    assert row["right_in_b_only"] == sorted(ids[i] for i in range(14, 20))
    expected_p = _binom_two_sided(4, 6)  # = 2 * (1 + 10 + 45 + 120 + 210) / 1024 = 0.75390625
    assert math.isclose(expected_p, 772 / 1024)
    assert math.isclose(row["p_value"], expected_p, rel_tol=1e-12)
    assert row["ci_low"] < 0.1 < row["ci_high"] and row["ci_low"] < 0 and row["ci_high"] <= 0.5
    # seeded: the same interval every time
    again = json.loads(assay("compare", str(run_a), str(run_b), "--format", "json").stdout)
    assert again == result
    # the console: the scores, the difference, the p-value and the flip ids (the first few)
    table = assay("compare", str(run_a), str(run_b), env=WIDE).stdout
    assert "0.7000" in table and "0.8000" in table and "+0.1000" in table and "0.7539" in table
    assert "right in A, wrong in B: 4: " + ", ".join(sorted(ids[i] for i in (0, 1, 2, 10))) in table
    assert "wrong in A, right in B: 6: " in table and "(+1 more)" in table


def test_a_decisive_difference_has_a_small_p(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 12)
    run_a, _ = _eval(test_server, datasets_dir, tmp_path / "a", rows, set(), 12)
    run_b, _ = _eval(test_server, datasets_dir, tmp_path / "b", rows, set(range(12)), 12)
    (row,) = json.loads(assay("compare", str(run_a), str(run_b), "--format", "json").stdout)["comparisons"][0]["rows"]
    assert row["diff"] == 1.0 and row["right_in_a_only"] == [] and len(row["right_in_b_only"]) == 12
    assert row["p_value"] == 2 / 4096 == _binom_two_sided(0, 12)
    assert row["ci_low"] == row["ci_high"] == 1.0


def test_different_sample_sets_compare_on_the_intersection(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 10)
    run_a, _ = _eval(test_server, datasets_dir, tmp_path / "a", rows, {0, 1, 2, 3}, 6)
    run_b, _ = _eval(test_server, datasets_dir, tmp_path / "b", rows, {0, 1, 2, 3, 4, 5, 6, 7}, 10)
    (row,) = json.loads(assay("compare", str(run_a), str(run_b), "--format", "json").stdout)["comparisons"][0]["rows"]
    assert row["shared"] == 6 and row["only_in_a"] == 0 and row["only_in_b"] == 4
    # on the 6 shared samples: A 4/6, B 6/6 (not B's 8/10 over all its samples)
    assert row["score_a"] == 4 / 6 and row["score_b"] == 1.0
    assert len(row["right_in_b_only"]) == 2 and row["right_in_a_only"] == []
    assert row["p_value"] == 0.5  # 2 discordant, both one way: 2 * 1/4
    out = assay("compare", str(run_a), str(run_b), env=WIDE).stdout
    assert "gsm8k/main: compared on the 6 shared samples (0 only in A, 4 only in B)" in out


def test_three_runs_each_against_the_first(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 8)
    runs = [
        _eval(test_server, datasets_dir, tmp_path / name, rows, right, 8)[0]
        for name, right in (("a", {0, 1, 2, 3}), ("b", {0, 1, 2, 3, 4}), ("c", {4, 5, 6, 7}))
    ]
    result = json.loads(assay("compare", *map(str, runs), "--format", "json").stdout)
    assert [(c["a"], c["b"]) for c in result["comparisons"]] == [(0, 1), (0, 2)]
    ab, ac = (c["rows"][0] for c in result["comparisons"])
    assert ab["diff"] == 1 / 8 and ab["p_value"] == 1.0 and len(ab["right_in_b_only"]) == 1
    assert ac["diff"] == 0 and len(ac["right_in_a_only"]) == 4 and len(ac["right_in_b_only"]) == 4
    assert ac["p_value"] == _binom_two_sided(4, 4) == 1.0
    out = assay("compare", *map(str, runs), env=WIDE).stdout
    assert out.count("A = ") == 2


def test_errored_samples_are_left_out_and_counted(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 6)
    run_a, _ = _eval(test_server, datasets_dir, tmp_path / "a", rows, set(range(6)), 6)
    # B: request 2 gets a 500 and no retry: that sample errors
    run_b, proc = _eval(
        test_server,
        datasets_dir,
        tmp_path / "b",
        rows,
        set(range(6)),
        6,
        "--retries",
        "0",
        "--eval-batch-size",
        "1",
        faults={"http_500": [2]},
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    events = _events(run_b, whole=True)
    (failed,) = [e["body"]["sample_id"] for e in events if e["type"] == "SampleFailed"]
    (row,) = json.loads(assay("compare", str(run_a), str(run_b), "--format", "json").stdout)["comparisons"][0]["rows"]
    assert row["shared"] == 5 and row["errored_a"] == 0 and row["errored_b"] == 1 and row["unpaired"] == 1
    assert row["score_a"] == row["score_b"] == 1.0 and row["diff"] == 0
    assert failed not in row["right_in_a_only"] and row["right_in_a_only"] == []
    out = assay("compare", str(run_a), str(run_b), env=WIDE).stdout
    assert "gsm8k/main: errored samples left out of the pairs (0 in A, 1 in B)" in out


def test_bad_input(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 2)
    run_a, _ = _eval(test_server, datasets_dir, tmp_path / "a", rows, {0}, 2)
    missing = tmp_path / "nope"
    proc = assay("compare", str(run_a), str(missing), check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"error: no event log at {missing}\n"
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "events.jsonl").write_bytes(b"")
    proc = assay("compare", str(run_a), str(empty), check=False)
    assert proc.returncode == 2 and proc.stderr == f"error: {empty / 'events.jsonl'} is empty: not a run\n"
    proc = assay("compare", str(run_a), check=False)
    assert proc.returncode == 2 and proc.stderr == "error: compare needs at least two runs\n"
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "events.jsonl").write_text("not json\n")
    proc = assay("compare", str(run_a), str(broken), check=False)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and ":1" in proc.stderr


def _perf(test_server, work, ttft):
    srv = test_server(default_answer="a b c d", ttft=ttft, itl=0.001)
    work.mkdir()
    assay(
        "perf",
        "--url",
        srv.url,
        "--model",
        "m",
        "--parallel",
        "1",
        "2",
        "--number",
        "4",
        "4",
        "--stream",
        "--max-tokens",
        "4",
        "--work-dir",
        str(work),
        "--name",
        "run",
        "--quiet",
    )
    return work / "run"


def test_perf_runs_compare_per_point(tmp_path, test_server):
    fast = _perf(test_server, tmp_path / "fast", 0.005)
    slow = _perf(test_server, tmp_path / "slow", 0.2)
    result = json.loads(assay("compare", str(fast), str(slow), "--format", "json").stdout)
    assert result["kind"] == "perf"
    (comp,) = result["comparisons"]
    assert [p["point"]["parallel"] for p in comp["points"]] == [1, 2]
    assert comp["only_in_a"] == comp["only_in_b"] == []
    for pt in comp["points"]:
        ttft = pt["ttft_s"]
        assert set(ttft) >= {"mean", "p50", "p90", "p95", "p99"}
        # the slow server waits 195 ms more before the first token
        # (bounds leave room for a loaded machine, where the fast run is slowed too: medians, since the p99 of 4
        # requests is their slowest, which one late request of the fast run brought within 13 ms of the slow's)
        assert 0.1 < ttft["p50"]["diff"] < 0.6 and ttft["p50"]["diff"] == ttft["p50"]["b"] - ttft["p50"]["a"]
        assert pt["e2e_latency_s"]["p50"]["diff"] > 0.1 and "p99" in pt["e2e_latency_s"]
        assert set(pt["tpot_s"]) >= {"p50"} and set(pt["itl_s"]) >= {"p50"}
        rt = pt["request_throughput"]
        assert rt["b"] < rt["a"] and rt["diff"] == rt["b"] - rt["a"]
        assert pt["failed"] == {"a": 0, "b": 0, "diff": 0, "rel": None}
    out = assay("compare", str(fast), str(slow), env=WIDE).stdout
    assert "parallel=1" in out and "parallel=2" in out and "ttft" in out and "p99 ms" in out
