"""The judge machinery's pure parts: configuration, verdict parsers, aggregation, pairwise orders."""

from __future__ import annotations

import math

import pytest
from assay.api import AssayError
from assay.config import from_dict
from assay_judge import (
    Verdict,
    aggregate,
    expected_from_logprobs,
    pairwise_orders,
    parse_judge_args,
    parse_label,
    parse_rating,
    render_template,
)


def test_judge_config_names_and_checks() -> None:
    cfg = from_dict({"judge_model_args": {"model_id": "j", "api_url": "http://x/v1"}, "judge_worker_num": 4})
    assert cfg.judge_strategy == "auto" and cfg.judge_worker_num == 4 and cfg.judge_aggregation == "mean"
    several = from_dict({"judge_model_args": [{"model_id": "a"}, {"model_id": "b"}], "judge_min_valid": 2})
    assert several.judge_min_valid == 2
    with pytest.raises(AssayError, match=r"judge_model_args: unknown key 'api_ur' \(did you mean 'api_url'\?\)"):
        from_dict({"judge_model_args": {"model_id": "j", "api_ur": "http://x"}})
    with pytest.raises(AssayError, match=r"judge_model_args\[1\]: model_id is required"):
        from_dict({"judge_model_args": [{"model_id": "a"}, {"api_url": "http://x"}]})
    with pytest.raises(AssayError, match="judge_min_valid is 3 but only 2 judge"):
        from_dict({"judge_model_args": [{"model_id": "a"}, {"model_id": "b"}], "judge_min_valid": 3})
    with pytest.raises(AssayError, match="judge_strategy must be one of auto, rule, llm, llm_recall"):
        from_dict({"judge_strategy": "llm-judge"})
    with pytest.raises(AssayError, match="judge_aggregation must be one of mean, majority, all_agree"):
        from_dict({"judge_aggregation": "vote"})
    with pytest.raises(AssayError, match="judge_worker_num must be >= 1"):
        from_dict({"judge_worker_num": 0})
    with pytest.raises(AssayError, match="a mapping or a list of mappings"):
        from_dict({"judge_model_args": "gpt-4o"})
    # a judge's generation keys follow the run's rule (assay.config.check_generation_config)
    bad = [{"model_id": "a"}, {"model_id": "b", "generation_config": {"temperature": "zero"}}]
    with pytest.raises(AssayError, match=r"judge_model_args\[1\].generation_config.temperature = 'zero': expected a"):
        from_dict({"judge_model_args": bad})
    with pytest.raises(AssayError, match=r"judge_model_args.generation_config: expected a mapping, got list"):
        from_dict({"judge_model_args": {"model_id": "a", "generation_config": ["temperature", 0]}})
    good = from_dict({"judge_model_args": {"model_id": "a", "generation_config": {"temperature": 0, "max_tokens": 8}}})
    assert good.judge_model_args["generation_config"] == {"temperature": 0, "max_tokens": 8}


def test_judge_config_secret_is_redacted() -> None:
    cfg = from_dict({"judge_model_args": [{"model_id": "a", "api_key": "sk-judge-0123456789"}]})
    assert cfg.to_dict()["judge_model_args"] == [{"model_id": "a", "api_key": "***"}]


def test_parse_judge_args_flag() -> None:
    assert parse_judge_args('[{"model_id": "a"}, {"model_id": "b"}]') == [{"model_id": "a"}, {"model_id": "b"}]
    assert parse_judge_args('{"model_id": "a"}') == {"model_id": "a"}
    assert parse_judge_args("model_id=a,api_url=http://h/v1") == {"model_id": "a", "api_url": "http://h/v1"}
    assert parse_judge_args(None) is None
    with pytest.raises(AssayError, match="--judge-model-args: expected a JSON object or a list of objects"):
        parse_judge_args('["a"]')


