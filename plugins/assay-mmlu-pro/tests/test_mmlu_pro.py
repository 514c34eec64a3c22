"""MMLU-Pro on the real parquet files: counts, the official prompt, extraction, bad rows, CLI run.

Expected figures: 12,032 test rows and the per-category counts from mmlu_pro/SOURCE.md (equal
to EvalScope's _meta/mmlu_pro.json); the prompt text and extraction chain from
TIGER-AI-Lab/MMLU-Pro evaluate_from_api.py; scores from the answers the test scripts.
"""

from __future__ import annotations

import time
from collections import Counter
from importlib import metadata

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.events import Generated, SampleLoaded
from assay.plugins import PluginHost
from assay_testserver.testing import cli_eval, bodies, rows_by
from assay_mmlu_pro.benchmark import CATEGORIES, MMLUPro, extract_answer

COUNTS = {
    "math": 1351,
    "physics": 1299,
    "chemistry": 1132,
    "law": 1101,
    "engineering": 969,
    "other": 924,
    "economics": 844,
    "health": 818,
    "psychology": 798,
    "business": 789,
    "biology": 717,
    "philosophy": 499,
    "computer science": 410,
    "history": 381,
}


def _load(datasets_dir, **kw):
    args = BenchmarkArgs(name="mmlu_pro", dataset_dir=str(datasets_dir), **kw)
    return list(MMLUPro(args).load(args))


def _table(path):
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def test_whole_test_split(datasets_dir) -> None:
    t0 = time.process_time()  # CPU seconds: wall time on the loaded 2-core box is noise
    samples = _load(datasets_dir)
    elapsed = time.process_time() - t0
    assert len(samples) == 12032
    assert elapsed < 3.0
    assert Counter(s.subset for s in samples) == COUNTS
    assert [s.subset for s in samples] == sorted((s.subset for s in samples), key=CATEGORIES.index)
    rows = {str(r["question_id"]): r for r in _table(datasets_dir / "mmlu_pro" / "test-00000-of-00001.parquet")}
    for s in samples:
        r = rows[s.id]
        assert s.target == r["answer"] and s.choices == r["options"]
        assert s.metadata["fewshot_ids"] and len(s.metadata["fewshot_ids"]) == 5
    # the one row whose answer_index disagrees with its letter: graded by the letter, as the official script
    odd = next(s for s in samples if s.id == "3983")
    assert odd.target == "C" and odd.metadata["answer_index_in_file"] == 1 and odd.metadata["answer_index"] == 2


def test_official_prompt(datasets_dir) -> None:
    val = [r for r in _table(datasets_dir / "mmlu_pro" / "validation-00000-of-00001.parquet") if r["category"] == "law"]
    s = _load(datasets_dir, subset_list=["law"])[0]
    test_row = next(
        r for r in _table(datasets_dir / "mmlu_pro" / "test-00000-of-00001.parquet") if r["category"] == "law"
    )
    expected = (
        "The following are multiple choice questions (with answers) about law. Think step by step and then "
        'output the answer in the format of "The answer is (X)" at the end.\n\n'
    )
    for r in val[:5]:
        opts = [o for o in r["options"] if o != "N/A"]
        expected += f"Question: {r['question']}\nOptions: " + "".join(
            f"{'ABCDEFGHIJ'[i]}. {o}\n" for i, o in enumerate(opts)
        )
        assert r["cot_content"].startswith("A: Let's think step by step.")
        expected += "Answer: " + r["cot_content"][3:] + "\n\n"
    expected += f"Question: {test_row['question']}\nOptions: "
    expected += "".join(f"{'ABCDEFGHIJ'[i]}. {o}\n" for i, o in enumerate(test_row["options"]))
    expected += "Answer: Let's think step by step.\n\n"
    assert s.messages == [{"role": "user", "content": expected}]
    assert s.metadata["fewshot_ids"] == [str(r["question_id"]) for r in val[:5]]


