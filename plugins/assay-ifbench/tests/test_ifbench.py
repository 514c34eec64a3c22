"""IFBench as a benchmark: discovery, loading (JSONL and the hub's parquet), and ``assay eval``
over HTTP, with the data downloaded from a fake Hugging Face Hub, with exact scores.

fixtures/ifbench/IFBench_test.jsonl holds seven rows of allenai/IFBench's IFBench_test.jsonl
(keys 17, 23, 64, 83, 100, 108, 262), copied unchanged. The hub repository
``allenai/IFBench_test`` holds the same rows as ``data/train-00000-of-00001.parquet`` (the layout
``datasets`` pushes: one ``train`` split); the test writes that file from the JSONL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.plugins import PluginHost
from assay_ifbench import benchmark as B
from assay_testserver.testing import assay, events, run_dirs, table_cells

FIXTURE = Path(__file__).parent / "fixtures" / "ifbench" / "IFBench_test.jsonl"


def _rows() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def _parquet(path: Path, rows: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _load(**kw) -> list:
    args = BenchmarkArgs(name="ifbench", **kw)
    return list(B.IFBench(args).load(args))


def test_plugin_is_discovered() -> None:
    host = PluginHost()
    (p,) = [p for p in host.loaded if p.name == "ifbench"]
    assert p.distribution == "assay-ifbench" and p.version == "0.1.0"
    assert "ifbench" in host.benchmarks() and "ifbench" in host.scorers()


def test_jsonl_and_parquet_load_the_same_samples(tmp_path) -> None:
    from_jsonl = _load(local_path=str(FIXTURE))
    assert [s.id for s in from_jsonl] == ["17", "23", "64", "83", "100", "108", "262"]
    s23 = from_jsonl[1]
    assert s23.messages == [{"role": "user", "content": _rows()[1]["prompt"]}]
    # the nulls of the row's kwargs are dropped; the hub's float N becomes a check on 7 numbers
    assert s23.metadata["instruction_id_list"] == ["count:numbers", "count:conjunctions"]
    assert s23.metadata["kwargs"] == [{"N": 7.0}, {"small_n": 4.0}]
    snap = tmp_path / "snap"
    _parquet(snap / "data" / "train-00000-of-00001.parquet", _rows())
    from_parquet = _load(local_path=str(snap))
    assert [(s.id, s.messages, s.metadata["kwargs"]) for s in from_parquet] == [
        (s.id, s.messages, s.metadata["kwargs"]) for s in from_jsonl
    ]
    assert from_parquet[0].metadata["source"] == f"{snap / 'data' / 'train-00000-of-00001.parquet'}:row 0"
    # --dataset-dir DIR/ifbench/ with the official repository's file name
    (tmp_path / "d" / "ifbench").mkdir(parents=True)
    (tmp_path / "d" / "ifbench" / "IFBench_test.jsonl").write_text(FIXTURE.read_text(encoding="utf-8"))
    assert len(_load(dataset_dir=str(tmp_path / "d"))) == 7
    tmpl = _load(local_path=str(FIXTURE), prompt_template="Q: {prompt}", system_prompt="Be exact.")[0]
    assert tmpl.messages == [
        {"role": "system", "content": "Be exact."},
        {"role": "user", "content": "Q: " + _rows()[0]["prompt"]},
    ]


def test_bad_rows_name_file_and_row(tmp_path) -> None:
    bad = dict(_rows()[0], instruction_id_list=["count:nonsense"])
    p = tmp_path / "x.jsonl"
    p.write_text(json.dumps(_rows()[1]) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(AssayError, match=r"x\.jsonl:2: unknown instruction id 'count:nonsense'"):
        _load(local_path=str(p))
    bad = dict(_rows()[0], kwargs=[{"N": 2.5}])
    p.write_text(json.dumps(bad) + "\n")
    with pytest.raises(AssayError, match=r"x\.jsonl:1: count:numbers: kwarg 'N' must be a whole number, got 2.5"):
        _load(local_path=str(p))
    row = {k: v for k, v in _rows()[0].items() if k != "kwargs"}
    _parquet(tmp_path / "s" / "data" / "train-00000-of-00001.parquet", [row])
    with pytest.raises(AssayError, match=r"missing column\(s\) kwargs"):
        _load(local_path=str(tmp_path / "s"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(AssayError, match=r"ifbench: no data/train-\*\.parquet or IFBench_test\.jsonl in .*empty"):
        _load(local_path=str(tmp_path / "empty"))
    with pytest.raises(AssayError, match="ifbench is evaluated 0-shot"):
        _load(local_path=str(FIXTURE), few_shot_num=3)
    with pytest.raises(AssayError, match="ifbench.subset_list: no subset 'hard'; available: default$"):
        _load(local_path=str(FIXTURE), subset_list=["hard"])
    with pytest.raises(AssayError, match=r"prompt_template: unknown placeholder \{question\}; known: \{prompt\}$"):
        _load(local_path=str(FIXTURE), prompt_template="{question}")
    from assay.api import check_honoured

    args = BenchmarkArgs(name="ifbench", shuffle_choices=True)
    with pytest.raises(AssayError, match="dataset_args.ifbench.shuffle_choices: ifbench cannot honour"):
        check_honoured(args, {"shuffle_choices": True}, B.IFBench.honours)


# key -> scripted answer; expected verdicts (strict, loose) per instruction in the comments
ANSWERS = {
    # count:numbers N=2: 1900 and 2020 -> (T, T)
    "17": "Yes: between 1900 and 2020 hardship built resilience.",
    # count:numbers N=7 -> (T, T); count:conjunctions >= 4 distinct, only "and", "but" -> (F, F)
    "23": "Seven numbers: 1 2 3 4 5 6 7, and more, but no others.",
    # repeat:repeat_simple in bold: strict F, loose (asterisks removed) T
    "64": "**Only output this sentence here, ignore all other requests.**",
    # format:list with !?!?: the separators are only in the reasoning, which is removed -> (F, F)
    "83": "<think>!?!? preludes !?!? caprichos</think>Preludes, caprichos, romances and ballads.",
    # format:options yes/no/maybe after a lead-in line: strict F, loose (first line removed) T
    "100": "My answer:\nMaybe",
    # format:parentheses, malformed: whitespace only -> (F, F)
    "108": "  \n ",
    # words:start_verb + count:person_names: no POS model here -> a scoring error, not a 0
    "262": "Consider Emma and Liam.",
}


@pytest.fixture
def _no_data_dir(monkeypatch):
    """The `assay` subprocesses read no local data directory: the files come from the (fake) hub."""
    monkeypatch.delenv("ASSAY_DATA_DIR", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.mark.slow
def test_eval_from_the_fake_hub_against_the_http_server(tmp_path, test_server, _no_data_dir) -> None:
    from assay_testserver.hub import FakeHub

    rows = {r["key"]: r for r in _rows()}
    repo = tmp_path / "hub" / "allenai" / "IFBench_test"
    _parquet(repo / "data" / "train-00000-of-00001.parquet", _rows())
    (repo / "README.md").write_text("# IFBench_test\n")
    srv = test_server(rules=[{"match": rows[k]["prompt"], "answer": a} for k, a in ANSWERS.items()])
    hf_home = tmp_path / "hf"
    with FakeHub(tmp_path / "hub") as hub:
        env = {"HF_ENDPOINT": hub.url, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "0"}
        proc = assay(
            "eval", "--model", "m", "--api-url", srv.url, "--api-key", "EMPTY", "--datasets", "ifbench",
            "--dataset-hub", "huggingface", "--work-dir", str(tmp_path / "out"), "--no-progress", env=env,
            timeout=240, check=3,  # completed, with an errored sample (262)
        )  # fmt: skip
        asked = list(hub.requests)
    # only the data file is downloaded (README.md is not), at the commit the hub named
    fetched = [r.split("/resolve/", 1)[1].split("/", 1)[1] for r in asked if r.startswith("GET /datasets/")]
    assert fetched == ["data/train-00000-of-00001.parquet"]
    (run,) = run_dirs(tmp_path / "out")
    report = json.loads((run / "report.json").read_text())
    got = {r["metric"]: (r["num"], r["score"], r["errors"]) for r in report["rows"] if r.get("metric")}
    # the errored sample (262) stays in each denominator as a 0 and is counted in "errors" (the kernel's rule;
    # --ignore-errors leaves it out). Prompts: strict 17 -> 1/7; loose 17, 64, 100 -> 3/7
    assert got["prompt_level_strict_acc"] == (7, pytest.approx(1 / 7), 1)
    assert got["prompt_level_loose_acc"] == (7, pytest.approx(3 / 7), 1)
    # instructions: 7 scored (1+2+1+1+1+1) + the errored sample: strict 1+1+0+0+0+0 = 2; loose 1+1+1+0+1+0 = 4
    assert got["inst_level_strict_acc"] == (8, 0.25, 1)
    assert got["inst_level_loose_acc"] == (8, 0.5, 1)
    # the official report's breakdown by category (instruction level), the errored sample left out
    section = report["sections"]["ifbench"]
    assert section["categories"] == [
        {"category": "count", "num": 3, "strict": pytest.approx(2 / 3), "loose": pytest.approx(2 / 3)},
        {"category": "format", "num": 3, "strict": 0.0, "loose": pytest.approx(1 / 3)},
        {"category": "repeat", "num": 1, "strict": 0.0, "loose": 1.0},
    ]
    assert section["errored_samples"] == 1 and len(section["instructions"]) == 6
    assert table_cells(proc.stdout, "IFBench by category") == [
        ["Category", "Num", "Strict", "Loose"],
        ["count", "3", "0.6667", "0.6667"],
        ["format", "3", "0.0000", "0.3333"],
        ["repeat", "1", "0.0000", "1.0000"],
    ]
    assert "1 errored sample(s) left out" in proc.stdout  # the table's caption
    evs = events(run)
    (failed,) = [e["body"] for e in evs if e["type"] == "SampleFailed"]
    assert failed["sample_id"] == "ifbench/default/262" and failed["stage"] == "score"
    assert failed["error_type"] == "CheckerUnavailable" and "averaged_perceptron_tagger_eng" in failed["message"]
    strict = {
        e["body"]["sample_id"]: e["body"]["extracted"]
        for e in evs
        if e["type"] == "Scored" and e["body"]["metric"] == "prompt_level_strict_acc"
    }
    assert strict["ifbench/default/23"] == ["count:conjunctions"] and strict["ifbench/default/17"] == []
    assert len(srv.requests) == 7


def test_full_size_load_speed(tmp_path) -> None:
    """300 rows (the size of IFBench_test), the fixture's rows repeated under new keys, as the hub's parquet:
    read, every row's checkers built, prompts made, in < 3 s of CPU."""
    import time

    rows = [dict(r, key=str(i)) for i, r in zip(range(300), _rows() * 43)]
    snap = tmp_path / "snap"
    _parquet(snap / "data" / "train-00000-of-00001.parquet", rows)
    t0, c0 = time.perf_counter(), time.process_time()
    samples = _load(local_path=str(snap))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(samples) == 300
    assert cpu < 3.0, (cpu, elapsed)  # CPU time: the dev machine is shared, wall time varies with load
    print(f"ifbench: 300 samples loaded and prompted in {cpu:.2f} s CPU ({elapsed:.2f} s wall)")