def test_parse_label() -> None:
    simple_evals = parse_label(r"(A|B|C)")
    assert simple_evals("A").label == "A"
    assert simple_evals("The grade is B.").label == "B"
    assert simple_evals("CORRECT").label == "C"  # the official regex: the first A, B or C anywhere
    assert simple_evals("no letter here") is None
    arena = parse_label(r"\[\[([AB<>=]+)\]\]", labels={"A>>B", "A>B", "A=B", "B>A", "B>>A"}, last=True)
    assert arena("first [[A>B]] then on reflection [[B>>A]]").label == "B>>A"
    assert arena("[[A>>>B]]") is None


def test_parse_rating() -> None:
    mt_bench = parse_rating(lo=1, hi=10)
    assert mt_bench("The answer is fine. Rating: [[8]]").value == 8.0
    assert mt_bench("Rating: [7.5]").value == 7.5  # the backup pattern, as FastChat
    assert mt_bench("Rating: [[11]]") is None
    assert mt_bench("Rating: eight") is None


def test_expected_from_logprobs() -> None:
    lp = [{"token": "m", "logprob": math.log(0.7), "top_logprobs": [
        {"token": "m", "logprob": math.log(0.7)}, {"token": "M", "logprob": math.log(0.2)},
        {"token": "x", "logprob": math.log(0.1)}]}]  # fmt: skip
    # AlpacaEval: preference = 1 * P(m) + 2 * P(M), renormalised over m and M
    assert expected_from_logprobs(lp, {"m": 1.0, "M": 2.0}) == pytest.approx((0.7 + 2 * 0.2) / 0.9)
    assert expected_from_logprobs(lp, {"Q": 1.0}) is None
    assert expected_from_logprobs(None, {"m": 1.0}) is None


def test_pairwise_orders() -> None:
    assert pairwise_orders("s1", "both") == ["AB", "BA"]
    drawn = [pairwise_orders(f"s{i}", "random", seed=42)[0] for i in range(200)]
    assert drawn == [pairwise_orders(f"s{i}", "random", seed=42)[0] for i in range(200)]  # seeded: stable
    assert 70 < drawn.count("AB") < 130
    assert drawn != [pairwise_orders(f"s{i}", "random", seed=7)[0] for i in range(200)]
    with pytest.raises(AssayError):
        pairwise_orders("s", "twice")


def _v(i: int, ok: bool = True, label: str | None = None, value: float | None = None) -> Verdict:
    return Verdict(f"j{i}", i, ok, label=label, value=value, reason=None if ok else "unparseable verdict")


def test_aggregate() -> None:
    r = aggregate([_v(0, value=8), _v(1, value=6), _v(2, ok=False)], "mean", 2)
    assert r.ok and r.value == 7.0
    r = aggregate([_v(0, value=8), _v(1, ok=False), _v(2, ok=False)], "mean", 2)
    assert not r.ok and r.reason.startswith("1 of 3 verdicts valid (need 2): judge 1 (j1): unparseable verdict")
    assert aggregate([_v(0, label="A"), _v(1, label="B"), _v(2, label="A")], "majority").label == "A"
    tie = aggregate([_v(0, label="A"), _v(1, label="B")], "majority")
    assert not tie.ok and tie.reason == "no majority among verdicts: A, B"
    assert aggregate([_v(0, label="A"), _v(1, label="A")], "all_agree").label == "A"
    split = aggregate([_v(0, label="A"), _v(1, label="B"), _v(2, label="A")], "all_agree")
    assert not split.ok and split.reason == "judges disagree: A, B, A"
    from assay_judge import JudgeFailed

    with pytest.raises(JudgeFailed, match=r"0 of 1 verdicts valid \(need 1\)"):
        aggregate([_v(0, ok=False)], "mean").require()


def test_render_template() -> None:
    assert render_template("Q: {question} {{json}}", question="a {b}") == "Q: a {b} {json}"
    with pytest.raises(AssayError, match="no value for field 'target'"):
        render_template("{target}")
