"""assay_compare.compare on logs written by the kernel's LogWriter: non-0/1 metrics, subsets, untrusted names."""

from __future__ import annotations

import json
import math

import numpy as np
from assay.cli import main
from assay_compare.compare import compare, mcnemar_exact, paired_bootstrap
from assay.events import MetricReported, RunFinished, RunStarted, SampleLoaded, Scored
from assay.log import LogWriter
from assay_testserver.testing import assay


def _run(path, run_id, values, model="m"):
    """values: {(subset, local id): f1}; one Scored per sample."""
    with LogWriter(path / "events.jsonl", run_id) as w:
        w.append(RunStarted(resolved={"model": model}))
        for (subset, i), v in values.items():
            sid = f"qa/{subset}/{i}"
            w.append(SampleLoaded(sample_id=sid, benchmark="qa", subset=subset))
            w.append(Scored(sample_id=sid, scorer="f1", metric="f1", value=v, benchmark="qa", subset=subset))
        w.append(RunFinished())
    return path


def test_mcnemar_exact_matches_the_binomial_tail():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 5) == 2 / 32
    assert mcnemar_exact(3, 3) == 1.0
    # 2 * P(X <= 1), X ~ Bin(10, 1/2) = 2 * 11 / 1024
    assert mcnemar_exact(1, 9) == mcnemar_exact(9, 1) == 22 / 1024
    # above 1000 discordant pairs the tail is summed in log space: it agrees with the exact integers
    for b, c in ((480, 521), (600, 700), (3000, 3000), (100, 1500)):
        exact = min(1.0, 2 * sum(math.comb(b + c, i) for i in range(min(b, c) + 1)) / 2 ** (b + c))
        assert math.isclose(mcnemar_exact(b, c), exact, rel_tol=1e-9, abs_tol=1e-300)


def test_paired_bootstrap_is_seeded_and_centred():
    rng = np.random.default_rng(1)
    d = rng.normal(0.3, 1.0, 400)
    low, high, p = paired_bootstrap(d, resamples=4000, seed=7)
    assert (low, high, p) == paired_bootstrap(d, resamples=4000, seed=7)
    se = d.std(ddof=1) / math.sqrt(d.size)
    # the percentile interval agrees with the normal one to within a tenth of a standard error or so
    assert abs(low - (d.mean() - 1.96 * se)) < 0.2 * se and abs(high - (d.mean() + 1.96 * se)) < 0.2 * se
    assert p < 1e-3  # a shift of 6 standard errors
    _, _, p_null = paired_bootstrap(rng.normal(0.0, 1.0, 400), resamples=4000, seed=7)
    assert p_null > 0.05


def test_continuous_metric_uses_the_paired_bootstrap(tmp_path):
    a_vals = {("x", i): 0.5 for i in range(30)} | {("y", i): 0.2 for i in range(10)}
    b_vals = {("x", i): 0.5 + (0.1 if i % 2 else 0.3) for i in range(30)} | {("y", i): 0.2 for i in range(10)}
    a = _run(tmp_path / "a", "ra", a_vals)
    b = _run(tmp_path / "b", "rb", b_vals)
    result = compare([str(a), str(b)], resamples=2000)
    rows = {r["subset"]: r for r in result["comparisons"][0]["rows"]}
    assert set(rows) == {"x", "y", "(all)"}
    x = rows["x"]
    assert x["test"] == "paired_bootstrap" and x["changed"] == 30 and "right_in_a_only" not in x
    assert math.isclose(x["diff"], 0.2) and x["p_value"] == 1 / 2001  # every difference is positive
    assert 0.1 < x["ci_low"] < 0.2 < x["ci_high"] < 0.3
    y = rows["y"]
    assert y["test"] == "paired_bootstrap" and y["diff"] == 0 and y["changed"] == 0 and y["p_value"] == 1.0
    assert y["ci_low"] == y["ci_high"] == 0.0
    both = rows["(all)"]
    assert both["shared"] == 40 and math.isclose(both["diff"], 0.2 * 30 / 40)


