"""SuperGPQA on a fixture in the hub layout (m-a-p/SuperGPQA: ``SuperGPQA-all.jsonl`` at the root).

The five rows under tests/fixtures/super_gpqa are written in the documented record format
(the dataset card's fields and EvalScope's adapter: uuid, question, options, answer,
answer_letter, discipline, field, subfield, difficulty, is_calculation); the questions are
short stand-ins, not copied from the real file (24 MB, not on this machine).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay_testserver.testing import cli_eval, cli_eval_hub, bodies, fake_hf_cache, rows_by
from assay_super_gpqa import SuperGPQA

FIXTURES = Path(__file__).parent / "fixtures"
FILE = FIXTURES / "super_gpqa" / "SuperGPQA-all.jsonl"


def _load(**kw):
    kw.setdefault("dataset_dir", str(FIXTURES))
    args = BenchmarkArgs(name="super_gpqa", **kw)
    return list(SuperGPQA(args).load(args))


def test_fields_disciplines_and_prompt() -> None:
    samples = _load()
    # subsets in EvalScope's field order, each in its discipline
    assert [(s.id[-3:], s.subset, s.category, s.target) for s in samples] == [
        ("101", "Electronic Science and Technology", "Engineering", "A"),
        ("102", "Electronic Science and Technology", "Engineering", "C"),
        ("103", "Philosophy", "Philosophy", "C"),
        ("104", "Mathematics", "Science", "C"),
        ("105", "Mathematics", "Science", "B"),
    ]
    assert samples[4].messages[0]["content"] == (
        "Answer the following multiple choice question. The last line of your response should be of the following "
        "format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D,E,F,G,H,I,J. Think step by "
        "step before answering.\n\nThe integral of $1/x$ over $[1, e]$ equals\n\n"
        "A) 0\nB) 1\nC) e\nD) 1/e\nE) 2\nF) e-1\nG) ln 2\nH) -1\nI) e^2\nJ) 1/2"
    )
    assert samples[1].metadata["difficulty"] == "middle" and samples[1].metadata["is_calculation"] is True
    assert [s.subset for s in _load(subset_list=["Philosophy"])] == ["Philosophy"]


def test_shuffle_choices_moves_the_target_with_its_option() -> None:
    plain = _load()
    mixed = _load(shuffle_choices=True, seed=5)
    moved = 0
    for p, m in zip(plain, mixed, strict=True):
        order = m.metadata["permutation"]
        assert sorted(order) == list(range(len(p.choices))) and m.metadata["shuffle_seed"] == 5
        assert m.choices == [p.choices[i] for i in order]
        assert m.target == "ABCDEFGHIJ"[order.index("ABCDEFGHIJ".index(p.target))]
        assert m.messages[0]["content"].endswith(
            "\n".join(f"{ltr}) {c}" for ltr, c in zip("ABCDEFGHIJ", m.choices, strict=False))
        )
        moved += order != sorted(order)
    assert moved >= 4
    # the 5-shot prompt keeps its fixed examples; the question's options move, and so does the target
    five = _load(few_shot_num=5, shuffle_choices=True, seed=5)
    assert [s.target for s in five] == [s.target for s in mixed]


def test_errors(tmp_path) -> None:
    d = tmp_path / "super_gpqa"
    d.mkdir()
    with pytest.raises(AssayError, match=r"super_gpqa: no SuperGPQA-all\.jsonl in .*m-a-p/SuperGPQA"):
        _load(dataset_dir=str(tmp_path))
    (d / "SuperGPQA-all.jsonl").write_text(
        '{"uuid": "u", "question": "q", "options": ["a", "b"], "answer_letter": "C", "field": "Law", '
        '"discipline": "Law"}\n',
        encoding="utf-8",
    )
    with pytest.raises(AssayError, match=r"SuperGPQA-all\.jsonl:1: answer_letter 'C' is not one of the 2 options"):
        _load(dataset_dir=str(tmp_path))
    (d / "SuperGPQA-all.jsonl").write_text('{"uuid": "u", "question": "q"}\n', encoding="utf-8")
    with pytest.raises(AssayError, match=r":1: missing key\(s\) options, answer_letter, field, discipline"):
        _load(dataset_dir=str(tmp_path))
    with pytest.raises(AssayError, match=r"few_shot_num = 3: super_gpqa is 0-shot or 5-shot"):
        _load(few_shot_num=3)


def test_five_shot_prompt_and_scorer() -> None:
    from assay.events import Generated, SampleLoaded
    from assay_super_gpqa.benchmark import FEW_SHOT_LETTER

    s = _load(few_shot_num=5)[0]
    text = s.messages[0]["content"]
    assert text.startswith(
        "Here are some examples of how to answer similar questions:\n\nAnswer the following multiple choice "
        "question. There is only one correct answer."
    )
    # EvalScope's examples string is not raw: "\\text" reaches the model as a TAB + "ext", braces doubled
    assert "\x09ext{{Power}} = \x09ext{{Voltage}}" in text
    assert text.endswith(
        "ANSWER: A.\n\n\n\nAnswer the following multiple choice question. The last line of your response should "
        "be of the following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D,E,F,G,H,I,J. "
        "Think step by step before answering.\n\nIn a series RLC circuit at resonance, which quantity is at its "
        "minimum?\n\nA) Impedance\nB) Current\nC) Voltage across R\nD) Power factor\nE) Quality factor\n"
        "F) Bandwidth\nG) Reactance of L\nH) Reactance of C\nI) Frequency\nJ) Phase of current"
    )
    assert s.scorers == ["super_gpqa_letter"] and s.metadata["few_shot"] == 5
    loaded = SampleLoaded(
        sample_id="x", benchmark="super_gpqa", target="A", choices=s.choices, metadata={"letters": list("ABCDEFGHIJ")}
    )

    def read(output):
        got = FEW_SHOT_LETTER.score(loaded, Generated(sample_id="x", model="m", output=output))[0]
        return got.value, got.extracted

    # the model goes on to invent the next example: only what comes before "Question:" is read
    assert read("ANSWER: A.\n\nQuestion:\nWhat is 2+2?\nANSWER: C") == (1.0, "A")
    assert read("Let me think.\nQuestion: restated\nANSWER: B") == (0.0, "B")  # nothing before: the whole reply
    assert read("no idea") == (0.0, None)


@pytest.mark.slow
def test_cli_exact_scores(test_server, tmp_path) -> None:
    rules = [
        {"match": "series RLC circuit", "answer": "At resonance the reactances cancel.\nANSWER: A"},
        {"match": "10 uF capacitor", "answer": "E = CV^2/2 = 125 uJ\nANSWER: B"},  # wrong (C)
        {"match": "Critique of Pure Reason", "answer": "ANSWER: C"},
        {"match": "derivative of $x^3$", "answer": "ANSWER: K"},  # malformed: no option K
        {"match": "integral of $1/x$", "answer": "The answer is **B**."},
    ]
    srv = test_server(rules=rules, default_answer="no idea")
    run_dir, report = cli_eval("super_gpqa", api_url=srv.url, datasets_dir=FIXTURES, work_dir=tmp_path)
    got = {k: (r["score"], r["num"]) for k, r in rows_by(report).items()}
    assert got[("Engineering", "Electronic Science and Technology")] == (0.5, 2)
    assert got[("Philosophy", "Philosophy")] == (1.0, 1)
    assert got[("Science", "Mathematics")] == (0.5, 2)
    assert got[("Engineering", "OVERALL")] == (0.5, 2) and got[("Science", "OVERALL")] == (0.5, 2)
    scored = {e["sample_id"][-3:]: (e["value"], e.get("extracted")) for e in bodies(run_dir, "Scored")}
    assert scored == {"101": (1.0, "A"), "102": (0.0, "B"), "103": (1.0, "C"), "104": (0.0, None), "105": (1.0, "B")}
    assert len(srv.requests) == 5


@pytest.mark.slow
def test_hub_snapshot_through_kernel_download(tmp_path) -> None:
    snap = fake_hf_cache(tmp_path / "hf", "m-a-p/SuperGPQA", {"SuperGPQA-all.jsonl": FILE})
    proc = cli_eval_hub("super_gpqa", "huggingface", tmp_path / "hf", tmp_path / "out", "--limit", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [run_dir] = (tmp_path / "out").iterdir()
    loaded = bodies(run_dir, "SampleLoaded")
    assert [e["subset"] for e in loaded] == ["Electronic Science and Technology", "Philosophy", "Mathematics"]
    assert all(e["metadata"]["source"].startswith(str(snap / "SuperGPQA-all.jsonl")) for e in loaded)
    shutil.rmtree(tmp_path / "hf")


def test_full_size_load_speed(tmp_path) -> None:
    """26,529 rows (the real count) in the hub file: load + prompts < 3 s."""
    import json
    import time

    rows = [json.loads(x) for x in FILE.read_text(encoding="utf-8").splitlines()]
    d = tmp_path / "super_gpqa"
    d.mkdir()
    with open(d / "SuperGPQA-all.jsonl", "w", encoding="utf-8") as f:
        for i in range(26529):
            f.write(json.dumps(dict(rows[i % len(rows)], uuid=f"u{i}")) + "\n")
    t0, c0 = time.perf_counter(), time.process_time()
    samples = _load(dataset_dir=str(tmp_path))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(samples) == 26529
    assert cpu < 3.0, (cpu, elapsed)  # CPU time: the 2-core dev machine is shared, wall time varies with load
    print(f"super_gpqa: 26,529 samples loaded and prompted in {cpu:.2f} s CPU ({elapsed:.2f} s wall)")


def test_discovery() -> None:
    from importlib import metadata

    from assay.plugins import PluginHost

    host = PluginHost()
    [p] = [p for p in host.loaded if p.distribution == "assay-super-gpqa"]
    assert p.version == metadata.version("assay-super-gpqa")
    assert host.benchmarks()["super_gpqa"].distribution == "assay-super-gpqa"
    assert host.scorers()["super_gpqa_letter"].distribution == "assay-super-gpqa"