def test_na_options_dropped_from_exemplars(datasets_dir) -> None:
    # 21 validation rows pad their options with "N/A"; the official preprocess drops them
    val = _table(datasets_dir / "mmlu_pro" / "validation-00000-of-00001.parquet")
    padded = [r for r in val if "N/A" in r["options"]]
    assert len(padded) == 21
    cats = {r["category"] for r in padded}
    for s in _load(datasets_dir, subset_list=sorted(cats), limit=1)[:1]:
        assert "N/A" not in s.messages[0]["content"].split("Question:")[1]


def test_zero_shot_split_and_options(datasets_dir) -> None:
    s = _load(datasets_dir, few_shot_num=0, subset_list=["history"])
    assert len(s) == 381 and "fewshot_ids" not in s[0].metadata
    assert s[0].messages[0]["content"].count("Question:") == 1
    v = _load(datasets_dir, eval_split="validation", few_shot_num=0)
    assert len(v) == 70 and Counter(x.subset for x in v) == {c: 5 for c in CATEGORIES}
    with pytest.raises(
        AssayError, match="few_shot_num = 6: mmlu_pro takes at most 5: the validation split holds 5 exemplars"
    ):
        _load(datasets_dir, few_shot_num=6)
    with pytest.raises(AssayError, match=r"eval_split = 'train': expected one of test, validation"):
        _load(datasets_dir, eval_split="train")
    with pytest.raises(AssayError, match=r"no subset 'maths'.*did you mean 'math'"):
        _load(datasets_dir, subset_list=["maths"])
    with pytest.raises(AssayError, match=r"unknown key\(s\) 'shuffle_choice'"):
        _load(datasets_dir, extra={"shuffle_choice": True})
    t = _load(datasets_dir, subset_list=["math"], prompt_template="Q: {question}\n{choices}\nOne of {letters}.")[0]
    assert t.messages[0]["content"].startswith("Q: ") and t.messages[0]["content"].endswith(
        "I) False, Not Given\nOne of A,B,C,D,E,F,G,H,I."
    )  # 9 options


def _write(path, rows):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path)


def _row(**kw):
    row = {
        "question_id": 1,
        "question": "q?",
        "options": ["a", "b", "c"],
        "answer": "B",
        "answer_index": 1,
        "cot_content": "",
        "category": "math",
        "src": "x",
    }
    row.update(kw)
    return row


def test_bad_rows_name_file_and_row(tmp_path) -> None:
    d = tmp_path / "mmlu_pro"
    d.mkdir()
    _write(d / "validation-00000-of-00001.parquet", [_row(question_id=i) for i in range(5)])
    cases = [
        (_row(answer="E"), "answer 'E' is not a letter of the 3 options"),
        (_row(category="astrology"), "unknown category 'astrology'"),
        (_row(question=" "), "empty or missing question"),
        (_row(options=["a", "N/A", "c"], answer="B"), "the answer B is an 'N/A' option"),
    ]
    for bad, msg in cases:
        _write(d / "test-00000-of-00001.parquet", [_row(), bad])
        with pytest.raises(AssayError, match=rf"test-00000-of-00001\.parquet:2 \(row 2\): {msg}"):
            _load(tmp_path)
    _write(d / "test-00000-of-00001.parquet", [{"question": "q"}])
    with pytest.raises(AssayError, match=r"missing column\(s\) question_id, options"):
        _load(tmp_path)
    (d / "test-00000-of-00001.parquet").write_text("not parquet")
    with pytest.raises(AssayError, match=r"test-00000-of-00001\.parquet: not a readable parquet file"):
        _load(tmp_path)


