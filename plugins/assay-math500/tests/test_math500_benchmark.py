"""MATH-500: loading, extraction on real rows, and `assay eval` against the HTTP test server.

Expected figures: row counts from SOURCE.md (500 rows) and from counting test.jsonl in the
test itself; scores from the answers the test scripts (which are right, wrong or malformed).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.events import Generated, SampleLoaded
from assay.plugins import PluginHost
from assay_math500.benchmark import LEVELS, Math500, MathAccuracy
from assay_testserver.testing import bodies, main_eval


def _rows(datasets_dir):
    path = datasets_dir / "math500" / "test.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _args(datasets_dir, **kw):
    return BenchmarkArgs(name="math_500", dataset_dir=str(datasets_dir), **kw)


def test_plugin_is_discovered():
    host = PluginHost()
    (p,) = [p for p in host.loaded if p.name == "math_500"]
    assert p.distribution == "assay-math500" and p.version == "0.1.0"
    assert "math_500" in host.benchmarks() and host.benchmarks()["math_500"].distribution == "assay-math500"
    assert "math_acc" in host.scorers() and "math500_breakdown" in host.reporters()


def test_loads_500_rows_grouped_by_level_then_by_subject(datasets_dir):
    rows = _rows(datasets_dir)
    samples = list(Math500(_args(datasets_dir)).load(_args(datasets_dir)))
    assert len(samples) == 500  # SOURCE.md
    assert Counter(s.subset for s in samples) == Counter(f"Level {r['level']}" for r in rows)
    assert [s.subset for s in samples] == sorted((s.subset for s in samples), key=LEVELS.index)  # grouped, for --limit
    first = samples[0]
    assert first.messages[-1]["content"].endswith("put your final answer within \\boxed{}.")
    assert first.target == next(r["answer"] for r in rows if r["unique_id"] == first.id)
    by_subject = list(
        Math500(_args(datasets_dir, extra={"group_by": "subject"})).load(
            _args(datasets_dir, extra={"group_by": "subject"})
        )
    )
    assert Counter(s.subset for s in by_subject) == Counter(r["subject"] for r in rows)
    assert len(Counter(s.subset for s in by_subject)) == 7


def test_subset_list_and_bad_options(datasets_dir):
    a = _args(datasets_dir, subset_list=["Level 1"])
    samples = list(Math500(a).load(a))
    assert len(samples) == sum(1 for r in _rows(datasets_dir) if r["level"] == 1)
    with pytest.raises(AssayError, match="no subset 'Level 9' in group_by=level"):
        Math500(_args(datasets_dir, subset_list=["Level 9"]))
    with pytest.raises(AssayError, match="group_by"):
        Math500(_args(datasets_dir, extra={"group_by": "topic"}))


def test_bad_row_names_file_and_line(tmp_path):
    p = tmp_path / "test.jsonl"
    p.write_text(
        '{"problem": "1+1", "answer": "2", "subject": "Algebra", "level": 1}\n{"problem": "x", "subject": "Algebra", "level": 2}\n'
    )
    a = BenchmarkArgs(name="math_500", local_path=str(tmp_path))
    with pytest.raises(AssayError, match=r"test.jsonl:2: missing key 'answer'"):
        list(Math500(a).load(a))


def _score(target, output):
    s = SampleLoaded(sample_id="math_500/Level 1/x", benchmark="math_500", target=target)
    return MathAccuracy().score(s, Generated(sample_id=s.sample_id, model="m", output=output))[0]


def test_scorer_on_real_rows(datasets_dir):
    rows = {r["unique_id"]: r for r in _rows(datasets_dir)}
    polar = rows["test/precalculus/807.json"]["answer"]  # \left( 3, \frac{\pi}{2} \right)
    assert _score(polar, r"So the point is $\boxed{(3, \pi/2)}$.").value == 1.0
    assert _score(polar, r"$\boxed{(3, \pi)}$").value == 0.0
    interval = rows["test/algebra/2486.json"]["answer"]  # \left(\frac{3}{5},\frac{8}{3}\right]
    assert _score(interval, r"\boxed{(0.6, 8/3]}").value == 1.0
    assert _score(interval, r"\boxed{[0.6, 8/3]}").value == 0.0  # closed at the left is another set
    # the reasoning's box is ignored, the answer's box counts
    sc = _score(polar, r"<think>maybe \boxed{(3,\pi/2)}</think>The answer is \boxed{(3, 0)}")
    assert sc.value == 0.0 and sc.extracted == "(3, 0)"
    assert _score(polar, "I cannot solve this.").value == 0.0
    assert _score("5", "Final Answer: The final answer is 5. I hope it is correct.").value == 1.0  # Minerva format


def test_eval_against_the_http_server(tmp_path, datasets_dir, test_server):
    rows = _rows(datasets_dir)
    first2 = {lvl: [r for r in rows if r["level"] == lvl][:2] for lvl in range(1, 6)}
    # per level: (first answer, second answer); c = correct, w = wrong, m = malformed (no box), t = think trap
    plan = {1: "cw", 2: "cc", 3: "mt", 4: "wc", 5: "cc"}

    def answer(row, kind):
        a = row["answer"]
        return {
            "c": f"Let me work it out.\nThe answer is $\\boxed{{{a}}}$.",
            "w": "The answer is $\\boxed{123456789}$.",
            "m": "I think it is probably seven or so.",
            "t": f"<think>\\boxed{{{a}}}</think>So the answer is \\boxed{{123456789}}.",
        }[kind]

    rules = [
        {"match": r["problem"], "answer": answer(r, plan[lvl][i])}
        for lvl, rs in first2.items()
        for i, r in enumerate(rs)
    ]
    srv = test_server(rules=rules)
    run, report = main_eval(
        tmp_path,
        "--model",
        "m",
        "--api-url",
        srv.url,
        "--api-key",
        "EMPTY",
        "--datasets",
        "math_500",
        "--limit",
        "2",
        "--dataset-dir",
        str(datasets_dir),
    )
    got = {r["subset"]: (r["num"], r["score"]) for r in report["rows"] if r["metric"] == "acc"}
    # expected: correct answers per level from the plan above, 2 samples each
    assert got["Level 1"] == (2, 0.5)
    assert got["Level 2"] == (2, 1.0)
    assert got["Level 3"] == (2, 0.0)
    assert got["Level 4"] == (2, 0.5)
    assert got["Level 5"] == (2, 1.0)
    assert got["OVERALL"] == (10, 0.6)  # 6 of 10
    assert got["OVERALL (macro)"][1] == pytest.approx(0.6)
    assert len(srv.requests) == 10
    # the breakdown reporter: the same 10 samples by level and by subject
    extra = {
        (r["category"], r["subset"]): (r["num"], r["score"]) for r in report["sections"]["math500_breakdown"]["rows"]
    }
    assert extra[("level", "Level 2")] == (2, 1.0) and extra[("level", "Level 3")] == (2, 0.0)
    right = [r for lvl, rs in first2.items() for i, r in enumerate(rs) if plan[lvl][i] == "c"]
    for subject in {r["subject"] for rs in first2.values() for r in rs}:
        n = sum(1 for rs in first2.values() for r in rs if r["subject"] == subject)
        c = sum(1 for r in right if r["subject"] == subject)
        assert extra[("subject", subject)] == (n, c / n), subject  # counted from the plan and the file
    trap = next(b for b in bodies(run, "Generated") if "<think>" in b["output"])
    assert "<think>" in trap["output"]  # the raw output, reasoning included, stays in the log


def test_reasoning_channel_is_not_the_answer(tmp_path, datasets_dir, test_server):
    row = next(r for r in _rows(datasets_dir) if r["level"] == 1)
    # the server sends the right box as reasoning_content and a wrong box as the answer
    srv = test_server(
        rules=[{"match": row["problem"], "answer": "\\boxed{123456789}"}], reasoning=f"\\boxed{{{row['answer']}}}"
    )
    run, report = main_eval(
        tmp_path,
        "--model",
        "m",
        "--api-url",
        srv.url,
        "--api-key",
        "EMPTY",
        "--datasets",
        "math_500",
        "--limit",
        "1",
        "--dataset-args",
        json.dumps({"math_500": {"subset_list": ["Level 1"]}}),
        "--dataset-dir",
        str(datasets_dir),
    )
    (row_out,) = [r for r in report["rows"] if r["metric"] == "acc"]
    assert (row_out["num"], row_out["score"]) == (1, 0.0)
    (gen,) = bodies(run, "Generated")
    assert gen["reasoning"] == f"\\boxed{{{row['answer']}}}"  # kept in the event
