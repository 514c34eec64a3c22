"""assay-code: extraction, pass@k, and the official canonical solutions run in the real bwrap sandbox."""

from __future__ import annotations

import gzip
import json
import math
from concurrent.futures import ThreadPoolExecutor

import pytest
from pathlib import Path
from assay.api import AssayError, BenchmarkArgs, Score
from assay.events import Executed, Generated, SampleLoaded
from assay_code.extract import extract_code
from assay_reportkit.passk import pass_at_k
from assay_code.scorer import SCORER

# the sandbox tests' worker (see assay-sandbox's tests): time-limited executions never beside hostile programs
pytestmark = pytest.mark.xdist_group("sandbox")

# canonical solutions that fail the official tests under the official limits, with the reason
MBPP_CANONICAL_FAILS = {"123": "timeout: amicable_numbers_sum(9999) takes ~18 s, the limit is 3 s"}


def test_discovery_contract(plugin_host):
    assert plugin_host.benchmarks()["humaneval"].distribution == "assay-code"
    assert plugin_host.benchmarks()["mbpp"].distribution == "assay-code"
    assert plugin_host.scorers()["code_pass"].distribution == "assay-code"
    assert plugin_host.reporters()["code_pass_at_k"].options["benchmarks"] >= {"humaneval", "mbpp"}
    assert set(plugin_host.sandboxes()) >= {"bwrap", "unsafe_no_sandbox"}


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ("```python\ndef f():\n    return 1\n```\nExplanation...", "def f():\n    return 1\n"),
        ("Here:\n```\nx = 1\n```\n```python\ny = 2\n```", "y = 2\n"),  # the python block wins
        ("```js\nlet a\n```", "let a\n"),
        ("<think>```python\nwrong\n```</think>```python\nright\n```", "right\n"),
        ("    return x + 1\n", "    return x + 1\n"),  # a completion continuing the prompt
        ("```python\ndef f():\n    pass\n", "def f():\n    pass\n"),  # unterminated fence
        ("def f():\n    pass\n\nif __name__ == '__main__':\n    f()\n", "def f():\n    pass\n\n"),
        ("def f():\r\n    pass\r\n", "def f():\n    pass\n"),
    ],
)
def test_extract_code(answer, code):
    assert extract_code(answer) == code


def test_mbpp_stop_words():
    answer = "def f(x):\n    return x\n[DONE]\nassert f(1) == 1"
    assert extract_code(answer, stop=("[DONE]", "\nassert")) == "def f(x):\n    return x\n"


def test_pass_at_k_is_the_unbiased_estimator():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - math.comb(7, 5) / math.comb(10, 5))
    assert pass_at_k(10, 0, 10) == 0.0 and pass_at_k(10, 1, 10) == 1.0 and pass_at_k(5, 3, 3) == 1.0
    assert pass_at_k(200, 37, 10) == pytest.approx(1 - math.comb(163, 10) / math.comb(200, 10))
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 5)


def _rows(path, opener=open):
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _score(bench, sample, output):
    sl = SampleLoaded(
        sample_id=f"{bench}/{sample.subset}/{sample.id}",
        benchmark=bench,
        subset=sample.subset,
        local_id=sample.id,
        metadata=sample.metadata,
        scorers=["code_pass"],
    )
    return SCORER.score(sl, Generated(sample_id=sl.sample_id, model="m", output=output))


def _run_all(bench, samples, answer_of):
    with ThreadPoolExecutor(2) as ex:
        return dict(zip([s.id for s in samples], ex.map(lambda s: _score(bench, s, answer_of(s)), samples)))


def _verdicts(results):
    out = {}
    for sid, events in results.items():
        (score,) = [e for e in events if isinstance(e, Score)]
        (executed,) = [e for e in events if isinstance(e, Executed)]
        assert executed.backend == "bwrap" and executed.limits["timeout"] == 3.0
        out[sid] = (score.value, executed.verdict)
    return out


def test_humaneval_canonical_solutions_all_pass_and_broken_ones_fail(datasets_dir):
    from assay_code.humaneval import HumanEval

    args = BenchmarkArgs(name="humaneval", dataset_dir=str(datasets_dir))
    samples = list(HumanEval(args).load(args))
    assert len(samples) == 164 and samples[0].id == "0" and samples[0].subset == "openai_humaneval"
    canon = {
        r["task_id"]: r["canonical_solution"] for r in _rows(datasets_dir / "humaneval/HumanEval.jsonl.gz", gzip.open)
    }
    good = _verdicts(_run_all("humaneval", samples, lambda s: canon[s.metadata["task_id"]]))
    assert good == {s.id: (1.0, "passed") for s in samples}
    # a chat answer repeating the whole function in a fence passes too
    (first,) = [s for s in samples if s.id == "0"]
    prompt = first.metadata["code"]["prompt"]
    events = _score("humaneval", first, f"Sure!\n```python\n{prompt}{canon['HumanEval/0']}```\nDone.")
    assert [e.value for e in events if isinstance(e, Score)] == [1.0]
    broken = _verdicts(_run_all("humaneval", samples[:20], lambda s: "    return None\n"))
    assert broken == {s.id: (0.0, "failed") for s in samples[:20]}


