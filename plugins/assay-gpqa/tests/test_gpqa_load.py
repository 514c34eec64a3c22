"""GPQA Diamond on the real file: count, seeded shuffle recorded, prompt shape, extraction."""

from __future__ import annotations

import csv
import json
import random
import time
from importlib import metadata

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.plugins import PluginHost
from assay_gpqa import GPQADiamond
from assay_mcq import extract_letter


def _load(datasets_dir, **kw):
    args = BenchmarkArgs(name="gpqa_diamond", dataset_dir=str(datasets_dir), **kw)
    return list(GPQADiamond(args).load(args))


def _rows(datasets_dir):
    with open(datasets_dir / "gpqa_diamond" / "gpqa_diamond.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_whole_file_and_permutation(datasets_dir) -> None:
    t0 = time.process_time()  # CPU seconds: wall time on the loaded 2-core box (a worker per core) is noise
    samples = _load(datasets_dir)
    elapsed = time.process_time() - t0
    assert len(samples) == 198  # gpqa_diamond/SOURCE.md, EvalScope _meta: 198
    assert elapsed < 3.0
    rows = _rows(datasets_dir)
    assert [s.id for s in samples] == [r["Record ID"] for r in rows]
    for s, r in zip(samples, rows):
        order = s.metadata["permutation"]
        assert sorted(order) == [0, 1, 2, 3]
        assert order == (lambda o: (random.Random(f"42:{r['Record ID']}").shuffle(o), o)[1])([0, 1, 2, 3])
        opts = [r["Correct Answer"], r["Incorrect Answer 1"], r["Incorrect Answer 2"], r["Incorrect Answer 3"]]
        assert s.choices == [opts[i].strip() for i in order]
        assert s.target == "ABCD"[order.index(0)]
        assert s.choices["ABCD".index(s.target)] == r["Correct Answer"].strip()
        assert s.metadata["shuffle_seed"] == 42 and s.metadata["domain"] == r["High-level domain"]
    # the shuffle moves the answer off A (the file always has it first): all four letters occur
    counts = {ltr: sum(s.target == ltr for s in samples) for ltr in "ABCD"}
    assert counts == {"A": 63, "B": 44, "C": 49, "D": 42}


def test_seed_changes_order_and_no_shuffle_keeps_file_order(datasets_dir) -> None:
    a, b = _load(datasets_dir), _load(datasets_dir, seed=7)
    assert sum(x.metadata["permutation"] != y.metadata["permutation"] for x, y in zip(a, b)) > 100
    plain = _load(datasets_dir, extra={"shuffle_choices": False})
    assert all(s.target == "A" and s.metadata["permutation"] == [0, 1, 2, 3] for s in plain)
    assert plain[0].metadata["shuffle_seed"] is None
    with pytest.raises(AssayError, match=r"shuffle_choices = 'yes': expected true or false"):
        _load(datasets_dir, extra={"shuffle_choices": "yes"})


def test_prompt_shape(datasets_dir) -> None:
    s = _load(datasets_dir)[0]
    r = _rows(datasets_dir)[0]
    assert s.messages == [
        {
            "role": "user",
            "content": "Answer the following multiple choice question. The last line of your response should be of "
            "the following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D. "
            "Think step by step before answering.\n\n"
            f"{r['Question'].strip()}\n\n"
            "A) 10^-9 eV\nB) 10^-4 eV\nC) 10^-8 eV\nD) 10^-11 eV",
        }
    ]
    t = _load(datasets_dir, prompt_template="Q: {question}\n{choices}\nPick one of {letters}.")[0]
    assert t.messages[0]["content"].endswith("D) 10^-11 eV\nPick one of A,B,C,D.")


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("Step 1 ... so the gap must exceed both widths.\nANSWER: B", "B"),
        ("The answer is (C).", "C"),
        ("<think>maybe A</think>\nANSWER: D", "D"),
        ("ANSWER: E", None),  # not an option
        ("I cannot decide.", None),
    ],
)
def test_extraction(reply, letter) -> None:
    assert extract_letter(reply, "ABCD")[0] == letter


def test_few_shot_and_split_rejected(datasets_dir) -> None:
    with pytest.raises(AssayError, match="gpqa_diamond has no few-shot split"):
        _load(datasets_dir, few_shot_num=5)
    with pytest.raises(
        AssayError,
        match=r"eval_split = 'dev': expected one of train, test \(gpqa_diamond has one split, by either name\)",
    ):
        _load(datasets_dir, eval_split="dev")
    with pytest.raises(AssayError, match=r"unknown key\(s\) 'shuffle_choice' \(did you mean 'shuffle_choices'\?\)"):
        _load(datasets_dir, extra={"shuffle_choice": True})


def test_missing_column(tmp_path) -> None:
    d = tmp_path / "gpqa_diamond"
    d.mkdir()
    (d / "gpqa_diamond.csv").write_text("Question,Correct Answer\nq,a\n", encoding="utf-8")
    with pytest.raises(AssayError, match="Incorrect Answer 1"):
        _load(tmp_path)


def test_hub_jsonl_layout(tmp_path, datasets_dir) -> None:
    d = tmp_path / "gpqa_diamond"
    d.mkdir()
    rows = _rows(datasets_dir)[:3]
    (d / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    got, ref = _load(tmp_path), _load(datasets_dir)[:3]
    assert [(s.id, s.choices, s.target) for s in got] == [(s.id, s.choices, s.target) for s in ref]
    (d / "train.jsonl").write_text(json.dumps({"Question": "q"}) + "\n", encoding="utf-8")
    with pytest.raises(AssayError, match=r"train\.jsonl:1: missing or non-text column\(s\) Correct Answer"):
        _load(tmp_path)


def test_discovery() -> None:
    host = PluginHost()
    [p] = [p for p in host.loaded if p.name == "gpqa"]
    assert (p.distribution, p.version) == ("assay-gpqa", metadata.version("assay-gpqa"))
    assert host.benchmarks()["gpqa_diamond"].distribution == "assay-gpqa"