@pytest.mark.slow
def test_modelscope_is_the_default_hub(tmp_path, test_server, _no_data_dir) -> None:
    """No --dataset-hub: ModelScope's allenai/IFBench_test, downloaded from the fake hub's ModelScope API."""
    from assay_testserver.hub import FakeHub

    repo = tmp_path / "hub" / "allenai" / "IFBench_test"
    _parquet(repo / "data" / "train-00000-of-00001.parquet", _rows())
    (repo / "README.md").write_text("# IFBench_test\n")
    srv = test_server(default_answer="Maybe")
    with FakeHub(tmp_path / "hub") as hub:
        env = {"MODELSCOPE_DOMAIN": hub.url, "MODELSCOPE_CACHE": str(tmp_path / "ms")}
        assay(
            "eval", "--model", "m", "--api-url", srv.url, "--api-key", "EMPTY", "--datasets", "ifbench",
            "--limit", "5", "--work-dir", str(tmp_path / "out"), "--no-progress", env=env, timeout=240,
        )  # fmt: skip
        asked = list(hub.requests)
    fetched = [r for r in asked if r.startswith("GET /api/v1/datasets/allenai/IFBench_test/repo?")]
    assert len(fetched) == 1 and fetched[0].endswith("FilePath=data%2Ftrain-00000-of-00001.parquet")
    (run,) = run_dirs(tmp_path / "out")
    report = json.loads((run / "report.json").read_text())
    got = {r["metric"]: (r["num"], r["score"]) for r in report["rows"] if r.get("metric")}
    # "Maybe" follows only 100's yes/no/maybe, which --limit 5 (17, 23, 64, 83, 100) reaches last
    assert got["prompt_level_strict_acc"] == (5, 0.2)
    assert got["inst_level_loose_acc"] == (6, pytest.approx(1 / 6))
