"""MMLU loading on the real files: counts, categories, 5-shot prompts, options, discovery."""

from __future__ import annotations

import collections
from importlib import metadata

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.plugins import PluginHost
from assay_mmlu import CATEGORIES, MMLU, SUBCATEGORIES


def _load(datasets_dir, **kw):
    args = BenchmarkArgs(name="mmlu", dataset_dir=str(datasets_dir), **kw)
    return list(MMLU(args).load(args))


def test_all_subjects_counts_and_categories(datasets_dir) -> None:
    samples = _load(datasets_dir)
    assert len(samples) == 14042  # mmlu/SOURCE.md: test rows
    assert len({s.subset for s in samples}) == 57
    # category sizes follow from the hendrycks mapping and the per-file counts; these are the
    # figures lm-evaluation-harness's mmlu groups report (stem 3018, humanities 4705, ...)
    assert collections.Counter(s.category for s in samples) == {
        "STEM": 3018,
        "Humanities": 4705,
        "Social Science": 3077,
        "Other": 3242,
    }
    assert len(SUBCATEGORIES) == 57 and sum(len(v) for v in CATEGORIES.values()) == 17


def test_five_shot_prompt_from_dev(datasets_dir) -> None:
    s = _load(datasets_dir, subset_list=["anatomy"], limit=None)[0]
    [msg] = s.messages
    text = msg["content"]
    assert text.startswith("The following are multiple choice questions (with answers) about anatomy.\n\n")
    assert text.count("\nAnswer:") == 6  # 5 dev examples + the question
    assert s.metadata["fewshot_ids"] == ["0", "1", "2", "3", "4"]
    # the first dev example and its answer letter, as in mmlu/dev/anatomy_dev.csv row 1
    dev = (datasets_dir / "mmlu" / "dev" / "anatomy_dev.csv").read_text(encoding="utf-8").split("\n")[0]
    assert dev.split(",")[0] in text
    assert s.target in "ABCD" and s.choices and len(s.choices) == 4


def test_zero_shot_random_shot_and_system_prompt(datasets_dir) -> None:
    s0 = _load(datasets_dir, subset_list=["virology"], few_shot_num=0, system_prompt="Be terse.")[0]
    assert s0.messages[0] == {"role": "system", "content": "Be terse."}
    assert s0.messages[1]["content"].count("\nAnswer:") == 1
    a = _load(datasets_dir, subset_list=["virology"], few_shot_num=2, few_shot_random=True, seed=1)
    b = _load(datasets_dir, subset_list=["virology"], few_shot_num=2, few_shot_random=True, seed=1)
    assert [x.metadata["fewshot_ids"] for x in a] == [x.metadata["fewshot_ids"] for x in b]
    assert len({tuple(x.metadata["fewshot_ids"]) for x in a}) > 1  # drawn per question


def test_prompt_template_applies_to_examples_and_question(datasets_dir) -> None:
    t = "Q: {question}\n{choices}\nReply with one of {letters}. ({subject})"
    s = _load(datasets_dir, subset_list=["virology"], few_shot_num=1, prompt_template=t)[0]
    text = s.messages[0]["content"]
    assert text.count("Reply with one of A, B, C, D. (virology)") == 2  # one example + the question
    assert text.endswith("Reply with one of A, B, C, D. (virology)")
    with pytest.raises(AssayError, match=r"dataset_args.mmlu.prompt_template: unknown placeholder \{answer\}"):
        _load(datasets_dir, prompt_template="{question} {answer}")


def test_val_split_and_loglikelihood_mode(datasets_dir) -> None:
    val = _load(datasets_dir, eval_split="val")
    assert len(val) == 1531  # mmlu/SOURCE.md: val rows
    ll = _load(datasets_dir, subset_list=["marketing"], extra={"mcq_mode": "loglikelihood"})
    assert ll[0].choices == [" A", " B", " C", " D"] and ll[0].mode == "loglikelihood"
    assert ll[0].prompt.endswith("\nAnswer:") and ll[0].messages is None and ll[0].scorers == ["mcq_loglik"]


def test_bad_options(datasets_dir, tmp_path) -> None:
    with pytest.raises(AssayError, match=r"no subset 'anatomyy'.*did you mean 'anatomy'"):
        _load(datasets_dir, subset_list=["anatomyy"])
    with pytest.raises(AssayError, match="eval_split = 'train'"):
        _load(datasets_dir, eval_split="train")
    bad = tmp_path / "mmlu" / "test"
    bad.mkdir(parents=True)
    (bad / "anatomy_test.csv").write_text("What?,a,b,c,d,A\nWhy?,a,b,c,d,F\n", encoding="utf-8")
    with pytest.raises(AssayError, match=r"anatomy_test\.csv:2: answer 'F' is not one of A, B, C, D"):
        _load(tmp_path, few_shot_num=0)


def test_discovery() -> None:
    host = PluginHost()
    [p] = [p for p in host.loaded if p.name == "mmlu"]
    assert (p.distribution, p.version) == ("assay-mmlu", metadata.version("assay-mmlu"))
    assert host.benchmarks()["mmlu"].distribution == "assay-mmlu"
