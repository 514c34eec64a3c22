"""AIME 2024/2025: loading, integer extraction, mean@k and pass@k over repeats.

Expected figures: row counts from SOURCE.md (30 + 30), answers from the files themselves,
scores from the answers the tests script; pass@k values worked out by hand below.
"""

from __future__ import annotations

import json
import types
from typing import ClassVar

import pytest
from assay import hookimpl
from assay.api import AssayError, BenchmarkArgs, GenerateResult
from assay.evaluate import run_eval
from assay.events import Generated, SampleLoaded
from assay.plugins import PluginHost
from assay_aime.benchmark import AIME24, AIME25, AIMEAccuracy
from assay_aime.passk import fold
from assay_testserver.testing import main_eval, run_dirs


def _rows(datasets_dir, name):
    path = datasets_dir / name / "test.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_plugin_is_discovered():
    host = PluginHost()
    (p,) = [p for p in host.loaded if p.name == "aime"]
    assert p.distribution == "assay-aime" and p.version == "0.1.0"
    assert {"aime24", "aime25"} <= set(host.benchmarks())
    assert "aime_acc" in host.scorers() and "aime_pass_at_k" in host.reporters()


def test_loads_both_years(datasets_dir):
    a24 = BenchmarkArgs(name="aime24", dataset_dir=str(datasets_dir))
    s24 = list(AIME24(a24).load(a24))
    rows24 = _rows(datasets_dir, "aime24")
    assert len(s24) == 30  # SOURCE.md
    assert [s.id for s in s24] == [str(r["id"]) for r in rows24]  # the file's own ids (60..89)
    assert s24[7].target == 25 and rows24[7]["answer"] == "025"  # a leading zero in the file becomes the integer
    a25 = BenchmarkArgs(name="aime25", dataset_dir=str(datasets_dir))
    s25 = list(AIME25(a25).load(a25))
    assert len(s25) == 30 and [s.id for s in s25] == [str(i) for i in range(1, 31)]  # no ids in the file: row numbers
    assert s25[0].target == 70  # first row: "answer":"70"
    assert s25[0].messages[-1]["content"].startswith("Find the sum of all integer bases $b>9$")


def test_bad_answer_names_file_and_line(tmp_path):
    (tmp_path / "test.jsonl").write_text('{"problem": "p", "answer": "12"}\n{"problem": "q", "answer": "1/2"}\n')
    a = BenchmarkArgs(name="aime25", local_path=str(tmp_path))
    with pytest.raises(AssayError, match=r"test.jsonl:2: key 'answer' must be an integer 0-999"):
        list(AIME25(a).load(a))


def _score(target, output):
    s = SampleLoaded(sample_id="aime24/default/1", benchmark="aime24", target=target)
    return AIMEAccuracy().score(s, Generated(sample_id=s.sample_id, model="m", output=output))[0]


def test_scorer_forms():
    assert _score(25, r"... so the answer is $\boxed{025}$").value == 1.0
    assert _score(113, r"$\textbf{(113) }$ is the answer: \boxed{\textbf{(113) }}").value == 1.0  # AoPS style
    assert _score(204, "The answer is 204.").value == 1.0
    assert _score(204, r"<think>\boxed{204}</think>\boxed{205}").value == 0.0  # the reasoning is not the answer
    # cut off while thinking: graded as written (assay.text's rule, as lm-eval and EvalScope do)
    assert _score(204, "<think>it is 204 I think").value == 1.0
    sc = _score(204, "no idea")
    assert sc.value == 0.0 and sc.extracted is None


