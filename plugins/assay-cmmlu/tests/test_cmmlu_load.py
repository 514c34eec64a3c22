"""CMMLU loading on the real files: counts, official categories, prompts, discovery."""

from __future__ import annotations

import collections
from importlib import metadata

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.plugins import PluginHost
from assay_cmmlu import CMMLU, NAME_ZH, SUBCATEGORIES, categories_of


def _load(datasets_dir, **kw):
    args = BenchmarkArgs(name="cmmlu", dataset_dir=str(datasets_dir), **kw)
    return list(CMMLU(args).load(args))


def test_counts_subjects_categories(datasets_dir) -> None:
    samples = _load(datasets_dir)
    assert len(samples) == 11582  # cmmlu/SOURCE.md: test rows
    assert len({s.subset for s in samples}) == 67 == len(SUBCATEGORIES) == len(NAME_ZH)
    counts = collections.Counter(s.category for s in samples)
    assert set(counts) == {"STEM", "Humanities", "Social Science", "Other"}
    china = {s.subset for s in samples if s.metadata.get("china_specific")}
    assert china == {s for s, subs in SUBCATEGORIES.items() if "china specific" in subs}
    assert len(china) == 15  # counted in the official src/categories.py
    assert categories_of("ancient_chinese") == ["Social Science", "China specific"]
    assert categories_of("world_religions") == ["Humanities"]
    # the unnamed first column is the row index and becomes the id
    assert [s.id for s in samples if s.subset == "agronomy"][:3] == ["0", "1", "2"]


def test_prompt_is_the_official_format(datasets_dir) -> None:
    s = _load(datasets_dir, subset_list=["agronomy"])[0]
    text = s.messages[0]["content"]
    assert text.startswith("以下是关于农学的单项选择题，请直接给出正确答案的选项。\n\n题目：")
    assert text.count("\n答案是：") == 6 and text.endswith("\n答案是：")
    assert "题目：在农业生产中被当作极其重要的劳动对象发挥作用" in text  # cmmlu/test/agronomy.csv row 0
    with pytest.raises(AssayError, match="no subset"):
        _load(datasets_dir, subset_list=["farming"])


def test_discovery() -> None:
    host = PluginHost()
    [p] = [p for p in host.loaded if p.name == "cmmlu"]
    assert (p.distribution, p.version) == ("assay-cmmlu", metadata.version("assay-cmmlu"))
    assert host.benchmarks()["cmmlu"].distribution == "assay-cmmlu"