def test_hub_snapshot_layout(tmp_path, datasets_dir) -> None:
    # a hub snapshot keeps the files under data/ (TIGER-Lab/MMLU-Pro on Hugging Face and ModelScope)
    import shutil

    d = tmp_path / "snap" / "data"
    d.mkdir(parents=True)
    for f in ("test-00000-of-00001.parquet", "validation-00000-of-00001.parquet"):
        shutil.copy(datasets_dir / "mmlu_pro" / f, d / f)
    got = _load(datasets_dir, local_path=str(tmp_path / "snap"), subset_list=["history"])
    assert len(got) == 381


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("... so the total is 6. The answer is (B).", "B"),
        ("the answer is C", "C"),
        ("Answer: D\nBecause ...", "D"),  # extract_again
        ("I think it is J", "J"),  # extract_final: the last lone capital A-J ("I" first, then "J")
        ("no idea", None),
        ("The Answer is (B)", "B"),  # "answer is" is case-sensitive: found as the last lone letter
    ],
)
def test_extraction(reply, letter) -> None:
    assert extract_answer(reply)[0] == letter


def test_scorer_strips_bold_and_think() -> None:
    from assay_mmlu_pro.benchmark import SCORER

    def score(out):
        s = SampleLoaded(sample_id="x", benchmark="mmlu_pro", target="B")
        return SCORER.score(s, Generated(sample_id="x", model="m", output=out))[0]

    assert score("**The answer is (B)**").value == 1.0
    assert score("The answer is **(B)**").value == 1.0  # official: ** removed before matching
    sc = score("<think>The answer is (B)</think>The answer is (C)")
    assert sc.value == 0.0 and sc.extracted == "C"
    assert score("no idea").value == 0.0 and score("no idea").extracted is None


def test_discovery() -> None:
    host = PluginHost()
    assert host.benchmarks()["mmlu_pro"].distribution == "assay-mmlu-pro"
    assert "mmlu_pro_letter" in host.scorers()
    [p] = [p for p in host.loaded if p.name == "mmlu_pro"]
    assert p.version == metadata.version("assay-mmlu-pro")


@pytest.mark.slow
def test_cli_exact_scores(test_server, datasets_dir, tmp_path) -> None:
    s = _load(datasets_dir, subset_list=["math", "law"])
    math, law = [x for x in s if x.subset == "math"][:3], [x for x in s if x.subset == "law"][:3]

    def q(x):  # the question's own block: the last "Question:" of the prompt
        return x.messages[0]["content"].rsplit("Question: ", 1)[1].split("\nOptions:")[0]

    def wrong(x):
        return "ABCDEFGHIJ"[("ABCDEFGHIJ".index(x.target) + 1) % len(x.choices)]

    rules = [
        {"match": q(math[0]), "answer": f"Step by step... The answer is ({math[0].target})."},
        {"match": q(math[1]), "answer": f"**Answer: {math[1].target}**"},  # extract_again
        {"match": q(math[2]), "answer": f"The answer is ({wrong(math[2])})."},  # wrong
        {
            "match": q(law[0]),
            "answer": f"<think>The answer is ({law[0].target})</think>The answer is ({wrong(law[0])})",
        },
        {"match": q(law[1]), "answer": "no idea"},  # malformed: no letter at all
        {"match": q(law[2]), "answer": f"Final: {law[2].target}"},  # extract_final
    ]
    srv = test_server(rules=rules)
    run_dir, report = cli_eval(
        "mmlu_pro",
        api_url=srv.url,
        datasets_dir=datasets_dir,
        work_dir=tmp_path,
        limit=3,
        dataset_args={"subset_list": ["math", "law"]},
    )
    rows = {sub: (r["num"], r["score"]) for (_cat, sub), r in rows_by(report).items()}
    assert rows["math"] == (3, pytest.approx(2 / 3))
    assert rows["law"] == (3, pytest.approx(1 / 3))
    assert rows["OVERALL"] == (6, 0.5)
    assert len(srv.requests) == 6
    scored = {e["sample_id"]: e for e in bodies(run_dir, "Scored")}
    assert sorted(e["extracted"] for e in scored.values() if e.get("extracted")) == sorted(
        [math[0].target, math[1].target, wrong(math[2]), wrong(law[0]), law[2].target]
    )
