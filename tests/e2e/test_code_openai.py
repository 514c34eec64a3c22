"""`assay eval --datasets humaneval/mbpp` against the test server: answers run in the real bwrap sandbox."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest
from assay_testserver.testing import served_eval
from assay_testserver.testing import events as _events
from helpers import assay, report_rows, run_dirs

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")

# per problem (HumanEval/0..5): how many of the 5 repeats answer the canonical solution
CORRECT = [5, 0, 2, 1, 3, 4]


def _rows(run):
    """The table's rows and the rows of each reporter's section (`assay report --format json`)."""
    out = []
    for item in report_rows(run, sections=True):
        out += item["section"].get("rows", []) if "reporter" in item else [item]
    return out


def _humaneval(datasets_dir, n):
    with gzip.open(datasets_dir / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f][:n]


def test_humaneval_pass_at_k_is_exact_and_every_execution_is_logged(tmp_path, datasets_dir, test_server):
    rules = []
    for row, c in zip(_humaneval(datasets_dir, 6), CORRECT, strict=True):
        right = f"Here is the function:\n```python\n{row['prompt']}{row['canonical_solution']}```\n"
        wrong = "```python\n    return None\n```"  # runs, fails the asserts
        loop = "    while True:\n        pass\n"  # a completion that never ends
        answers = [right] * c + ([wrong, loop] * 5)[: 5 - c]
        rules.append({"match": f"def {row['entry_point']}(", "answers": answers})
    srv = test_server(rules=rules)
    out = served_eval(
        srv.url,
        tmp_path,
        "--api-key",
        "sk-test-SECRET-913",
        "--datasets",
        "humaneval",
        "--limit",
        "6",
        "--repeats",
        "5",
        "--eval-batch-size",
        "8",
        "--dataset-args",
        json.dumps({"humaneval": {"timeout": 1.0}}),
        "--dataset-dir",
        str(datasets_dir),
        model="coder",
        env={"ASSAY_TEST_PARENT_SECRET": "parent-secret-5521"},
    )
    (run,) = run_dirs(tmp_path)
    rows = _rows(run)
    kernel = [r for r in rows if r["metric"] == "pass"]
    assert len(kernel) == 1
    assert (kernel[0]["num"], kernel[0]["errors"], kernel[0]["score"]) == (30, 0, 15 / 30)
    passk = {r["metric"]: r for r in rows if "@" in r["metric"]}
    assert set(passk) == {"pass@1", "pass@5"}  # 5 samples per problem: no pass@10
    assert passk["pass@1"]["score"] == pytest.approx(sum(c / 5 for c in CORRECT) / 6)
    assert passk["pass@5"]["score"] == pytest.approx(5 / 6)  # every problem but HumanEval/1 has a correct sample
    assert passk["pass@1"]["problems"] == 6 and passk["pass@1"]["samples_per_problem"] == 5
    events = _events(run)
    executed = [e["body"] for e in events if e["type"] == "Executed"]
    assert len(executed) == 30
    verdicts = {}
    for e in executed:
        verdicts[e["verdict"]] = verdicts.get(e["verdict"], 0) + 1
    wrong = sum((5 - c + 1) // 2 for c in CORRECT)  # wrong answers alternate with loops, wrong first
    assert verdicts == {"passed": 15, "failed": wrong, "timeout": 15 - wrong}
    assert all(e["backend"] == "bwrap" and e["limits"]["timeout"] == 1.0 for e in executed)
    # `return None` fails an assert, or a check that does arithmetic on the result
    assert {e["reason"] for e in executed if e["verdict"] == "failed"} == {"AssertionError", "TypeError"}
    # each sample's Generated, Executed and Scored were appended as one group
    kinds = [e["type"] for e in events]
    for i, k in enumerate(kinds):
        if k == "Executed":
            assert kinds[i - 1] == "Generated" and kinds[i + 1] == "Scored"
    report = json.loads((run / "report.json").read_text())
    assert report["sections"]["code_pass_at_k"]["executions"] == [
        {"dataset": "humaneval", "subset": "openai_humaneval", "verdicts": dict(sorted(verdicts.items()))}
    ]
    assert "pass@5" in out.stdout and "0.8333" in out.stdout
    for text in ((run / "events.jsonl").read_text(), (run / "report.json").read_text(), out.stdout, out.stderr):
        assert "SECRET-913" not in text and "parent-secret-5521" not in text

    # rescore runs every program again, in the sandbox, into a new run with the same figures
    rescored = assay("rescore", str(run), "--work-dir", str(tmp_path / "rescored"))
    (run2,) = run_dirs(tmp_path / "rescored")
    again = _events(run2)
    assert sum(e["type"] == "Executed" for e in again) == 30
    assert {r["metric"]: r["score"] for r in _rows(run2)} == {r["metric"]: r["score"] for r in rows}
    assert "pass@1" in rescored.stdout


def test_mbpp_answers_with_begin_done_markers(tmp_path, datasets_dir, test_server):
    rows = {}
    with open(datasets_dir / "mbpp" / "mbpp.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            rows[row["task_id"]] = row
    rules = []
    for task_id in range(11, 15):  # the first 4 test problems: 11 and 13 right, 12 and 14 wrong
        row = rows[task_id]
        answer = f"{row['code']}\n[DONE]" if task_id % 2 else "def nothing():\n    pass\n[DONE]"
        rules.append({"match": row["text"], "answer": answer})
    srv = test_server(rules=rules)
    served_eval(
        srv.url, tmp_path, "--datasets", "mbpp", "--limit", "4", "--dataset-dir", str(datasets_dir), model="coder"
    )
    (run,) = run_dirs(tmp_path)
    by_metric = {r["metric"]: r for r in _rows(run)}
    assert (by_metric["pass"]["num"], by_metric["pass"]["score"]) == (4, 0.5)
    assert by_metric["pass@1"]["score"] == 0.5
    executed = {e["body"]["sample_id"]: e["body"] for e in _events(run) if e["type"] == "Executed"}
    assert {k: (v["verdict"], v.get("reason")) for k, v in executed.items()} == {
        "mbpp/full/11": ("passed", None),
        "mbpp/full/12": ("failed", "NameError"),
        "mbpp/full/13": ("passed", None),
        "mbpp/full/14": ("failed", "NameError"),
    }


def test_live_code_bench_fixture_through_the_cli(tmp_path, test_server):
    from pathlib import Path

    fixture = Path(__file__).resolve().parents[2] / "plugins" / "assay-code" / "tests" / "fixtures"
    rules = [
        {"match": "print A+B", "answer": "```python\na, b = map(int, input().split())\nprint(a + b)\n```"},
        {"match": "print A/B", "answer": "```python\na, b = map(int, input().split())\nprint(a // b)\n```"},
        {
            "match": "Return a + b.",
            "answer": "```python\nclass Solution:\n    def addTwo(self, a, b):\n        return a + b\n```",
        },
        {"match": "Return the list reversed.", "answer": "I cannot do that."},
    ]
    srv = test_server(rules=rules)
    served_eval(
        srv.url,
        tmp_path,
        "--datasets",
        "live_code_bench",
        "--dataset-args",
        json.dumps({"live_code_bench": {"release_version": "release_v2"}}),
        "--dataset-dir",
        str(fixture),
        model="coder",
    )
    (run,) = run_dirs(tmp_path)
    rows = [r for r in _rows(run) if r["metric"] == "pass@1"]
    assert [(r["subset"], r["problems"], r["score"]) for r in rows] == [("code_generation", 4, 0.5)]
    executed = [e["body"] for e in _events(run) if e["type"] == "Executed"]
    by_test = sorted((e["sample_id"].rsplit("/", 1)[1], e["tests"], e["verdict"]) for e in executed)
    assert by_test == [
        ("lcb-add", "functional", "passed"),
        ("lcb-half", "stdin:0", "failed"),  # 1 // 2 prints 0, not 0.5
        ("lcb-rev", "functional", "failed"),  # no code at all: a SyntaxError
        ("lcb-sum", "stdin:0", "passed"),
        ("lcb-sum", "stdin:1", "passed"),
        ("lcb-sum", "stdin:2", "passed"),
    ]
