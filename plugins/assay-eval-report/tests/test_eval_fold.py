"""The eval fold: parallel parts merge to exactly the sequential result."""

from __future__ import annotations

import pytest

import assay_eval_report.reporter as report
from assay.events import Generated, RunFinished, RunResumed, RunStarted, SampleFailed, SampleLoaded, Scored
from assay.log import LogCorrupted, LogWriter


def _log(path):
    with LogWriter(path, "r1") as w:
        w.append(RunStarted(kind="eval", resolved={"model": "m"}))
        for i in range(3000):
            sub = f"s{i % 7}"
            sid = f"b/{sub}/{i}"
            w.append(
                SampleLoaded(
                    sample_id=sid,
                    benchmark="b",
                    subset=sub,
                    category="even" if i % 2 else "odd",
                    categories=["all"] if i % 7 == 0 else [],
                )
            )
            if i % 10 == 3:
                w.append(SampleFailed(sample_id=sid, stage="generate", error_type="X", message="boom"))
            else:
                w.append(Generated(sample_id=sid, model="m", output="x"))
                w.append(Scored(sample_id=sid, scorer="acc", metric="acc", value=float(i % 3 == 0)))
                w.append(Scored(sample_id=sid, scorer="f1", metric="f1", value=(i % 5) / 4))
        w.append(RunFinished(status="interrupted"))
        w.append(RunResumed())
        for i in range(3, 3000, 20):  # half of the failed samples succeed on resume, at the very end
            sid = f"b/s{i % 7}/{i}"
            w.append(Generated(sample_id=sid, model="m", output="x"))
            w.append(Scored(sample_id=sid, scorer="acc", metric="acc", value=1.0))
        w.append(RunFinished())
    with open(path, "ab") as f:
        f.write(b'{"v":1,"type":"Scored"')  # torn tail


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_parallel_fold_equals_sequential(tmp_path, monkeypatch, workers):
    path = tmp_path / "events.jsonl"
    _log(path)
    sequential = report.build_eval(path, workers=1)
    monkeypatch.setattr(report, "PARALLEL_MIN_BYTES", 0)
    parallel = report.build_eval(path, workers=workers)
    assert parallel == sequential
    assert sequential["errored_samples"] == 150  # 300 failed, 150 of them scored after the resume
    assert sequential["status"] == "completed" and sequential.get("warnings")
    cats = {r["category"] for r in sequential["rows"]}
    assert {"even", "odd", "all"} <= cats


def test_parallel_fold_reports_damage_with_the_line_number(tmp_path, monkeypatch):
    path = tmp_path / "events.jsonl"
    _log(path)
    lines = path.read_bytes().split(b"\n")
    lines[7000] = b'{"v":1,"type":"Scored","seq":7000,"ts":1.0,"run_id":"r1","body":{"sample_id":"b/s1/1","value":"x"}}'
    path.write_bytes(b"\n".join(lines))
    monkeypatch.setattr(report, "PARALLEL_MIN_BYTES", 0)
    with pytest.raises(LogCorrupted) as info:
        report.build_eval(path, workers=2)
    assert info.value.line == 7001


def test_a_scorer_failure_counts_once_per_metric_wherever_the_log_is_cut(tmp_path):
    # 6 samples, two scorers; on samples 1 and 4 the f1 scorer raised after acc scored
    path = tmp_path / "events.jsonl"
    with LogWriter(path, "r1") as w:
        w.append(RunStarted(kind="eval"))
        for i in range(6):
            sid = f"b/s/{i}"
            w.append(SampleLoaded(sample_id=sid, benchmark="b", subset="s"))
            group = [
                Generated(sample_id=sid, model="m", output="x"),
                Scored(sample_id=sid, scorer="a", metric="acc", value=1.0),
            ]
            if i in (1, 4):
                group.append(SampleFailed(sample_id=sid, stage="score", error_type="ValueError", message="f1: bug"))
            else:
                group.append(Scored(sample_id=sid, scorer="f", metric="f1", value=0.5))
            w.append_many(group)
    want = {"acc": (6, 1.0, 0), "f1": (6, 0.5 * 4 / 6, 2)}
    pick = lambda fold: {r["metric"]: (r["num"], r["score"], r["errors"]) for r in fold.rows()}
    assert pick(report.fold_log(path, workers=1)) == want
    data = path.read_bytes()
    cuts = [i + 1 for i, c in enumerate(data) if c == ord("\n")][:-1]
    for cut in cuts:  # two parts, cut at every line: the merge gives the same figures
        first, second = report._fold_part(path, 0, cut), report._fold_part(path, cut, len(data))
        first.merge(second)
        assert pick(first) == want, cut