def test_mbpp_canonical_solutions_pass_but_the_known_ones(datasets_dir):
    from assay_code.mbpp import MBPP

    args = BenchmarkArgs(name="mbpp", dataset_dir=str(datasets_dir))
    samples = list(MBPP(args).load(args))
    assert len(samples) == 500 and samples[0].id == "11" and samples[-1].id == "510"
    content = samples[0].messages[0]["content"]
    assert content.count("[BEGIN]") == 4 and content.count("[DONE]") == 3  # 3 shots, then the question
    assert content.startswith("You are an expert Python programmer, and here is your task: Write a function to find")
    canon = {str(r["task_id"]): r["code"] for r in _rows(datasets_dir / "mbpp/mbpp.jsonl")}
    results = _verdicts(_run_all("mbpp", samples, lambda s: canon[s.id] + "\n[DONE]"))
    failing = {sid: v for sid, v in results.items() if v != (1.0, "passed")}
    assert failing == {"123": (0.0, "timeout")}, MBPP_CANONICAL_FAILS


def test_a_sandbox_that_cannot_run_is_a_counted_error_not_a_score(datasets_dir, plugin_host):
    from assay.scoring import Scoring
    from assay_code.humaneval import HumanEval

    args = BenchmarkArgs(
        name="humaneval",
        dataset_dir=str(datasets_dir),
        extra={"sandbox_options": {"python": "/nonexistent/bin/python3"}},
    )
    sample = next(iter(HumanEval(args).load(args)))
    sl = SampleLoaded(
        sample_id="humaneval/openai_humaneval/0", benchmark="humaneval", metadata=sample.metadata, scorers=["code_pass"]
    )
    scored, failed = Scoring(plugin_host).score(sl, Generated(sample_id=sl.sample_id, model="m", output="    pass\n"))
    assert scored == []
    (f,) = failed
    assert (f.stage, f.error_type) == ("score", "AssayError")
    assert f.message.startswith("scorer code_pass: no sandbox can run here (bwrap: bwrap probe failed")
    assert "; unshare: unshare probe failed" in f.message


def test_unknown_dataset_args_are_rejected(datasets_dir):
    # the kernel's check, against the keys the benchmark declares (extra_args), before the run starts
    from assay.api import check_extra_args
    from assay_code.humaneval import HumanEval
    from assay_code.lcb import LiveCodeBench

    args = BenchmarkArgs(name="humaneval", dataset_dir=str(datasets_dir), extra={"sandbx": "bwrap"})
    with pytest.raises(AssayError, match="unknown key\\(s\\) 'sandbx' \\(did you mean 'sandbox'\\?\\)"):
        check_extra_args(args, HumanEval.extra_args)
    lcb = BenchmarkArgs(name="live_code_bench", extra={"release_version": "release_v2", "timeout": 2})
    check_extra_args(lcb, LiveCodeBench.extra_args)


def _plus_samples(datasets_dir, name):
    from assay_code.evalplus import HumanEvalPlus, MBPPPlus

    args = BenchmarkArgs(name=name, dataset_dir=str(datasets_dir))
    cls = HumanEvalPlus if name == "humaneval_plus" else MBPPPlus
    return {s.id: s for s in cls(args).load(args)}


def _scores(events):
    return {e.metric: e.value for e in events if isinstance(e, Score)}


def test_humaneval_plus_canonical_pass_base_and_plus(datasets_dir):
    samples = _plus_samples(datasets_dir, "humaneval_plus")
    assert len(samples) == 164
    rows = {r["task_id"]: r for r in _rows(datasets_dir / "humaneval_plus/HumanEvalPlus.jsonl.gz", gzip.open)}
    # a sample of the tasks (all 164 pass: see the README), with HumanEval/32's find_zero oracle
    chosen = [samples[i] for i in ("0", "2", "12", "32", "53")]
    results = _run_all("humaneval_plus", chosen, lambda s: rows[s.metadata["task_id"]]["canonical_solution"])
    for sid, events in results.items():
        assert [e.tests for e in events if isinstance(e, Executed)] == ["base", "plus"], sid
        assert _scores(events) == {"pass": 1.0, "pass_base": 1.0}, sid


def test_humaneval_plus_tells_base_from_plus(datasets_dir):
    samples = _plus_samples(datasets_dir, "humaneval_plus")
    row = next(
        r
        for r in _rows(datasets_dir / "humaneval_plus/HumanEvalPlus.jsonl.gz", gzip.open)
        if r["task_id"] == "HumanEval/2"
    )
    # right on the base inputs only: a lookup table of their answers
    table = {repr(inp): inp[0] % 1.0 for inp in row["base_input"]}
    lookup = f"    return {table!r}.get(repr([number]))\n"
    events = _score("humaneval_plus", samples["2"], lookup)
    assert _scores(events) == {"pass": 0.0, "pass_base": 1.0}
    base, plus = [e for e in events if isinstance(e, Executed)]
    assert (base.verdict, plus.verdict, plus.reason) == ("passed", "failed", "AssertionError")
    # wrong on the base inputs: plus is not even run
    events = _score("humaneval_plus", samples["2"], "    return None\n")
    assert [e.tests for e in events if isinstance(e, Executed)] == ["base"]
    assert _scores(events) == {"pass": 0.0, "pass_base": 0.0}
    # an input over its own time limit (max(1 s, 4 x the canonical time)) is a timeout
    events = _score("humaneval_plus", samples["2"], "    import time\n    time.sleep(3)\n    return number % 1.0\n")
    (ex,) = [e for e in events if isinstance(e, Executed)]
    assert (ex.verdict, ex.reason, ex.exit_code) == ("timeout", "per-input time limit", 124)


