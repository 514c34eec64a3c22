"""ARC loading on the real files: numeric keys, 3- and 5-choice questions, modes, discovery."""

from __future__ import annotations

import json
from importlib import metadata

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.plugins import PluginHost
from assay_arc import ARC


def _load(datasets_dir, **kw):
    args = BenchmarkArgs(name="arc", dataset_dir=str(datasets_dir), **kw)
    return list(ARC(args).load(args))


def test_counts_and_subsets(datasets_dir) -> None:
    samples = _load(datasets_dir)
    # arc/SOURCE.md: ARC-Easy-Test 2376 rows, ARC-Challenge-Test 1172 rows
    assert sum(s.subset == "ARC-Easy" for s in samples) == 2376
    assert sum(s.subset == "ARC-Challenge" for s in samples) == 1172
    assert len(_load(datasets_dir, eval_split="dev", subset_list=["ARC-Challenge"])) == 299


def test_numeric_keys_and_odd_choice_counts_map_to_letters(datasets_dir) -> None:
    samples = {s.id: s for s in _load(datasets_dir)}
    raw = {}
    for sub in ("ARC-Easy", "ARC-Challenge"):
        for line in (datasets_dir / "arc" / sub / f"{sub}-Test.jsonl").read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            raw[d["id"]] = d
    numeric = [k for k, d in raw.items() if d["answerKey"] in "1234"]
    three = [k for k, d in raw.items() if len(d["question"]["choices"]) == 3]
    five = [k for k, d in raw.items() if len(d["question"]["choices"]) == 5]
    assert numeric and three and five
    for k in numeric + three + five:
        d, s = raw[k], samples[k]
        labels = [c["label"] for c in d["question"]["choices"]]
        # target = the letter at the answer key's position among the labels
        assert s.target == "ABCDE"[labels.index(d["answerKey"])]
        assert s.choices == [c["text"] for c in d["question"]["choices"]]
        assert s.metadata["labels"] == labels
        text = s.messages[-1]["content"]
        assert f"\n{'ABCDE'[len(labels) - 1]}. " in text and f"\n{'ABCDEF'[len(labels)]}. " not in text
    s = samples[numeric[0]]
    assert "\nA. " in s.messages[-1]["content"] and "\n1. " not in s.messages[-1]["content"]


def test_lm_eval_style_loglikelihood(datasets_dir) -> None:
    s = _load(
        datasets_dir,
        subset_list=["ARC-Easy"],
        extra={"mcq_mode": "loglikelihood", "mcq_continuation": "text"},
    )[0]
    first = json.loads(
        (datasets_dir / "arc" / "ARC-Easy" / "ARC-Easy-Test.jsonl").read_text(encoding="utf-8").splitlines()[0]
    )
    assert s.prompt.endswith(f"Question: {first['question']['stem']}\nAnswer:")
    assert s.choices == [" " + c["text"] for c in first["question"]["choices"]]


def test_malformed_rows(tmp_path) -> None:
    d = tmp_path / "arc" / "ARC-Easy"
    d.mkdir(parents=True)
    good = {
        "id": "q1",
        "question": {"stem": "s?", "choices": [{"text": "x", "label": "1"}, {"text": "y", "label": "2"}]},
        "answerKey": "2",
    }
    bad = {
        "id": "q2",
        "question": {"stem": "s?", "choices": [{"text": "x", "label": "A"}, {"text": "y", "label": "B"}]},
        "answerKey": "C",
    }
    (d / "ARC-Easy-Test.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(AssayError, match=r"ARC-Easy-Test\.jsonl:2: answerKey 'C' is not one of the labels"):
        _load(tmp_path)
    (d / "ARC-Easy-Test.jsonl").write_text(json.dumps({"id": "q3", "question": "flat"}) + "\n", encoding="utf-8")
    with pytest.raises(AssayError, match=r"ARC-Easy-Test\.jsonl:1: missing key"):
        _load(tmp_path)


def test_discovery() -> None:
    host = PluginHost()
    [p] = [p for p in host.loaded if p.name == "arc"]
    assert (p.distribution, p.version) == ("assay-arc", metadata.version("assay-arc"))
    assert host.benchmarks()["arc"].distribution == "assay-arc"
