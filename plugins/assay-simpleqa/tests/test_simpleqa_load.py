"""Loading the real files in ../shared/datasets: the official counts and fields."""

from __future__ import annotations

from collections import Counter

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay_simpleqa.benchmark import CATEGORIES, ChineseSimpleQA, SimpleQA, aggregates


def test_simple_qa_loads_4326_questions(datasets_dir) -> None:
    args = BenchmarkArgs(name="simple_qa", dataset_dir=str(datasets_dir))
    samples = list(SimpleQA(args).load(args))
    assert len(samples) == 4326
    assert len({s.id for s in samples}) == 4326
    first = samples[0]
    assert first.id == "0" and first.subset == "default"
    assert first.messages == [{"role": "user", "content": "Who received the IEEE Frank Rosenblatt Award in 2010?"}]
    assert first.target == "Michio Sugeno"
    assert first.metadata["topic"] == "Science and technology" and first.metadata["answer_type"] == "Person"
    assert first.metadata["urls"][0] == "https://en.wikipedia.org/wiki/IEEE_Frank_Rosenblatt_Award"


def test_chinese_simpleqa_loads_3000_questions_in_6_categories(datasets_dir) -> None:
    args = BenchmarkArgs(name="chinese_simpleqa", dataset_dir=str(datasets_dir))
    samples = list(ChineseSimpleQA(args).load(args))
    assert len(samples) == 3000
    assert Counter(s.subset for s in samples) == {
        "人文与社会科学": 609,
        "生活、艺术与文化": 601,
        "自然与自然科学": 530,
        "工程、技术与应用科学": 481,
        "社会": 453,
        "中华文化": 326,
    }
    assert [s.subset for s in samples][:1] == [CATEGORIES[0]]
    first = samples[0]
    assert first.id == "97e7f58a3b154facaa3a5c64d678c7bf"
    assert first.messages == [{"role": "user", "content": "伏兔穴所属的经脉是什么？"}]
    assert first.target == "足阳明胃经" and first.metadata["secondary_category"] == "中医"


def test_chinese_simpleqa_subset_list(datasets_dir) -> None:
    args = BenchmarkArgs(name="chinese_simpleqa", dataset_dir=str(datasets_dir), subset_list=["社会"])
    assert len(list(ChineseSimpleQA(args).load(args))) == 453
    bad = BenchmarkArgs(name="chinese_simpleqa", dataset_dir=str(datasets_dir), subset_list=["society"])
    with pytest.raises(AssayError, match="subset_list: no subset"):
        list(ChineseSimpleQA(bad).load(bad))


def test_prompt_template_is_the_whole_prompt_and_the_grader_keeps_the_question(datasets_dir) -> None:
    args = BenchmarkArgs(
        name="simple_qa", dataset_dir=str(datasets_dir), prompt_template="Answer briefly.\n\n{question}", limit=1
    )
    first = next(iter(SimpleQA(args).load(args)))
    assert first.messages == [
        {"role": "user", "content": "Answer briefly.\n\nWho received the IEEE Frank Rosenblatt Award in 2010?"}
    ]
    assert first.metadata["question"] == "Who received the IEEE Frank Rosenblatt Award in 2010?"
    args = BenchmarkArgs(name="chinese_simpleqa", dataset_dir=str(datasets_dir), prompt_template="问题：{question}")
    first = next(iter(ChineseSimpleQA(args).load(args)))
    assert first.messages == [{"role": "user", "content": "问题：伏兔穴所属的经脉是什么？"}]
    with pytest.raises(AssayError) as err:
        SimpleQA(BenchmarkArgs(name="simple_qa", prompt_template="{query}"))
    assert str(err.value) == "dataset_args.simple_qa.prompt_template: unknown placeholder {query}; known: {question}"


def test_aggregates_as_simple_evals() -> None:
    a = aggregates(3, 2, 1)
    assert a["is_correct"] == 0.5 and a["is_given_attempted"] == pytest.approx(5 / 6)
    assert a["accuracy_given_attempted"] == pytest.approx(0.6)
    assert a["f1"] == pytest.approx(2 * 0.6 * 0.5 / 1.1)
    assert set(aggregates(0, 0, 0).values()) == {None}  # nothing graded: nothing to report, never a 0
    assert aggregates(0, 0, 4) == {
        "is_correct": 0.0,
        "is_incorrect": 0.0,
        "is_not_attempted": 1.0,
        "is_given_attempted": 0.0,
        "accuracy_given_attempted": 0.0,
        "f1": 0.0,
    }
