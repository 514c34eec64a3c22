"""DROP on a fixture in the hub layout (EleutherAI/drop: ``drop_validation.parquet``).

tests/fixtures/make_fixture.py writes the fixture with the hub file's columns and types; the
first row is EvalScope's documented sample (passage shortened).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.events import Generated, SampleLoaded
from assay_drop import DROP, EM_F1, em_f1, extract_answer
from assay_testserver.testing import cli_eval, cli_eval_hub, bodies, fake_hf_cache, rows_by

FIXTURES = Path(__file__).parent / "fixtures"


def _load(**kw):
    kw.setdefault("dataset_dir", str(FIXTURES))
    args = BenchmarkArgs(name="drop", **kw)
    return list(DROP(args).load(args))


def test_gold_answers_and_prompt() -> None:
    samples = _load()
    assert [s.target for s in samples] == [
        [["Chaz Schilens"], ["JaMarcus Russell"]],
        [["40"]],
        [["12 March 1790"]],
        [["people", "households"]],
    ]
    text = samples[0].messages[0]["content"]
    assert text.startswith(
        "You will be asked to read a passage and answer a question. Some examples of passages and Q&A are provided "
        "below.\n\n# Examples\n---\nPassage: Trunajaya rebellion  or Trunajaya War"
    )
    assert text.endswith(
        "Question: How many total yards of touchdown passes did Drew Brees make?\nAnswer:  43\n\n\n# Your Task\n\n---\n"
        "Passage:  Hoping to rebound from their loss to the Patriots,"
        + text.split("Passage:  Hoping to rebound from their loss to the Patriots,")[1].split("\nQuestion:")[0]
        + "\nQuestion: Who scored the first touchdown of the game?\n\n"
        'Think step by step, then write a line of the form "Answer: [ANSWER]" at the end of your response.'
    )
    zero = _load(few_shot_num=0)[1].messages[0]["content"]
    assert zero.startswith("You will be asked to read a passage and answer a question. \n# Your Task\n\n---\nPassage: ")
    assert "How many yards was the field goal?" in zero and "Trunajaya" not in zero


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("Chaz Schilens", ("Chaz Schilens",), (1.0, 1.0)),
        ("the 40", ("40",), (1.0, 1.0)),  # articles go, numbers compare as floats
        ("40.0", ("40",), (1.0, 1.0)),
        ("40 yards", ("40",), (0.0, 0.67)),
        ("41", ("40",), (0.0, 0.0)),  # a number must match when the gold has one
        ("people, households", ("people", "households"), (0.0, 0.33)),  # one predicted bag for two gold spans
        ("12 March 1790", ("12 March 1790",), (1.0, 1.0)),
    ],
)
def test_official_metric(pred, gold, expected) -> None:
    assert em_f1(pred, gold) == expected


def test_extraction_and_best_over_golds() -> None:
    assert extract_answer("Russell threw it.\nAnswer: JaMarcus Russell\nextra") == "JaMarcus Russell"
    assert extract_answer("<think>Answer: no</think>Chaz Schilens") == "Chaz Schilens"
    s = SampleLoaded(sample_id="q", benchmark="drop", target=[["Chaz Schilens"], ["JaMarcus Russell"]])
    got = EM_F1.score(s, Generated(sample_id="q", model="m", output="So...\nAnswer: JaMarcus Russell"))
    assert [(x.metric, x.value, x.extracted) for x in got] == [
        ("em", 1.0, "JaMarcus Russell"),
        ("f1", 1.0, "JaMarcus Russell"),
    ]


def test_errors(tmp_path) -> None:
    (tmp_path / "drop").mkdir()
    with pytest.raises(AssayError, match=r"drop: no drop_validation\.parquet in .*EleutherAI/drop"):
        _load(dataset_dir=str(tmp_path))
    (tmp_path / "drop" / "drop_validation.parquet").write_bytes(b"PAR1 nope")
    with pytest.raises(AssayError, match=r"drop_validation\.parquet: not a readable parquet file"):
        _load(dataset_dir=str(tmp_path))
    with pytest.raises(AssayError, match=r"few_shot_num = 5: drop uses EvalScope's 3 fixed examples"):
        _load(few_shot_num=5)
    with pytest.raises(
        AssayError, match=r"prompt_template: unknown placeholder \{passage\}; known: \{drop_examples\}, \{query\}$"
    ):
        _load(prompt_template="{passage}")


@pytest.mark.slow
def test_cli_exact_scores(test_server, tmp_path) -> None:
    rules = [
        {"match": "Who scored the first touchdown", "answer": "Russell threw to Schilens.\nAnswer: JaMarcus Russell"},
        {"match": "How many yards was the field goal", "answer": "Answer: 40 yards"},  # em 0, f1 0.67
        {"match": "When was the county founded", "answer": "It was 1791.\nAnswer: 13 April 1791"},  # wrong
        {"match": "Which two groups", "answer": "I cannot tell."},  # no Answer line: the whole reply
    ]
    srv = test_server(rules=rules, default_answer="no idea")
    run_dir, report = cli_eval("drop", api_url=srv.url, datasets_dir=FIXTURES, work_dir=tmp_path)
    em, f1 = rows_by(report, "em")[("default", "default")], rows_by(report, "f1")[("default", "default")]
    assert (em["score"], em["num"]) == (0.25, 4)
    assert (f1["score"], f1["num"]) == (pytest.approx((1.0 + 0.67 + 0.0 + 0.0) / 4), 4)
    assert len([r for r in report if "metric" in r]) == 2  # one em row, one f1 row (and the latency section)
    scored = {(e["sample_id"][-4:], e["metric"]): e["value"] for e in bodies(run_dir, "Scored")}
    assert scored == {
        ("faa9", "em"): 1.0, ("faa9", "f1"): 1.0,
        ("9b57", "em"): 0.0, ("9b57", "f1"): 0.67,
        ("9a11", "em"): 0.0, ("9a11", "f1"): 0.0,
        ("5a6b", "em"): 0.0, ("5a6b", "f1"): 0.0,
    }  # fmt: skip


@pytest.mark.slow
def test_hub_snapshot_through_kernel_download(tmp_path) -> None:
    snap = fake_hf_cache(
        tmp_path / "hf", "EleutherAI/drop", {"drop_validation.parquet": FIXTURES / "drop" / "drop_validation.parquet"}
    )
    proc = cli_eval_hub("drop", "huggingface", tmp_path / "hf", tmp_path / "out", "--limit", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [run_dir] = (tmp_path / "out").iterdir()
    loaded = bodies(run_dir, "SampleLoaded")
    assert [e["target"] for e in loaded] == [[["Chaz Schilens"], ["JaMarcus Russell"]], [["40"]]]
    assert all(e["metadata"]["source"].startswith(str(snap)) for e in loaded)
    shutil.rmtree(tmp_path / "hf")


def test_full_size_load_speed(tmp_path) -> None:
    """9,536 rows (the real validation count) with ~1,500-character passages: load + prompts < 3 s."""
    import time

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(FIXTURES / "drop" / "drop_validation.parquet")
    rows = table.to_pylist()
    big = [dict(rows[i % 4], query_id=f"q{i}", passage=rows[i % 4]["passage"] * 4) for i in range(9536)]
    (tmp_path / "drop").mkdir()
    pq.write_table(pa.Table.from_pylist(big, schema=table.schema), tmp_path / "drop" / "drop_validation.parquet")
    t0, c0 = time.perf_counter(), time.process_time()
    samples = _load(dataset_dir=str(tmp_path))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(samples) == 9536
    assert cpu < 3.0, (cpu, elapsed)  # CPU time: the 2-core dev machine is shared, wall time varies with load
    print(f"drop: 9,536 samples loaded and prompted (3-shot) in {cpu:.2f} s CPU ({elapsed:.2f} s wall)")


def test_discovery() -> None:
    from importlib import metadata

    from assay.plugins import PluginHost

    host = PluginHost()
    [p] = [p for p in host.loaded if p.distribution == "assay-drop"]
    assert p.version == metadata.version("assay-drop")
    assert host.benchmarks()["drop"].distribution == "assay-drop"
    assert host.scorers()["drop_em_f1"].distribution == "assay-drop"
