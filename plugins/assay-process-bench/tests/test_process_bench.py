"""ProcessBench on the real files: counts, the official prompt, extraction, bad rows with
file:line, the F1 projection, and `assay eval` through the CLI against the test server.

Expected figures: 400/1000/1000/1000 rows (process_bench/SOURCE.md, the paper, EvalScope's
_meta); the template and the F1 formula from QwenLM/ProcessBench code/run_eval.py; scores
from the replies the test scripts.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.events import Generated, SampleLoaded
from assay.plugins import PluginHost
from assay_testserver.testing import assay, bodies, cli_eval, report_items, rows_by, run_dirs, section
from assay_process_bench.benchmark import SCORER, ProcessBench, extract_index


def _load(**kw):
    args = BenchmarkArgs(name="process_bench", **kw)
    return list(ProcessBench(args).load(args))


def _rows(datasets_dir, subset):
    return json.loads((datasets_dir / "process_bench" / f"{subset}.json").read_text(encoding="utf-8"))


def test_counts_and_order(datasets_dir) -> None:
    t0 = time.process_time()  # CPU seconds: wall time on the loaded 2-core box is noise
    samples = _load(dataset_dir=str(datasets_dir))
    assert time.process_time() - t0 < 3.0
    assert Counter(s.subset for s in samples) == {"gsm8k": 400, "math": 1000, "olympiadbench": 1000, "omnimath": 1000}
    for sub in ("gsm8k", "math", "olympiadbench", "omnimath"):
        rows = _rows(datasets_dir, sub)
        mine = [s for s in samples if s.subset == sub]
        assert [s.id for s in mine] == [r["id"] for r in rows]
        assert [s.target for s in mine] == [r["label"] for r in rows]
    # erroneous / correct split (the paper's Table 1: gsm8k 207/193, math 594/406, olympiadbench 661/339, omnimath 759/241)
    split = Counter((s.subset, s.target == -1) for s in samples)
    assert split == {
        ("gsm8k", False): 207,
        ("gsm8k", True): 193,
        ("math", False): 594,
        ("math", True): 406,
        ("olympiadbench", False): 661,
        ("olympiadbench", True): 339,
        ("omnimath", False): 759,
        ("omnimath", True): 241,
    }
    # file:line of each item: where its "{" is
    lines = (datasets_dir / "process_bench" / "math.json").read_text(encoding="utf-8").split("\n")
    m = [s for s in samples if s.subset == "math"]
    for s in (m[0], m[1], m[-1]):
        n = int(s.metadata["source"].rsplit(":", 1)[1])
        assert lines[n - 1].strip() == "{" and f'"id": "{s.id}"' in "\n".join(lines[n - 1 : n + 40])


def test_official_prompt(datasets_dir) -> None:
    r = _rows(datasets_dir, "gsm8k")[0]
    s = _load(dataset_dir=str(datasets_dir), subset_list=["gsm8k"])[0]
    tagged = "\n\n".join(f"<paragraph_{i}>\n{step}\n</paragraph_{i}>" for i, step in enumerate(r["steps"]))
    assert s.messages == [
        {
            "role": "user",
            "content": "The following is a math problem and a solution (split into paragraphs, enclosed with tags "
            "and indexed from 0):\n\n[Math Problem]\n\n" + r["problem"] + "\n\n[Solution]\n\n" + tagged + "\n\n"
            "Your task is to review and critique the solution paragraph by paragraph. Once you identify an error in "
            "a paragraph, return the index of the paragraph where the earliest error occurs. Otherwise, return the "
            'index of -1 (which typically denotes "not found").\n\nPlease put your final answer (i.e., the index) '
            "in \\boxed{}.",
        }
    ]
    t = _load(
        dataset_dir=str(datasets_dir), subset_list=["gsm8k"], prompt_template="P: {problem}\nS: {tagged_response}"
    )
    assert t[0].messages[0]["content"] == f"P: {r['problem']}\nS: {tagged}"
    with pytest.raises(
        AssayError, match=r"prompt_template: cannot fill it .*'solution'.*\{problem\} and \{tagged_response\}"
    ):
        _load(dataset_dir=str(datasets_dir), subset_list=["gsm8k"], prompt_template="{solution}")


@pytest.mark.parametrize(
    ("reply", "index"),
    [
        ("Paragraph 1 miscounts. \\boxed{1}", 1),
        ("All fine: \\boxed{-1}", -1),
        ("first \\boxed{2} then \\boxed{ 3 }", 3),  # the last box, stripped
        ("\\boxed{paragraph 2}", None),  # not an integer
        ("The earliest error is in paragraph 2.", None),  # no box
    ],
)
def test_extraction(reply, index) -> None:
    assert extract_index(reply) == index


def test_scorer_metric_by_label() -> None:
    def score(target, out):
        s = SampleLoaded(sample_id="x", benchmark="process_bench", target=target)
        return SCORER.score(s, Generated(sample_id="x", model="m", output=out))[0]

    assert (score(2, "\\boxed{2}").metric, score(2, "\\boxed{2}").value) == ("acc", 1.0)
    assert (score(-1, "\\boxed{-1}").value, score(-1, "\\boxed{2}").value) == (1.0, 0.0)
    assert score(0, "<think>\\boxed{0}</think>\\boxed{1}").value == 0.0  # the reasoning's box is not read


def _write(tmp_path, name, rows, raw=None):
    d = tmp_path / "process_bench"
    d.mkdir(exist_ok=True)
    (d / f"{name}.json").write_text(raw if raw is not None else json.dumps(rows, indent=2), encoding="utf-8")


def test_bad_rows_name_file_and_line(tmp_path) -> None:
    ok = {"id": "a", "problem": "p", "steps": ["s0", "s1"], "label": 1}
    cases = [
        (dict(ok, label=2), r"gsm8k\.json:3: 'label' must be -1 or a step index 0\.\.1, got 2"),
        (dict(ok, steps=[]), r"gsm8k\.json:3: 'steps' must be a non-empty list of strings"),
        ({"id": "b", "problem": "p", "steps": ["s"]}, r"gsm8k\.json:3: missing key 'label'"),
        (dict(ok, label=True), r"gsm8k\.json:3: 'label' must be -1"),
    ]
    for bad, msg in cases:
        _write(tmp_path, "gsm8k", None, raw=f"[\n{json.dumps(ok)},\n{json.dumps(bad)}\n]")  # bad item on line 3
        with pytest.raises(AssayError, match=msg):
            _load(dataset_dir=str(tmp_path), subset_list=["gsm8k"])
    _write(tmp_path, "gsm8k", None, raw='[\n  {"id": "a", "problem": "p", "steps": ["s"], "label": -1},\n  {"id": \n]')
    with pytest.raises(AssayError, match=r"gsm8k\.json:4: invalid JSON \(Expecting value at column 1\)"):
        _load(dataset_dir=str(tmp_path), subset_list=["gsm8k"])
    _write(tmp_path, "gsm8k", None, raw='{"id": "a"}')
    with pytest.raises(AssayError, match=r"gsm8k\.json:1: expected a JSON list of objects"):
        _load(dataset_dir=str(tmp_path), subset_list=["gsm8k"])
    with pytest.raises(AssayError, match=r"expected one math\.json under .*found none"):
        _load(dataset_dir=str(tmp_path), subset_list=["math"])
    with pytest.raises(AssayError, match=r"no subset 'gsm8K' \(did you mean 'gsm8k'\?\)"):
        _load(dataset_dir=str(tmp_path), subset_list=["gsm8K"])
    with pytest.raises(AssayError, match=r"unknown key\(s\) 'few_shot'"):
        _load(dataset_dir=str(tmp_path), extra={"few_shot": 1})


def test_discovery() -> None:
    host = PluginHost()
    assert host.benchmarks()["process_bench"].distribution == "assay-process-bench"
    assert "process_bench_match" in host.scorers() and "process_bench_f1" in host.reporters()


@pytest.mark.slow
def test_cli_exact_scores_and_f1(test_server, datasets_dir, tmp_path) -> None:
    # real rows, arranged so each subset holds erroneous and correct samples within --limit
    def pick(sub, n_err, n_ok):
        rows = _rows(datasets_dir, sub)
        return [r for r in rows if r["label"] != -1][:n_err] + [r for r in rows if r["label"] == -1][:n_ok]

    data = tmp_path / "data"
    data.mkdir()
    g, m = pick("gsm8k", 3, 3), pick("math", 1, 1)
    _write(data, "gsm8k", g)
    _write(data, "math", m)

    def box(v):
        return f"Reviewing each paragraph... \\boxed{{{v}}}"

    replies = [
        (g[0], box(g[0]["label"])),  # error found at the right step
        (g[1], box(g[1]["label"] + 1)),  # wrong step
        (g[2], "I think paragraph 2 is wrong."),  # malformed: no box
        (g[3], box(-1)),  # right: no error
        (g[4], box(-1)),  # right
        (g[5], box(0)),  # false alarm
        (m[0], f"<think>\\boxed{{{m[0]['label']}}}</think>{box(99)}"),  # the answer after </think> is wrong
        (m[1], box(-1)),  # right
    ]
    srv = test_server(rules=[{"match": r["problem"], "answer": a} for r, a in replies])
    run_dir, report = cli_eval(
        "process_bench",
        api_url=srv.url,
        datasets_dir=data,
        work_dir=tmp_path / "runs",
        limit=6,
        dataset_args={"subset_list": ["gsm8k", "math"]},
    )
    assert len(srv.requests) == 8
    acc = {sub: (r["num"], r["score"]) for (_c, sub), r in rows_by(report).items()}
    assert acc["gsm8k"] == (6, 0.5) and acc["math"] == (2, 0.5)  # plain match rate: 3 of 6, 1 of 2
    assert all("pending" not in r for r in report if "metric" in r)
    sec = section(report, "process_bench_f1")
    by = {r["subset"]: r for r in sec["rows"]}
    assert (by["gsm8k"]["error_num"], by["gsm8k"]["correct_num"]) == (3, 3)
    assert by["gsm8k"]["f1"] == pytest.approx(4 / 9)  # 2 * 1/3 * 2/3 / (1/3 + 2/3)
    assert by["math"]["f1"] == 0.0  # error acc 0 -> harmonic mean 0
    assert sec["mean_f1"] == pytest.approx(2 / 9)
    assert (by["gsm8k"]["error_acc"], by["gsm8k"]["correct_acc"]) == (pytest.approx(1 / 3), pytest.approx(2 / 3))
    assert (by["math"]["error_acc"], by["math"]["correct_acc"]) == (0.0, 1.0)
    scored = {e["sample_id"].rsplit("/", 1)[1]: e.get("extracted") for e in bodies(run_dir, "Scored")}
    assert scored[g[2]["id"]] is None and scored[m[0]["id"]] == 99


@pytest.mark.slow
def test_failed_request_is_a_miss_not_a_score(test_server, datasets_dir, tmp_path) -> None:
    rows = _rows(datasets_dir, "gsm8k")
    g = [r for r in rows if r["label"] != -1][:3] + [r for r in rows if r["label"] == -1][:3]
    data = tmp_path / "data"
    data.mkdir()
    _write(data, "gsm8k", g)
    # every reply right, but request 4 (g[3], an all-correct solution; one request at a time, in file order)
    # fails with a 400, which is not retried
    rules = [{"match": r["problem"], "answer": f"\\boxed{{{r['label']}}}"} for r in g]
    srv = test_server(rules=rules, faults={"http_400": [4]})
    assay(
        *["eval", "--model", "m", "--api-url", srv.url, "--api-key", "EMPTY", "--datasets", "process_bench"],
        *["--dataset-dir", str(data), "--work-dir", str(tmp_path / "runs"), "--eval-batch-size", "1", "--no-progress"],
        *["--dataset-args", json.dumps({"process_bench": {"subset_list": ["gsm8k"]}})],
        timeout=120,
        check=3,  # completed with errored samples
    )
    (run_dir,) = run_dirs(tmp_path / "runs")
    report = report_items(run_dir, check=3)
    acc = rows_by(report)[("default", "gsm8k")]
    assert (acc["num"], acc["score"], acc["errors"]) == (6, pytest.approx(5 / 6), 1)
    (row,) = section(report, "process_bench_f1")["rows"]
    assert (row["error_acc"], row["correct_acc"]) == (1.0, pytest.approx(2 / 3))
    assert row["f1"] == pytest.approx(0.8)  # 2 * 1 * 2/3 / (1 + 2/3)
    assert len(bodies(run_dir, "SampleFailed")) == 1 and len(bodies(run_dir, "Scored")) == 5