def test_names_from_the_data_are_shown_inert(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    evil = "s\x1b[31m[bold]red[/bold]\u202e"
    a = _run(tmp_path / "a", "ra", {(evil, 1): 1.0, (evil, 2): 0.0}, model="m\x1b]8;;x\x07")
    b = _run(tmp_path / "b", "rb", {(evil, 1): 0.0, (evil, 2): 1.0})
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "ra (m\\x1b]8;;x\\x07)  vs  B = rb (m)" in out  # both completed: no status shown
    assert "\\x1b[31m[bold]red[/bold]\\u202e" in out and "m\\x1b]8;;x\\x07" in out
    assert main(["compare", str(a), str(b), "--format", "json"]) == 0
    raw = capsys.readouterr().out
    assert "\x1b" not in raw and "\u202e" not in raw
    (row,) = json.loads(raw)["comparisons"][0]["rows"]
    assert row["subset"] == evil and row["right_in_a_only"] == [f"qa/{evil}/1"]


def test_a_perf_run_does_not_compare_with_an_eval_run(tmp_path, capsys):
    a = _run(tmp_path / "a", "ra", {("x", 1): 1.0})
    with LogWriter(tmp_path / "p" / "events.jsonl", "rp") as w:
        w.append(RunStarted(kind="perf"))
        w.append(RunFinished())
    assert main(["compare", str(a), str(tmp_path / "p")]) == 2
    assert capsys.readouterr().err == "error: cannot compare perf runs with eval runs (a: eval, p: perf)\n"


def test_the_multinomial_resampling_matches_resampling_indices():
    # few distinct differences take the multinomial path; the plain index bootstrap is the reference
    d = np.array([1.0] * 30 + [-1.0] * 18 + [0.0] * 152)
    low, high, _ = paired_bootstrap(d, resamples=20000, seed=3)
    rng = np.random.default_rng(11)
    ref = d[rng.integers(0, d.size, size=(20000, d.size))].mean(axis=1)
    ref_low, ref_high = np.percentile(ref, [2.5, 97.5])
    assert abs(low - ref_low) <= 0.006 and abs(high - ref_high) <= 0.006
    assert low < d.mean() < high


def test_metrics_reported_only_as_a_whole_are_side_by_side_without_a_test(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    runs = []
    for name, value in (("a", 0.61), ("b", 0.65)):
        with LogWriter(tmp_path / name / "events.jsonl", name) as w:
            w.append(RunStarted(resolved={"model": name}))
            w.append(MetricReported(benchmark="mteb", subset="STS12", metric="spearman", value=value, num=300))
            w.append(RunFinished())
        runs.append(str(tmp_path / name))
    (row,) = compare(runs)["comparisons"][0]["rows"]
    assert row["score_a"] == 0.61 and row["score_b"] == 0.65 and math.isclose(row["diff"], 0.04)
    assert row["p_value"] is None and row["ci_low"] is None and row["test"].startswith("none")
    assert row["num_a"] == row["num_b"] == 300 and row["shared"] is None
    assert main(["compare", *runs]) == 0
    out = capsys.readouterr().out
    assert "+0.0400" in out and "300/300" in out and "mteb/STS12: spearman is reported as a whole: no test" in out


def test_a_run_that_did_not_finish_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    a = _run(tmp_path / "a", "ra", {("x", 1): 1.0})
    with LogWriter(tmp_path / "b" / "events.jsonl", "rb") as w:  # killed before RunFinished
        w.append(RunStarted(resolved={"model": "m"}))
        w.append(SampleLoaded(sample_id="qa/x/1", benchmark="qa", subset="x"))
    assert main(["compare", str(a), str(tmp_path / "b"), "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in result["runs"]] == ["completed", "running"]
    (row,) = result["comparisons"][0]["rows"]
    assert row["shared"] == 0 and row["score_a"] is None and row["unpaired"] == 1
    assert main(["compare", str(a), str(tmp_path / "b")]) == 0
    assert "B = rb (m, running)" in capsys.readouterr().out


def test_the_compare_command_is_registered_by_assay_compare():
    proc = assay("plugins", "--format", "json", timeout=120)
    owners = {p["distribution"]: p["commands"] for p in json.loads(proc.stdout)["plugins"]}
    assert owners["assay-compare"] == ["compare"]
    assert "compare" not in owners["assay"]
