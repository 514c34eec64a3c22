"""MATH: the shared simple-evals CSV (5,000), the original JSON tree and a hub JSONL layout
(both built here from the MATH-500 rows, which carry level, type and solution), bad rows, and
`assay eval` through the CLI against the test server.

Expected figures: 5,000 rows (math/SOURCE.md); the 500 MATH-500 problems occur in the CSV with
identical answers (SOURCE.md says so and the test re-checks it); scores from the scripted replies.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.plugins import PluginHost
from assay_math.benchmark import LEVELS, MATH, PROMPT
from assay_testserver.testing import cli_eval, bodies, rows_by


def _load(**kw):
    args = BenchmarkArgs(name="math", **kw)
    return list(MATH(args).load(args))


def _math500(datasets_dir):
    path = datasets_dir / "math500" / "test.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _tree(tmp_path, rows):
    """The original release's layout: MATH/test/<type>/<n>.json."""
    for r in rows:
        f = tmp_path / "MATH" / r["unique_id"]
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(
            json.dumps(
                {
                    "problem": r["problem"],
                    "level": f"Level {r['level']}",
                    "type": r["subject"],
                    "solution": r["solution"],
                }
            ),
            encoding="utf-8",
        )
    return tmp_path / "MATH"


def test_shared_csv_whole_file(datasets_dir) -> None:
    t0 = time.process_time()  # CPU seconds: wall time on the loaded 2-core box is noise
    samples = _load(dataset_dir=str(datasets_dir))
    elapsed = time.process_time() - t0
    assert len(samples) == 5000 and elapsed < 3.0
    assert {s.subset for s in samples} == {"default"}
    with open(datasets_dir / "math" / "math_test.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [s.id for s in samples] == [r[""] for r in rows]
    assert samples[0].messages == [
        {
            "role": "user",
            "content": "Problem:\nHow many vertical asymptotes does the graph of $y=\\frac{2}{x^2+x-6}$ have?\n\n"
            "Please reason step by step, and put your final answer within \\boxed{}.\n",
        }
    ]
    assert samples[0].target == "2" and samples[0].metadata["source"].endswith("math_test.csv:2")
    # every MATH-500 problem is in the CSV with the same final answer
    by_q = {s.messages[0]["content"]: s.target for s in samples}
    m500 = _math500(datasets_dir)
    assert sum(by_q.get(PROMPT.format(question=r["problem"])) == r["answer"] for r in m500) == 500


def test_csv_has_no_levels(datasets_dir) -> None:
    with pytest.raises(AssayError, match=r"subset_list \['Level 1'\] needs levels and types.*one subset is 'default'"):
        _load(dataset_dir=str(datasets_dir), subset_list=["Level 1"])
    assert len(_load(dataset_dir=str(datasets_dir), subset_list=["default"])) == 5000


def test_json_tree_levels_and_types(tmp_path, datasets_dir) -> None:
    m500 = _math500(datasets_dir)
    root = _tree(tmp_path, m500)
    samples = _load(local_path=str(root))
    assert len(samples) == 500
    assert Counter(s.subset for s in samples) == Counter(f"Level {r['level']}" for r in m500)
    assert [s.subset for s in samples] == sorted((s.subset for s in samples), key=LEVELS.index)
    ref = {r["unique_id"]: r for r in m500}
    # the target is the solution's last \boxed{}: equal to MATH-500's answer field for every row
    assert all(s.target == ref[s.id]["answer"] for s in samples)
    by_type = _load(local_path=str(root), extra={"group_by": "type"})
    assert Counter(s.subset for s in by_type) == Counter(r["subject"] for r in m500)
    lvl2 = _load(local_path=str(root), subset_list=["Level 2"])
    assert len(lvl2) == sum(r["level"] == 2 for r in m500)


def test_hub_jsonl_layout(tmp_path, datasets_dir) -> None:
    m500 = _math500(datasets_dir)[:20]
    d = tmp_path / "snap" / "data"
    d.mkdir(parents=True)
    rows = [
        {"problem": r["problem"], "level": f"Level {r['level']}", "type": r["subject"], "solution": r["solution"]}
        for r in m500
    ]
    (d / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    samples = _load(local_path=str(tmp_path / "snap"))
    assert sorted(s.target for s in samples) == sorted(r["answer"] for r in m500)
    rows[3] = dict(rows[3], solution="no box here")
    (d / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(AssayError, match=r"test\.jsonl:4: the solution has no \\boxed\{\} answer"):
        _load(local_path=str(tmp_path / "snap"))
    rows[3] = {"problem": "x", "level": "Level 1", "solution": "\\boxed{1}"}
    (d / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(AssayError, match=r"test\.jsonl:4: missing or empty 'type'"):
        _load(local_path=str(tmp_path / "snap"))


def test_bad_csv_row_and_options(tmp_path) -> None:
    d = tmp_path / "math"
    d.mkdir()
    (d / "math_test.csv").write_text(",Question,Answer\n0,What is 1+1?,2\n1,What is 2+2?,\n", encoding="utf-8")
    with pytest.raises(AssayError, match=r"math_test\.csv:3: missing or empty 'answer'"):
        _load(dataset_dir=str(tmp_path))
    with pytest.raises(AssayError, match=r"group_by = 'subject': expected one of level, type"):
        _load(dataset_dir=str(tmp_path), extra={"group_by": "subject"})
    with pytest.raises(
        AssayError,
        match=r"no subset 'Level 6' in group_by=level \(did you mean 'Level \d'\?\); available: Level 1, .*, default$",
    ):
        _load(dataset_dir=str(tmp_path), subset_list=["Level 6"])
    with pytest.raises(AssayError, match=r"unknown key\(s\) 'groupby' \(did you mean 'group_by'\?\)"):
        _load(dataset_dir=str(tmp_path), extra={"groupby": "type"})
    with pytest.raises(AssayError, match="few_shot_num = 4: math is evaluated 0-shot"):
        _load(dataset_dir=str(tmp_path), few_shot_num=4)


def test_discovery() -> None:
    host = PluginHost()
    b = host.benchmarks()
    assert b["math"].distribution == "assay-math" and b["competition_math"].distribution == "assay-math"


@pytest.mark.slow
def test_cli_exact_scores_on_shared_csv(test_server, datasets_dir, tmp_path) -> None:
    s = _load(dataset_dir=str(datasets_dir))[:6]

    def q(x):
        return x.messages[0]["content"].split("\n\nPlease reason")[0]

    rules = [
        {"match": q(s[0]), "answer": f"The asymptotes are at x=2, x=-3, so $\\boxed{{{s[0].target}}}$."},  # right
        {"match": q(s[1]), "answer": "\\boxed{-24 - 4r + 6r^2}"},  # right: equivalent, reordered
        {"match": q(s[2]), "answer": "\\boxed{7}"},  # wrong
        {"match": q(s[3]), "answer": "I could not finish."},  # malformed: no box
        {"match": q(s[4]), "answer": f"<think>\\boxed{{{s[4].target}}}</think>\\boxed{{0}}"},  # wrong after think
        {"match": q(s[5]), "answer": f"\\boxed{{{s[5].target}}}"},  # right
    ]
    assert s[1].target == "6r^2-4r-24"
    srv = test_server(rules=rules)
    run_dir, report = cli_eval("math", api_url=srv.url, datasets_dir=datasets_dir, work_dir=tmp_path, limit=6)
    row = rows_by(report)[next(k for k in rows_by(report) if k[1] == "default")]
    assert (row["num"], row["score"]) == (6, 0.5)
    assert len(srv.requests) == 6
    vals = {e["sample_id"].rsplit("/", 1)[-1]: e["value"] for e in bodies(run_dir, "Scored")}
    assert vals == {"0": 1.0, "1": 1.0, "2": 0.0, "3": 0.0, "4": 0.0, "5": 1.0}


@pytest.mark.slow
def test_cli_levels_on_json_tree(test_server, datasets_dir, tmp_path) -> None:
    m500 = _math500(datasets_dir)
    root = _tree(tmp_path / "data", m500)
    by_id = {r["unique_id"]: r for r in m500}
    loaded_first = {}
    for x in _load(local_path=str(root)):  # --limit 1 takes the first of each level in the tree's order
        loaded_first.setdefault(int(x.subset[-1]), by_id[x.id])
    first = dict(sorted(loaded_first.items()))
    # levels 1, 3, 5 answered right, 2 wrong, 4 malformed
    rules = [
        {
            "match": r["problem"],
            "answer": f"\\boxed{{{r['answer']}}}"
            if lvl in (1, 3, 5)
            else ("\\boxed{123456}" if lvl == 2 else "no idea"),
        }
        for lvl, r in first.items()
    ]
    srv = test_server(rules=rules)
    run_dir, report = cli_eval(
        "competition_math",
        api_url=srv.url,
        datasets_dir=datasets_dir,
        work_dir=tmp_path / "runs",
        limit=1,
        dataset_args={"local_path": str(root)},
    )
    got = {sub: (r["num"], r["score"]) for (_c, sub), r in rows_by(report).items()}
    assert {k: got[k] for k in LEVELS} == {
        "Level 1": (1, 1.0),
        "Level 2": (1, 0.0),
        "Level 3": (1, 1.0),
        "Level 4": (1, 0.0),
        "Level 5": (1, 1.0),
    }
    assert got["OVERALL"] == (5, 0.6)
    loaded = bodies(run_dir, "SampleLoaded")
    assert sorted(e["metadata"]["type"] for e in loaded) == sorted(r["subject"] for r in first.values())
