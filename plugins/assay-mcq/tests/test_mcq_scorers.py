"""mcq_letter and mcq_loglik on hand-built events; prompts and options of the MCQ base."""

from __future__ import annotations

import math

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.events import Generated, SampleLoaded
from assay_mcq import (
    LetterScorer,
    LoglikScorer,
    MCQItem,
    PromptStyle,
    build_prompt,
    make_sample,
    parse_options,
    pick_shots,
)


def _sample(target="B", choices=("red", "green", "blue"), **md) -> SampleLoaded:
    meta = {"letters": list("ABC"[: len(choices)]), "choice_texts": list(choices), **md}
    return SampleLoaded(sample_id="x/s/1", benchmark="x", target=target, choices=list(choices), metadata=meta)


def test_letter_scorer() -> None:
    s = _sample()
    [hit] = LetterScorer().score(
        s, Generated(sample_id="x/s/1", model="m", output="<think>A?</think>The answer is (B).")
    )
    assert (hit.metric, hit.value, hit.extracted) == ("acc", 1.0, "B")
    [miss] = LetterScorer().score(s, Generated(sample_id="x/s/1", model="m", output="The answer is (C)."))
    assert (miss.value, miss.extracted) == (0.0, "C")
    [none] = LetterScorer().score(
        s, Generated(sample_id="x/s/1", model="m", output="no idea", reasoning="The answer is B")
    )
    assert (none.value, none.extracted) == (0.0, None)  # the separate reasoning field is never read
    assert "no answer letter" in none.explanation


def test_letter_scorer_rejects_a_target_outside_the_letters() -> None:
    with pytest.raises(ValueError, match="target 'D' is not one of the letters ABC"):
        LetterScorer().score(_sample(target="D"), Generated(sample_id="x/s/1", model="m", output="A"))


def test_loglik_acc_and_acc_norm() -> None:
    # hand-computed: raw argmax is index 0 (-4.0 > -5.0 > -6.0); per UTF-8 byte of the
    # continuation (4, 13, 5 bytes): -4/4 = -1.0, -6/13 = -0.46, -5/5 = -1.0 -> index 1
    s = _sample(target="B", continuation="text")
    s.choices = [" red", " green-yellow", " blue"]  # 4, 13, 5 bytes
    g = Generated(sample_id="x/s/1", model="m", choice_logprobs=[-4.0, -6.0, -5.0])
    out = {sc.metric: sc for sc in LoglikScorer().score(s, g)}
    assert (out["acc"].value, out["acc"].extracted) == (0.0, "A")
    assert (out["acc_norm"].value, out["acc_norm"].extracted) == (1.0, "B")


def test_loglik_letter_continuations_give_acc_only_and_ties_go_first() -> None:
    s = _sample(target="A")
    g = Generated(sample_id="x/s/1", model="m", choice_logprobs=[-1.5, -1.5, -3.0])
    out = LoglikScorer().score(s, g)
    assert [(sc.metric, sc.value, sc.extracted) for sc in out] == [("acc", 1.0, "A")]


def test_loglik_without_logprobs_falls_back_to_the_letter() -> None:
    [sc] = LoglikScorer().score(_sample(), Generated(sample_id="x/s/1", model="m", output="B"))
    assert (sc.value, sc.extracted) == (1.0, "B")
    assert sc.explanation.startswith("backend gave no log-likelihoods")


def test_loglik_length_mismatch_and_nan_are_errors() -> None:
    with pytest.raises(ValueError, match="2 log-likelihoods for 3 choices"):
        LoglikScorer().score(_sample(), Generated(sample_id="x/s/1", model="m", choice_logprobs=[-1.0, -2.0]))
    with pytest.raises(ValueError, match="non-numeric"):
        LoglikScorer().score(_sample(), Generated(sample_id="x/s/1", model="m", choice_logprobs=[-1.0, math.nan, -2.0]))


ITEMS = [
    MCQItem(
        id=str(i),
        question=f"Q{i}?",
        choices=[f"a{i}", f"b{i}", f"c{i}"],
        answer=i % 3,
        subject="s",
        source=f"f.csv:{i + 1}",
    )
    for i in range(6)
]