def test_eval_against_the_http_server_with_repeats(tmp_path, datasets_dir, test_server):
    rows = _rows(datasets_dir, "aime25")[:6]
    # rows 0, 2, 4 right (boxed), row 1 wrong, row 3 malformed, row 5 right only inside <think>
    answers = [
        f"\\boxed{{{rows[0]['answer']}}}",
        "\\boxed{999}",
        f"So the answer is {rows[2]['answer']}.",
        "I give up.",
        f"\\boxed{{{int(rows[4]['answer']):03d}}}",
        f"<think>\\boxed{{{rows[5]['answer']}}}</think>\\boxed{{1}}",
    ]
    srv = test_server(rules=[{"match": r["problem"], "answer": a} for r, a in zip(rows, answers)])
    _, report = main_eval(
        tmp_path,
        "--model",
        "m",
        "--api-url",
        srv.url,
        "--api-key",
        "EMPTY",
        "--datasets",
        "aime25",
        "--limit",
        "6",
        "--repeats",
        "2",
        "--dataset-dir",
        str(datasets_dir),
    )
    (acc,) = [r for r in report["rows"] if r["metric"] == "acc"]
    assert acc["num"] == 12 and acc["score"] == 0.5  # 3 of 6 problems right, each twice
    assert len(srv.requests) == 12
    passk = {r["metric"]: r for r in report["sections"]["aime_pass_at_k"]["rows"]}
    # the server answers both repeats alike: pass@1 = pass@2 = mean@2 = 3/6
    assert set(passk) == {"pass@1", "pass@2", "mean@2"}
    assert all(r["score"] == 0.5 and r["problems"] == 6 for r in passk.values())


@hookimpl
def _scripted_models(register):
    register("scripted", _Scripted, eval_types=("scripted",), by_name=True)


class _Scripted:
    """A model backend whose answer depends on the sample id, i.e. on the repeat."""

    supports_loglikelihood = False
    # problem index (0-based row) -> which of its 4 repeats are right
    RIGHT: ClassVar[dict[int, set[int]]] = {0: {0, 1, 2, 3}, 1: {2}, 2: set(), 3: {0, 3}}

    def __init__(self, config, run):
        self.name = config.model

    async def generate(self, request):
        base, rep = request.sample_id.rsplit("#", 1)
        row = int(base.rsplit("/", 1)[1]) - 1  # aime25 ids are row numbers 1..30
        target = _TARGETS[row]
        right = int(rep) in self.RIGHT[row]
        return GenerateResult(output=f"\\boxed{{{target if right else (target + 1) % 1000}}}")

    async def aclose(self):
        return None


_TARGETS: list[int] = []


def test_pass_at_k_over_varying_repeats(tmp_path, datasets_dir):
    _TARGETS[:] = [int(r["answer"]) for r in _rows(datasets_dir, "aime25")]
    host = PluginHost()
    host.register_module(types.SimpleNamespace(assay_models=_scripted_models), name="scripted")
    report = run_eval(
        {
            "model": "scripted",
            "datasets": ["aime25"],
            "limit": 4,
            "repeats": 4,
            "dataset_dir": str(datasets_dir),
            "work_dir": str(tmp_path),
            "progress": False,
        },
        plugins=host,
    )
    (acc,) = [r for r in report["rows"] if r["metric"] == "acc"]
    assert acc["num"] == 16 and acc["score"] == 7 / 16  # 4 + 1 + 0 + 2 right repeats
    got = {r["metric"]: r["score"] for r in report["sections"]["aime_pass_at_k"]["rows"]}
    # per problem (n=4): c = 4, 1, 0, 2
    # pass@1 = mean(c/n) = (1 + .25 + 0 + .5)/4 = 0.4375
    # pass@2 = mean(1 - C(n-c,2)/C(4,2)) = (1 + (1 - 3/6) + 0 + (1 - 1/6))/4 = (1 + .5 + 0 + 5/6)/4
    # pass@4 = mean(any right) = 3/4
    assert got["pass@1"] == pytest.approx(0.4375)
    assert got["pass@2"] == pytest.approx((1 + 0.5 + 0 + 5 / 6) / 4)
    assert got["pass@4"] == pytest.approx(0.75)
    assert got["mean@4"] == pytest.approx(0.4375)
    (run_dir,) = run_dirs(tmp_path)
    assert fold(run_dir / "events.jsonl")["rows"] == report["sections"]["aime_pass_at_k"]["rows"]  # a pure projection