def test_mbpp_plus_canonical_with_special_oracles(datasets_dir):
    samples = _plus_samples(datasets_dir, "mbpp_plus")
    assert len(samples) == 378
    canon = {
        r["task_id"]: r["canonical_solution"] for r in _rows(datasets_dir / "mbpp_plus/MbppPlus.jsonl.gz", gzip.open)
    }
    # tuples restored from JSON (2, 63, 124, 722), set equality (2, 7), "not None" regex matches (737, 787, 794),
    # the pyramid and digit-distance oracles (581, 558)
    chosen = [samples[i] for i in ("2", "7", "63", "124", "558", "581", "722", "737", "787", "794")]
    results = _run_all("mbpp_plus", chosen, lambda s: canon[s.metadata["task_id"]])
    assert {sid: _scores(ev) for sid, ev in results.items()} == {s.id: {"pass": 1.0, "pass_base": 1.0} for s in chosen}


LCB_FIXTURE = Path(__file__).parent / "fixtures"


def _lcb(**extra):
    from assay_code.lcb import LiveCodeBench

    args = BenchmarkArgs(name="live_code_bench", dataset_dir=str(LCB_FIXTURE), extra=extra)
    return {s.id: s for s in LiveCodeBench(args).load(args)}


def test_lcb_release_and_date_filters():
    assert list(_lcb()) == ["lcb-sum", "lcb-half", "lcb-add", "lcb-rev"]  # release_latest
    assert list(_lcb(release_version="release_v1")) == ["lcb-sum", "lcb-half", "lcb-add"]
    assert list(_lcb(release_version="v2")) == ["lcb-rev"]
    assert list(_lcb(start_date="2023-07-01", end_date="2023-12-31")) == ["lcb-half", "lcb-add"]
    with pytest.raises(AssayError, match="release_v3 needs test3.jsonl"):
        _lcb(release_version="release_v3")
    s = _lcb()["lcb-sum"]
    # public then private tests, the private ones decoded from base64(zlib(pickle(json)))
    assert [t["input"] for t in s.metadata["code"]["tests"]] == ["1 2\n", "10 20\n", "-5 5\n"]
    assert s.messages[0]["role"] == "system" and s.messages[1]["content"].startswith("### Question:\nGiven two")
    assert "Read the inputs from stdin" in s.messages[1]["content"] and s.category == "easy"
    assert "```python\nclass Solution:" in _lcb()["lcb-add"].messages[1]["content"]


def test_lcb_test_pickles_cannot_build_objects():
    import base64
    import pickle
    import zlib

    from assay_code.lcb import decode_tests

    evil = base64.b64encode(zlib.compress(pickle.dumps(Path("/etc/passwd")))).decode()
    with pytest.raises(AssayError, match="refusing to load"):
        decode_tests(evil, "row 1")


@pytest.mark.parametrize(
    ("qid", "answer", "verdicts", "value"),
    [
        # stdin, with a main guard kept: the program runs as a script
        (
            "lcb-sum",
            "```python\ndef main():\n    a, b = map(int, input().split())\n    print(a + b)\n\n"
            "if __name__ == '__main__':\n    main()\n```",
            ["passed"] * 3,
            1.0,
        ),
        ("lcb-sum", "```python\na, b = map(int, input().split())\nprint(a - b)\n```", ["failed"], 0.0),
        # 0.5 equals 0.500000 as a Decimal
        ("lcb-half", "```python\na, b = map(int, input().split())\nprint(a / b)\n```", ["passed"] * 2, 1.0),
        (
            "lcb-add",
            "```python\nclass Solution:\n    def addTwo(self, a: int, b: int) -> int:\n        return a + b\n```",
            ["passed"],
            1.0,
        ),
        # a tuple counts as a list
        (
            "lcb-rev",
            "```python\nclass Solution:\n    def rev(self, nums: List[int]) -> List[int]:\n"
            "        return tuple(reversed(nums))\n```",
            ["passed"],
            1.0,
        ),
        (
            "lcb-rev",
            "```python\nclass Solution:\n    def rev(self, nums):\n        while True:\n            pass\n```",
            ["timeout"],
            0.0,
        ),
    ],
)
def test_lcb_grading(qid, answer, verdicts, value):
    sample = _lcb()[qid]
    if verdicts == ["timeout"]:
        sample.metadata["code"]["timeout"] = 1.0
    events = _score("live_code_bench", sample, answer)
    assert [e.verdict for e in events if isinstance(e, Executed)] == verdicts
    assert _scores(events) == {"pass": value}