def test_prompt_with_few_shot_examples() -> None:
    text = build_prompt(ITEMS[5], ITEMS[:2], PromptStyle(), "toy subject")
    assert text == (
        "The following are multiple choice questions (with answers) about toy subject.\n\n"
        "Q0?\nA. a0\nB. b0\nC. c0\nAnswer: A\n\n"
        "Q1?\nA. a1\nB. b1\nC. c1\nAnswer: B\n\n"
        "Q5?\nA. a5\nB. b5\nC. c5\nAnswer:"
    )
    tmpl = "Question: {question}\nOptions:\n{choices}\nPick one of {letters}."
    text = build_prompt(ITEMS[5], ITEMS[:1], PromptStyle(header=""), "x", tmpl)
    assert (
        text
        == "Question: Q0?\nOptions:\nA. a0\nB. b0\nC. c0\nPick one of A, B, C. A\n\nQuestion: Q5?\nOptions:\nA. a5\nB. b5\nC. c5\nPick one of A, B, C."
    )


def test_pick_shots_first_or_seeded_and_never_the_item_itself() -> None:
    assert [s.id for s in pick_shots(ITEMS, 2, rand=False, seed=1, item=ITEMS[0])] == ["1", "2"]
    a = pick_shots(ITEMS, 3, rand=True, seed=7, item=ITEMS[0])
    assert a == pick_shots(ITEMS, 3, rand=True, seed=7, item=ITEMS[0])  # same seed, same draw
    assert "0" not in [s.id for s in a] and len(a) == 3
    assert pick_shots(ITEMS, 10, rand=False, seed=1, item=ITEMS[0]) == ITEMS[1:]


def test_options_are_checked_with_clear_errors() -> None:
    with pytest.raises(AssayError, match=r"unknown key\(s\) 'mcq_mod' \(did you mean 'mcq_mode'\?\)"):
        parse_options(BenchmarkArgs(name="b", extra={"mcq_mod": "x"}), 0)
    with pytest.raises(AssayError, match=r"dataset_args.b.mcq_mode = 'logprob'"):
        parse_options(BenchmarkArgs(name="b", extra={"mcq_mode": "logprob"}), 0)
    with pytest.raises(AssayError, match=r"unknown placeholder \{answer\}"):
        parse_options(BenchmarkArgs(name="b", prompt_template="{question} {answer}"), 0)
    with pytest.raises(AssayError, match=r"must contain \{question\}"):
        parse_options(BenchmarkArgs(name="b", prompt_template="{choices}"), 0)
    with pytest.raises(AssayError, match="few_shot_num = -1"):
        parse_options(BenchmarkArgs(name="b", few_shot_num=-1), 5)


def test_samples_of_both_modes() -> None:
    args = BenchmarkArgs(name="b", system_prompt="Be brief.")
    gen = make_sample(
        ITEMS[1], [], PromptStyle(header=""), args, parse_options(args, 0), subject_label="s", category="C"
    )
    assert gen.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Q1?\nA. a1\nB. b1\nC. c1\nAnswer:"},
    ]
    assert (gen.target, gen.choices, gen.scorers, gen.category) == ("B", ["a1", "b1", "c1"], [], "C")
    args = BenchmarkArgs(name="b", extra={"mcq_mode": "loglikelihood"})
    ll = make_sample(
        ITEMS[1], [], PromptStyle(header=""), args, parse_options(args, 0), subject_label="s", category=None
    )
    assert (ll.prompt, ll.choices, ll.scorers, ll.mode) == (
        "Q1?\nA. a1\nB. b1\nC. c1\nAnswer:",
        [" A", " B", " C"],
        ["mcq_loglik"],
        "loglikelihood",
    )
    args = BenchmarkArgs(
        name="b", extra={"mcq_mode": "loglikelihood", "mcq_continuation": "text"}, metric_list=["mcq_letter"]
    )
    lt = make_sample(
        ITEMS[1], [], PromptStyle(header=""), args, parse_options(args, 0), subject_label="s", category=None
    )
    assert (lt.prompt, lt.choices, lt.scorers) == ("Q1?\nAnswer:", [" a1", " b1", " c1"], ["mcq_letter"])