def _scores(path, values, metric="acc"):
    with LogWriter(path, "r1") as w:
        w.append(RunStarted(kind="eval", resolved={"model": "m"}))
        for i, v in enumerate(values):
            sid = f"b/default/{i}"
            w.append(SampleLoaded(sample_id=sid, benchmark="b"))
            w.append(Generated(sample_id=sid, model="m", output="x"))
            w.append(Scored(sample_id=sid, scorer=metric, metric=metric, value=v))
        w.append(RunFinished())
    (row,) = report.build_eval(path, workers=1)["rows"]
    return row


def test_ci_of_a_0_1_metric_is_exact_at_the_ends(tmp_path):
    row = _scores(tmp_path / "a.jsonl", [0.0, 0.0, 0.0])
    assert (row["score"], row["ci_low"]) == (0.0, 0.0)  # exactly 0.0, not 5.55e-17
    assert row["ci_high"] == pytest.approx(0.5614970317550454)
    row = _scores(tmp_path / "b.jsonl", [1.0, 1.0, 1.0])
    assert row["ci_high"] == 1.0 and row["ci_low"] == pytest.approx(1 - 0.5614970317550454)


def test_ci_of_a_bounded_mean_is_clipped_to_0_1(tmp_path):
    # values in [0, 1] that are not all 0/1 (F1, ROUGE, mean@k): mean 0.525, sd 0.55, n=4, so the
    # normal interval 0.525 +- 1.96 * 0.55 / 2 = [-0.014, 1.064] is clipped to [0, 1]
    row = _scores(tmp_path / "c.jsonl", [0.0, 0.1, 1.0, 1.0], metric="f1")
    assert row["score"] == pytest.approx(0.525)
    assert row["ci_low"] == 0.0 and row["ci_high"] == 1.0
    # a metric with values outside [0, 1] is not clipped
    row = _scores(tmp_path / "d.jsonl", [-1.0, 0.0, 2.0, 3.0], metric="delta")
    assert row["ci_low"] < 0.0 and row["ci_high"] > 1.0


def test_the_eval_report_is_the_registered_body_reporter(tmp_path):
    from assay.plugins import host
    from assay.report import build_report

    path = tmp_path / "events.jsonl"
    _log(path)
    entry = host().reporters()["eval"]
    assert entry.options["body"] is True and entry.distribution == "assay-eval-report"
    assert entry.plugin == "eval_report" and entry.obj is report.REPORTER
    assert build_report(path, host(), workers=1) == report.build_eval(path, workers=1)


def test_repeats_give_mean_and_pass_at_k_wherever_the_log_is_cut(tmp_path):
    # problem 0: 1 of 4 repeats right, problem 1: 0 of 4 (its last repeat errored: counted wrong)
    path = tmp_path / "events.jsonl"
    with LogWriter(path, "r1") as w:
        w.append(RunStarted(kind="eval", resolved={"model": "m", "datasets": ["b"], "repeats": 4}))
        for p in range(2):
            for r in range(4):
                sid = f"b/default/{p}#{r}"
                w.append(SampleLoaded(sample_id=sid, benchmark="b", local_id=str(p), repeat=r))
                if (p, r) == (1, 3):
                    w.append(SampleFailed(sample_id=sid, stage="generate", error_type="X", message="boom"))
                    continue
                w.append(Generated(sample_id=sid, model="m", output="x"))
                w.append(Scored(sample_id=sid, scorer="acc", metric="acc", value=float((p, r) == (0, 2))))
        w.append(RunFinished())
    want = {"mean@4": 0.125, "pass@1": 0.125, "pass@2": 0.25, "pass@4": 0.5}

    def repeats(fold):
        rows = [r for r in fold.rows() if r.get("average") == "repeats"]
        assert {(r["dataset"], r["subset"], r["num"]) for r in rows} == {("b", "default", 2)}
        return {r["metric"]: r["score"] for r in rows}

    assert repeats(report.fold_log(path, workers=1)) == pytest.approx(want)
    data = path.read_bytes()
    for cut in [i + 1 for i, c in enumerate(data) if c == ord("\n")][:-1]:
        first, second = report._fold_part(path, 0, cut), report._fold_part(path, cut, len(data))
        first.merge(second)
        assert repeats(first) == pytest.approx(want), cut
