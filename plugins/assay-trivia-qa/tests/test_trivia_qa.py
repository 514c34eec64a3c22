"""TriviaQA on a fixture in the hub layout (mandarjoshi/trivia_qa: ``rc.wikipedia/validation-*.parquet``).

tests/fixtures/make_fixture.py writes the fixture with the hub file's columns and types; the
first row is EvalScope's documented sample (tc_33), evidence shortened.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.events import Generated, SampleLoaded
from assay_testserver.testing import cli_eval, cli_eval_hub, bodies, fake_hf_cache, rows_by
from assay_trivia_qa import ALIAS_ACC, TriviaQA, extract_answer

FIXTURES = Path(__file__).parent / "fixtures"
SHARD = "rc.wikipedia/validation-00000-of-00001.parquet"


def _load(**kw):
    kw.setdefault("dataset_dir", str(FIXTURES))
    args = BenchmarkArgs(name="trivia_qa", **kw)
    return list(TriviaQA(args).load(args))


def test_targets_and_prompt() -> None:
    samples = _load()
    assert [(s.id, s.subset) for s in samples] == [
        ("tc_33", "rc.wikipedia"),
        ("tc_40", "rc.wikipedia"),
        ("tc_49", "rc.wikipedia"),
    ]
    assert samples[1].target == ["David Seville", "david seville"]  # aliases, then normalized aliases
    assert samples[2].messages == [
        {
            "role": "user",
            "content": "Read the content and answer the following question.\n\n"
            "Content: ['David Soul was born in Chicago, Illinois.', 'Chicago is a city in Illinois.']\n\n"
            "Question: Which city does David Soul come from?\n\n"
            'The last line of your response should be of the form "ANSWER: [ANSWER]" (without quotes) where '
            "[ANSWER] is the answer to the problem.\n",
        }
    ]


def test_extraction_and_scoring() -> None:
    assert extract_answer("It opened in 1993.\nANSWER: Sunset Boulevard  ") == "Sunset Boulevard"
    assert extract_answer("  Chicago \n") == "Chicago"
    s = SampleLoaded(sample_id="q", benchmark="trivia_qa", target=["Chicago", "chicago"])
    got = [
        ALIAS_ACC.score(s, Generated(sample_id="q", model="m", output=o))[0]
        for o in ("ANSWER: chicago", "ANSWER: CHICAGO", "")
    ]
    assert [(g.value, g.extracted) for g in got] == [(1.0, "chicago"), (0.0, "CHICAGO"), (0.0, "")]


def test_errors(tmp_path) -> None:
    (tmp_path / "trivia_qa").mkdir()
    with pytest.raises(AssayError, match=r"no rc\.wikipedia/validation-\*\.parquet in .*mandarjoshi/trivia_qa"):
        _load(dataset_dir=str(tmp_path))
    with pytest.raises(
        AssayError, match=r"no subset 'rc\.web'( \(did you mean 'rc\.wikipedia'\?\))?; available: rc\.wikipedia$"
    ):
        _load(subset_list=["rc.web"])
    with pytest.raises(AssayError, match=r"eval_split = 'dev': expected one of validation, train, test"):
        _load(eval_split="dev")
    with pytest.raises(
        AssayError, match=r"prompt_template: unknown placeholder \{passage\}; known: \{content\}, \{question\}$"
    ):
        _load(prompt_template="{passage}")


@pytest.mark.slow
def test_cli_exact_scores(test_server, tmp_path) -> None:
    rules = [
        {"match": "Lloyd Webber musical", "answer": "It premiered in LA.\nANSWER: Sunset Boulevard"},
        {"match": "man behind The Chipmunks", "answer": "ANSWER: Ross Bagdasarian"},  # wrong
        {"match": "David Soul come from", "answer": "<think>Illinois?</think>Chicago"},  # no ANSWER line: the reply
    ]
    srv = test_server(rules=rules, default_answer="no idea")
    run_dir, report = cli_eval("trivia_qa", api_url=srv.url, datasets_dir=FIXTURES, work_dir=tmp_path)
    assert {k: (r["score"], r["num"]) for k, r in rows_by(report).items()} == {
        ("default", "rc.wikipedia"): (pytest.approx(2 / 3), 3)
    }
    scored = {e["sample_id"]: (e["value"], e.get("extracted")) for e in bodies(run_dir, "Scored")}
    assert scored == {
        "trivia_qa/rc.wikipedia/tc_33": (1.0, "Sunset Boulevard"),
        "trivia_qa/rc.wikipedia/tc_40": (0.0, "Ross Bagdasarian"),
        "trivia_qa/rc.wikipedia/tc_49": (1.0, "Chicago"),
    }


@pytest.mark.slow
def test_hub_snapshot_through_kernel_download(tmp_path) -> None:
    snap = fake_hf_cache(tmp_path / "hf", "mandarjoshi/trivia_qa", {SHARD: FIXTURES / "trivia_qa" / SHARD})
    proc = cli_eval_hub("trivia_qa", "huggingface", tmp_path / "hf", tmp_path / "out", "--limit", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [run_dir] = (tmp_path / "out").iterdir()
    loaded = bodies(run_dir, "SampleLoaded")
    assert [e["sample_id"] for e in loaded] == ["trivia_qa/rc.wikipedia/tc_33", "trivia_qa/rc.wikipedia/tc_40"]
    assert all(e["metadata"]["source"].startswith(str(snap / SHARD)) for e in loaded)
    shutil.rmtree(tmp_path / "hf")


def test_full_size_load_speed(tmp_path) -> None:
    """7,993 rows (the real validation count) with ~5,000 characters of evidence each (the real
    shard averages ~54,000: a 430 MB file is not generated in a test): load + prompts < 3 s."""
    import time

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(FIXTURES / "trivia_qa" / SHARD)
    rows = table.to_pylist()
    big = []
    for i in range(7993):
        r = dict(rows[i % 3], question_id=f"q{i}")
        r["entity_pages"] = dict(r["entity_pages"], wiki_context=["Evidence text. " * 333])
        big.append(r)
    out = tmp_path / "trivia_qa" / SHARD
    out.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(big, schema=table.schema), out)
    t0, c0 = time.perf_counter(), time.process_time()
    samples = _load(dataset_dir=str(tmp_path))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(samples) == 7993
    assert cpu < 3.0, (cpu, elapsed)  # CPU time: the 2-core dev machine is shared, wall time varies with load
    print(f"trivia_qa: 7,993 samples loaded and prompted in {cpu:.2f} s CPU ({elapsed:.2f} s wall)")


def test_discovery() -> None:
    from importlib import metadata

    from assay.plugins import PluginHost

    host = PluginHost()
    [p] = [p for p in host.loaded if p.distribution == "assay-trivia-qa"]
    assert p.version == metadata.version("assay-trivia-qa")
    assert host.benchmarks()["trivia_qa"].distribution == "assay-trivia-qa"
    assert host.scorers()["trivia_qa_acc"].distribution == "assay-trivia-qa"
