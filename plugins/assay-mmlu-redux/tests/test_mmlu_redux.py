"""MMLU-Redux 2.0 on a fixture in the hub layout (datasets.save_to_disk folders per subject).

tests/fixtures/make_fixture.py writes the fixture (Arrow stream + dataset_info.json +
state.json per subject, the columns of the hub's dataset_info.json); the rows are MMLU test
questions carrying each kind of re-annotation.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.events import Generated, SampleLoaded
from assay_testserver.testing import cli_eval, cli_eval_hub, bodies, fake_hf_cache, rows_by
from assay_mmlu_redux import LETTER_ANY, MMLURedux, accepted

FIXTURES = Path(__file__).parent / "fixtures"


def _load(**kw):
    kw.setdefault("dataset_dir", str(FIXTURES))
    args = BenchmarkArgs(name="mmlu_redux", **kw)
    return list(MMLURedux(args).load(args))


def test_annotations_become_accepted_letters() -> None:
    samples = _load()
    assert [(s.subset, s.id, s.category, s.target) for s in samples] == [
        ("abstract_algebra", "0", "STEM", ["B"]),  # ok: the MMLU label
        ("abstract_algebra", "1", "STEM", ["C"]),  # wrong_groundtruth "C": the answer moves
        ("abstract_algebra", "2", "STEM", ["B"]),  # no_correct_answer without a correction: unchanged
        ("virology", "0", "Other", ["A"]),  # no_correct_answer: the correction replaces option A
        ("virology", "1", "Other", ["A", "C"]),  # multiple_correct_answers "(0 and 2)"
    ]
    assert samples[3].choices[0] == "Pleomorphic enveloped viruses"
    assert samples[0].messages[0]["content"] == (
        "Answer the following multiple choice question. The last line of your response should be of the following "
        "format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D. Think step by step before "
        "answering.\n\nFind all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.\n\nA) 0\nB) 1\nC) 2\nD) 3"
    )
    assert samples[4].metadata["error_type"] == "multiple_correct_answers"


@pytest.mark.parametrize(
    ("error_type", "correct", "expected"),
    [
        ("wrong_groundtruth", "3", [3]),
        ("multiple_correct_answers", "A,C", [0, 2]),
        ("multiple_correct_answers", "1 or 3", [1, 3]),
        ("multiple_correct_answers", "beta,delta", [1, 3]),  # the options' texts
        ("multiple_correct_answers", "zz", [0, 1, 2, 3]),  # unreadable: every option accepted (EvalScope)
        ("bad_question_clarity", "2", [0]),
    ],
)
def test_accepted(error_type, correct, expected) -> None:
    record = {
        "choices": ["alpha", "beta", "gamma", "delta"],
        "answer": 0,
        "error_type": error_type,
        "correct_answer": correct,
    }
    assert accepted(record)[1] == expected


def test_scorer_accepts_any_listed_letter() -> None:
    s = SampleLoaded(
        sample_id="x",
        benchmark="mmlu_redux",
        target=["A", "C"],
        choices=["p", "q", "r", "s"],
        metadata={"letters": ["A", "B", "C", "D"]},
    )
    got = [
        LETTER_ANY.score(s, Generated(sample_id="x", model="m", output=o))[0] for o in ("ANSWER: C", "ANSWER: B", "hmm")
    ]
    assert [(g.value, g.extracted) for g in got] == [(1.0, "C"), (0.0, "B"), (0.0, None)]


def test_errors(tmp_path) -> None:
    (tmp_path / "mmlu_redux").mkdir()
    with pytest.raises(AssayError, match=r"mmlu_redux: no <subject>/data-00000-of-00001\.arrow in"):
        _load(dataset_dir=str(tmp_path))
    d = tmp_path / "mmlu_redux" / "virology"
    d.mkdir()
    (d / "data-00000-of-00001.arrow").write_bytes(b"not arrow")
    with pytest.raises(AssayError, match=r"virology/data-00000-of-00001\.arrow: not a readable Arrow stream"):
        _load(dataset_dir=str(tmp_path))
    with pytest.raises(AssayError, match=r"no subset 'virologyy' .*did you mean 'virology'"):
        _load(subset_list=["virologyy"])
    with pytest.raises(AssayError, match="mmlu_redux has no few-shot split"):
        _load(few_shot_num=5)


@pytest.mark.slow
def test_cli_exact_scores(test_server, tmp_path) -> None:
    rules = [
        {"match": "such that Z_3[x]/(x^2 + c)", "answer": "c = 1 works.\nANSWER: B"},
        {"match": "If aH is an element", "answer": "ANSWER: B"},  # the old MMLU label: wrong now
        {"match": "Q(sqrt(2), sqrt(3))", "answer": "ANSWER: E"},  # malformed
        {"match": "paramyxoviruses", "answer": "The answer is (A)"},
        {"match": "median survival time", "answer": "ANSWER: C"},  # one of the two accepted
    ]
    srv = test_server(rules=rules, default_answer="no idea")
    run_dir, report = cli_eval("mmlu_redux", api_url=srv.url, datasets_dir=FIXTURES, work_dir=tmp_path)
    got = {k: (r["score"], r["num"]) for k, r in rows_by(report).items()}
    assert got == {
        ("STEM", "abstract_algebra"): (pytest.approx(1 / 3), 3),
        ("STEM", "OVERALL"): (pytest.approx(1 / 3), 3),
        ("Other", "virology"): (1.0, 2),
        ("Other", "OVERALL"): (1.0, 2),
        ("-", "OVERALL"): (0.6, 5),
        ("-", "OVERALL (macro)"): (pytest.approx(2 / 3), 5),
    }
    scored = {e["sample_id"]: (e["value"], e.get("extracted")) for e in bodies(run_dir, "Scored")}
    assert scored == {
        "mmlu_redux/abstract_algebra/0": (1.0, "B"),
        "mmlu_redux/abstract_algebra/1": (0.0, "B"),
        "mmlu_redux/abstract_algebra/2": (0.0, None),
        "mmlu_redux/virology/0": (1.0, "A"),
        "mmlu_redux/virology/1": (1.0, "C"),
    }


@pytest.mark.slow
def test_hub_snapshot_through_kernel_download(tmp_path) -> None:
    files = {str(p.relative_to(FIXTURES / "mmlu_redux")): p for p in (FIXTURES / "mmlu_redux").rglob("*.*")}
    snap = fake_hf_cache(tmp_path / "hf", "edinburgh-dawg/mmlu-redux-2.0", files)
    proc = cli_eval_hub("mmlu_redux", "huggingface", tmp_path / "hf", tmp_path / "out", "--limit", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [run_dir] = (tmp_path / "out").iterdir()
    loaded = bodies(run_dir, "SampleLoaded")
    assert [(e["subset"], e["target"]) for e in loaded] == [("abstract_algebra", ["B"]), ("virology", ["A"])]
    assert all(e["metadata"]["source"].startswith(str(snap)) for e in loaded)
    shutil.rmtree(tmp_path / "hf")


def test_full_size_load_speed(tmp_path) -> None:
    """57 subjects x 100 rows (5,700, the real count) in the save_to_disk layout: load + prompts < 3 s."""
    import time

    import pyarrow as pa
    from assay_mmlu_redux.benchmark import SUBJECT_CATEGORY

    src = FIXTURES / "mmlu_redux" / "virology" / "data-00000-of-00001.arrow"
    with pa.OSFile(str(src), "rb") as f:
        table = pa.ipc.open_stream(f).read_all()
    big = pa.concat_tables([table] * 50)  # 100 rows
    for subject in SUBJECT_CATEGORY:
        d = tmp_path / "mmlu_redux" / subject
        d.mkdir(parents=True)
        with pa.OSFile(str(d / "data-00000-of-00001.arrow"), "wb") as f, pa.ipc.new_stream(f, big.schema) as w:
            w.write_table(big)
    t0, c0 = time.perf_counter(), time.process_time()
    samples = _load(dataset_dir=str(tmp_path))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(samples) == 5700 and len({s.subset for s in samples}) == 57
    assert cpu < 3.0, (cpu, elapsed)  # CPU time: the 2-core dev machine is shared, wall time varies with load
    print(f"mmlu_redux: 5,700 samples loaded and prompted in {cpu:.2f} s CPU ({elapsed:.2f} s wall)")


def test_discovery() -> None:
    from importlib import metadata

    from assay.plugins import PluginHost

    host = PluginHost()
    [p] = [p for p in host.loaded if p.distribution == "assay-mmlu-redux"]
    assert p.version == metadata.version("assay-mmlu-redux")
    assert host.benchmarks()["mmlu_redux"].distribution == "assay-mmlu-redux"
    assert host.scorers()["mcq_letter_any"].distribution == "assay-mmlu-redux"
