"""C-Eval loading on the real (CRLF) files: counts, categories, prompts, options, discovery."""

from __future__ import annotations

import collections
from importlib import metadata

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.plugins import PluginHost
from assay_ceval import SUBJECTS, CEval


def _load(datasets_dir, **kw):
    args = BenchmarkArgs(name="ceval", dataset_dir=str(datasets_dir), **kw)
    return list(CEval(args).load(args))


def test_counts_subjects_categories(datasets_dir) -> None:
    samples = _load(datasets_dir)
    assert len(samples) == 1346  # ceval/SOURCE.md: val rows (official C-Eval val size)
    assert len({s.subset for s in samples}) == 52 == len(SUBJECTS)
    # per-category sums of the val files under the official subject_mapping.json
    counts = collections.Counter(s.category for s in samples)
    assert set(counts) == {"STEM", "Social Science", "Humanities", "Other"}
    assert sum(counts.values()) == 1346
    assert {s.category for s in samples if s.subset == "clinical_medicine"} == {"Other"}
    assert all("\r" not in s.messages[-1]["content"] for s in samples)  # CRLF files, no CR in prompts


def test_prompt_is_the_official_5_shot_format(datasets_dir) -> None:
    s = _load(datasets_dir, subset_list=["computer_network"])[0]
    text = s.messages[0]["content"]
    assert text.startswith("以下是中国关于计算机网络考试的单项选择题，请选出其中的正确答案。\n\n")
    assert text.count("\n答案：") == 6 and text.endswith("\n答案：")
    # dev examples carry their answer right after the colon, e.g. "答案：A\n\n"
    assert "\n答案：A\n\n" in text or "\n答案：B\n\n" in text or "\n答案：C\n\n" in text or "\n答案：D\n\n" in text
    assert s.metadata["source"].endswith("computer_network_val.csv:2")
    ll = _load(datasets_dir, subset_list=["law"], extra={"mcq_mode": "loglikelihood"})[0]
    assert ll.choices == ["A", "B", "C", "D"]  # no space after "答案："


def test_errors(datasets_dir) -> None:
    with pytest.raises(AssayError, match="test answers are not public"):
        _load(datasets_dir, eval_split="test")
    with pytest.raises(AssayError, match=r"no subset 'lawyer'"):
        _load(datasets_dir, subset_list=["lawyer"])


def test_discovery() -> None:
    host = PluginHost()
    [p] = [p for p in host.loaded if p.name == "ceval"]
    assert (p.distribution, p.version) == ("assay-ceval", metadata.version("assay-ceval"))
    assert host.benchmarks()["ceval"].distribution == "assay-ceval"
