"""WinoGrande on the real dev file: count, options as A/B, prompt shape, extraction, bad rows."""

from __future__ import annotations

import json
import time
from importlib import metadata

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.plugins import PluginHost
from assay_mcq import extract_letter
from assay_winogrande import Winogrande


def _load(datasets_dir, **kw):
    args = BenchmarkArgs(name="winogrande", dataset_dir=str(datasets_dir), **kw)
    return list(Winogrande(args).load(args))


def test_whole_dev_file(datasets_dir) -> None:
    t0 = time.process_time()  # CPU seconds: wall time on the loaded 2-core box (a worker per core) is noise
    samples = _load(datasets_dir)
    assert time.process_time() - t0 < 3.0
    assert len(samples) == 1267  # winogrande/SOURCE.md; EvalScope _meta: 1267
    raw = [json.loads(x) for x in (datasets_dir / "winogrande" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    for s, r in zip(samples, raw, strict=True):
        assert s.id == r["qID"] and s.choices == [r["option1"], r["option2"]]
        assert s.target == {"1": "A", "2": "B"}[r["answer"]]
    assert (sum(s.target == "A" for s in samples), sum(s.target == "B" for s in samples)) == (628, 639)
    assert len(_load(datasets_dir, eval_split="validation")) == 1267


def test_prompt_shape(datasets_dir) -> None:
    s = _load(datasets_dir)[0]
    assert s.messages == [
        {
            "role": "user",
            "content": "Answer the following multiple choice question. The entire content of your response should "
            "be of the following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B.\n\n"
            "Sarah was a much better surgeon than Maria so _ always got the easier cases.\n\nA) Sarah\nB) Maria",
        }
    ]
    assert s.target == "B"
    ll = _load(datasets_dir, extra={"mcq_mode": "loglikelihood"})[0]
    assert ll.mode == "loglikelihood" and ll.choices == [" A", " B"] and ll.prompt.endswith("B. Maria\nAnswer:")


@pytest.mark.parametrize(
    ("reply", "letter"),
    [("ANSWER: B", "B"), ("ANSWER: A.", "A"), ("Maria", "B"), ("ANSWER: C", None), ("Both could be.", None)],
)
def test_extraction(reply, letter) -> None:
    assert extract_letter(reply, "AB", ["Sarah", "Maria"])[0] == letter


def test_bad_rows_and_args(tmp_path, datasets_dir) -> None:
    d = tmp_path / "winogrande"
    d.mkdir()
    good = {"qID": "q1", "sentence": "A _ b.", "option1": "x", "option2": "y", "answer": "2"}
    (d / "dev.jsonl").write_text(json.dumps(good) + "\n" + json.dumps({**good, "answer": ""}) + "\n", encoding="utf-8")
    with pytest.raises(AssayError, match=r"dev\.jsonl:2: answer '' is not '1' or '2'"):
        _load(tmp_path)
    (d / "dev.jsonl").write_text(json.dumps({"qID": "q1", "sentence": "s"}) + "\n", encoding="utf-8")
    with pytest.raises(AssayError, match=r"dev\.jsonl:1: missing key 'option1'"):
        _load(tmp_path)
    with pytest.raises(AssayError, match=r"eval_split = 'test': expected one of dev, validation"):
        _load(datasets_dir, eval_split="test")
    with pytest.raises(AssayError, match="few_shot_num = 5: winogrande has no few-shot split"):
        _load(datasets_dir, few_shot_num=5)


def test_discovery() -> None:
    host = PluginHost()
    [p] = [p for p in host.loaded if p.name == "winogrande"]
    assert (p.distribution, p.version) == ("assay-winogrande", metadata.version("assay-winogrande"))
    assert host.benchmarks()["winogrande"].distribution == "assay-winogrande"
