"""RACE on the real middle test file: count, ids, prompt shape, few-shot, extraction, bad rows."""

from __future__ import annotations

import json
import time
from importlib import metadata

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.plugins import PluginHost
from assay_mcq import extract_letter
from assay_race import RACE

HEAD = (
    "Answer the following multiple choice question. The last line of your response should be of the following "
    "format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D. Think step by step before "
    "answering.\n\n"
)


def _load(datasets_dir, **kw):
    args = BenchmarkArgs(name="race", dataset_dir=str(datasets_dir), **kw)
    return list(RACE(args).load(args))


def _raw(datasets_dir):
    text = (datasets_dir / "race" / "test" / "middle.jsonl").read_text(encoding="utf-8")
    return [json.loads(x) for x in text.splitlines()]


def test_whole_middle_test_file(datasets_dir) -> None:
    t0 = time.process_time()
    samples = _load(datasets_dir)
    assert time.process_time() - t0 < 3.0
    assert len(samples) == 1436  # race/SOURCE.md; EvalScope _meta middle: 1436
    assert {s.subset for s in samples} == {"middle"}
    assert len({s.id for s in samples}) == 1436 and len({s.metadata["example_id"] for s in samples}) == 362
    raw = _raw(datasets_dir)
    for s, r in zip(samples, raw, strict=True):
        assert s.target == r["answer"] and s.choices == r["options"]
    assert samples[0].id == "middle2177.txt#0" and samples[1].id == "middle2177.txt#1"
    assert len(_load(datasets_dir, subset_list=["middle"])) == 1436
    with pytest.raises(AssayError, match=r"no subset 'high' in .*available: middle"):
        _load(datasets_dir, subset_list=["high"])


def test_prompt_shape(datasets_dir) -> None:
    s = _load(datasets_dir)[0]
    r = _raw(datasets_dir)[0]
    assert s.messages == [
        {
            "role": "user",
            "content": HEAD + f"Article:\n{r['article'].strip()}\nQuestion:\n{r['question']}\n\n"
            "A) America.\nB) Canada.\nC) Britain.\nD) Australia.",
        }
    ]
    assert s.target == "B"


def test_few_shot_from_train(tmp_path, datasets_dir) -> None:
    lines = (datasets_dir / "race" / "test" / "middle.jsonl").read_text(encoding="utf-8").splitlines()
    for split, rows in (("train", lines[10:14]), ("test", lines[:2])):
        (tmp_path / "race" / split).mkdir(parents=True)
        (tmp_path / "race" / split / "middle.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    s = _load(tmp_path, few_shot_num=2)[0]
    ex = [json.loads(x) for x in lines[10:12]]
    text = s.messages[0]["content"]
    assert text.startswith("Here are some examples of how to answer similar questions:\n\nArticle:\n")
    first = f"Question:\n{ex[0]['question']}\nA) {ex[0]['options'][0]}"
    assert first in text and f"\nANSWER: {ex[0]['answer']}\n\nArticle:\n" in text
    assert f"\nANSWER: {ex[1]['answer']}\n\n" + HEAD in text
    ids, seen = [], {}
    for r in ex:  # ids count an article's questions within the train file
        ids.append(f"{r['example_id']}#{seen.get(r['example_id'], 0)}")
        seen[r["example_id"]] = seen.get(r["example_id"], 0) + 1
    assert s.metadata["fewshot_ids"] == ids
    with pytest.raises(AssayError, match="few_shot_num = 5: race takes at most 3 examples"):
        _load(tmp_path, few_shot_num=5)
    with pytest.raises(AssayError, match=r"train/middle\.jsonl, which does not exist"):
        _load(datasets_dir, few_shot_num=3)


def test_bad_rows(tmp_path) -> None:
    d = tmp_path / "race" / "test"
    d.mkdir(parents=True)
    good = {"example_id": "m1.txt", "article": "a", "question": "q", "options": ["1", "2", "3", "4"], "answer": "E"}
    (d / "middle.jsonl").write_text(json.dumps(good) + "\n", encoding="utf-8")
    with pytest.raises(AssayError, match=r"middle\.jsonl:1: answer 'E' is not one of A, B, C, D"):
        _load(tmp_path)
    (d / "middle.jsonl").write_text(json.dumps({**good, "options": ["1", "2"]}) + "\n", encoding="utf-8")
    with pytest.raises(AssayError, match=r"middle\.jsonl:1: options must be a list of 4 strings"):
        _load(tmp_path)


@pytest.mark.parametrize(
    ("reply", "letter"),
    [("Canada is named in the text.\nANSWER: B", "B"), ("ANSWER: (C)", "C"), ("ANSWER: F", None), ("No idea", None)],
)
def test_extraction(reply, letter) -> None:
    assert extract_letter(reply, "ABCD")[0] == letter


def test_discovery() -> None:
    host = PluginHost()
    [p] = [p for p in host.loaded if p.name == "race"]
    assert (p.distribution, p.version) == ("assay-race", metadata.version("assay-race"))
    assert host.benchmarks()["race"].distribution == "assay-race"
