"""Contract: OwnFilesMCQ, the base of MCQ benchmarks that read their own files, checks their dataset_args once."""

from __future__ import annotations

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay_mcq import COMMON_EXTRA, MCQ_HONOURS, OwnFilesMCQ


class Quiz(OwnFilesMCQ):
    name = "quiz"
    splits = ("dev", "validation")
    split_rule = "one split, by either name"
    few_shots = (0, 3)
    few_shot_rule = "is 0-shot or 3-shot"


class Plain(OwnFilesMCQ):
    name = "plain"
    extra_args = (*COMMON_EXTRA, "shuffle_choices")


def _args(name: str = "quiz", **kw) -> BenchmarkArgs:
    return BenchmarkArgs(name=name, **kw)


def test_defaults_and_what_is_declared() -> None:
    q = Quiz(_args())
    assert (q.split, q.opts.few_shot, q.opts.mode, q.opts.continuation) == ("dev", 0, "generation", "letter")
    assert Quiz(_args(eval_split="validation", few_shot_num=3)).opts.few_shot == 3
    assert (Quiz.honours, Quiz.extra_args, Quiz.default_scorers) == (MCQ_HONOURS, COMMON_EXTRA, ["mcq_letter"])
    assert Plain(_args("plain")).split == "test"


def test_rejected_values_name_the_key() -> None:
    with pytest.raises(AssayError, match=r"dataset_args\.quiz\.few_shot_num = 2: quiz is 0-shot or 3-shot$"):
        Quiz(_args(few_shot_num=2))
    with pytest.raises(AssayError, match=r"quiz\.eval_split = 'test': expected one of dev, validation \(one split, by"):
        Quiz(_args(eval_split="test"))
    with pytest.raises(AssayError, match=r"plain\.few_shot_num = 1: plain has no few-shot split$"):
        Plain(_args("plain", few_shot_num=1))
    with pytest.raises(AssayError, match=r"plain\.eval_split = 'dev': expected one of test$"):
        Plain(_args("plain", eval_split="dev"))


def test_extra_args_beyond_the_common_ones() -> None:
    assert Plain(_args("plain", extra={"shuffle_choices": False})).opts.extra == {"shuffle_choices": False}
    with pytest.raises(AssayError, match="shuffle_choices"):  # not declared by Quiz: an unknown key
        Quiz(_args(extra={"shuffle_choices": False}))
    with pytest.raises(AssayError, match=r"quiz\.mcq_mode = 'fast'"):
        Quiz(_args(extra={"mcq_mode": "fast"}))
