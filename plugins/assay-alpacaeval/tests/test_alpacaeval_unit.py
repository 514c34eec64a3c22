"""AlpacaEval pieces against the official figures: the annotator's parser and seeded switch replayed on the
published annotations of gpt-3.5-turbo-1106 (all 805), get_winrate against the leaderboard, the prompt, the
loader on the real files."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay_judge import logprob_share
from assay_alpacaeval.benchmark import (
    AlpacaEval,
    discrete,
    get_winrate,
    is_switched,
    make_messages,
    preference_parser,
)
from assay_alpacaeval.prompts import ALPACA_EVAL_CLF_GPT4_TURBO

FIXTURES = Path(__file__).parent / "fixtures"


def load(datasets_dir: Path, **extra) -> list:
    args = BenchmarkArgs(name="alpaca_eval", dataset_dir=str(datasets_dir), extra=extra)
    return list(AlpacaEval(args).load(args))


def test_loader_v2_and_v1_references(datasets_dir) -> None:
    v2 = load(datasets_dir)
    assert len(v2) == 805
    ref = json.loads((datasets_dir / "alpaca_eval/gpt4_1106_preview/model_outputs.json").read_text(encoding="utf-8"))
    assert v2[0].metadata["reference"] == ref[0]["output"] and v2[0].metadata["reference_generator"] == (
        "gpt4_1106_preview"
    )
    assert v2[0].messages == [{"role": "user", "content": ref[0]["instruction"]}]
    assert v2[0].metadata["dataset"] == "helpful_base" and v2[804].id == "804"
    v1 = load(datasets_dir, version="1.0")
    first = json.loads((datasets_dir / "alpaca_eval/alpaca_eval.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert v1[0].metadata["reference"] == first["output"] and v1[0].metadata["reference_generator"] == (
        "text_davinci_003"
    )
    with pytest.raises(AssayError, match=r"version must be one of 2.0, 1.0, got '3'"):
        load(datasets_dir, version="3")


def test_replay_of_published_annotations_reproduces_the_leaderboard(datasets_dir) -> None:
    """Every published preference of gpt-3.5-turbo-1106 (weighted_alpaca_eval_gpt4_turbo) from its logged m/M
    log-probabilities through our parser and seeded switch; the leaderboard's figures from them."""
    data = json.loads((FIXTURES / "gpt35_1106_mM_logprobs.json").read_text(encoding="utf-8"))
    samples = load(datasets_dir)
    prefs = []
    for ann, sample in zip(data["annotations"], samples, strict=True):
        if ann["mM_logprobs"] is None:  # outputs identical to the reference: a draw, never annotated
            pref = 1.5
        else:
            top = [{"token": t, "logprob": lp} for t, lp in ann["mM_logprobs"].items()]
            parsed = preference_parser(is_switched(sample.metadata["instruction"]))("m", [{"top_logprobs": top}])
            pref = parsed.value
        assert pref == pytest.approx(ann["preference"], abs=1e-9), ann["index"]
        prefs.append(pref)
    got = get_winrate(prefs)
    board = data["leaderboard"]
    for key in ("n_wins", "n_wins_base", "n_draws", "n_total"):
        assert got[key] == board[key], key
    assert got["win_rate"] == pytest.approx(board["win_rate"], abs=1e-9)
    assert got["standard_error"] == pytest.approx(board["standard_error"], abs=1e-9)
    assert got["discrete_win_rate"] == pytest.approx(board["discrete_win_rate"], abs=1e-9)
    assert int(statistics.mean(a["len_output"] for a in data["annotations"])) == board["avg_length"]
    # the switch is the official seeded draw: without it half the preferences would be mirrored
    assert sum(is_switched(s.metadata["instruction"]) for s in samples) == 406


def test_get_winrate_is_the_official_formula() -> None:
    prefs = [2.0, 1.0, 1.5, 1.25, 1.9, 0, float("nan"), 2.5]  # 0: an old draw; NaN and 2.5 are not preferences
    got = get_winrate(prefs)
    kept = [1.0, 0.0, 0.5, 0.25, 0.9, 0.5]
    assert got["win_rate"] == pytest.approx(100 * statistics.mean(kept))
    assert got["standard_error"] == pytest.approx(100 * statistics.stdev(kept) / math.sqrt(6))
    assert (got["n_wins"], got["n_wins_base"], got["n_draws"], got["n_total"]) == (2, 2, 2, 6)
    assert got["discrete_win_rate"] == pytest.approx(100 * (1 + 0 + 0.5 + 0 + 1 + 0.5) / 6)
    assert [discrete(p) for p in (1.0, 1.49, 1.5, 1.51, 2.0)] == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert get_winrate([])["win_rate"] is None and get_winrate([])["n_total"] == 0
    assert get_winrate([1.7])["standard_error"] is None


def test_logprob_share_reads_only_exact_top_tokens() -> None:
    top = [{"token": "M", "logprob": -0.1}, {"token": " m", "logprob": -0.5}, {"token": "m", "logprob": -2.3}]
    p_m, p_big = math.exp(-2.3), math.exp(-0.1)
    assert logprob_share([{"token": "M", "top_logprobs": top}], "m", ("m", "M")) == pytest.approx(p_m / (p_m + p_big))
    assert logprob_share([{"top_logprobs": [{"token": "M", "logprob": -0.1}]}], "m", ("m", "M")) == 0.0
    assert logprob_share([{"top_logprobs": [{"token": "The", "logprob": -0.1}]}], "m", ("m", "M")) is None
    assert logprob_share(None, "m", ("m", "M")) is None
    # unswitched: 2 - P(m) (m is the reference); switched: 1 + P(m)
    assert preference_parser(False)("", [{"top_logprobs": top}]).value == pytest.approx(2 - p_m / (p_m + p_big))
    assert preference_parser(True)("", [{"top_logprobs": top}]).value == pytest.approx(1 + p_m / (p_m + p_big))


def test_prompt_is_the_official_template_filled_as_make_prompts_does() -> None:
    msgs = make_messages(ALPACA_EVAL_CLF_GPT4_TURBO, "Say {output_1} hi", "REF", "MODEL")
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert msgs[0]["content"].startswith("You are a highly efficient assistant, who evaluates and selects")
    user = msgs[1]["content"]
    assert user.startswith("I require a leaderboard for various large language models.")
    assert user.endswith("## Best Model Identifier")
    # official quirk kept: the first occurrence of each placeholder is replaced in turn, so an instruction
    # holding "{output_1}" takes output_1 and the template's own {output_1} stays as it is
    assert '"instruction": """Say REF hi""",' in user
    assert '"model_identifier": "m",\n        "output": """{output_1}"""' in user
    assert '"model_identifier": "M",\n        "output": """MODEL"""' in user
    plain = make_messages(ALPACA_EVAL_CLF_GPT4_TURBO, "Q", "A1", "A2")[1]["content"]
    assert '"output": """A1"""\n    },\n    {\n        "model_identifier": "M",\n        "output": """A2"""' in plain


def test_loader_reads_the_hub_layout(datasets_dir, tmp_path) -> None:
    """The hubs' snapshot: alpaca_eval.json (a JSON list) and alpaca_eval_gpt4_baseline.json (2.0 reference)."""
    src = datasets_dir / "alpaca_eval"
    rows = [json.loads(x) for x in (src / "alpaca_eval.jsonl").read_text(encoding="utf-8").splitlines()][:3]
    refs = json.loads((src / "gpt4_1106_preview/model_outputs.json").read_text(encoding="utf-8"))[:3]
    (tmp_path / "alpaca_eval.json").write_text(json.dumps(rows), encoding="utf-8")
    (tmp_path / "alpaca_eval_gpt4_baseline.json").write_text(json.dumps(refs), encoding="utf-8")
    args = BenchmarkArgs(name="alpaca_eval", local_path=str(tmp_path))
    got = list(AlpacaEval(args).load(args))
    assert [s.metadata["reference"] for s in got] == [r["output"] for r in refs]
    assert [s.messages[0]["content"] for s in got] == [r["instruction"] for r in rows]
    args = BenchmarkArgs(name="alpaca_eval", local_path=str(tmp_path), extra={"version": "1.0"})
    assert [s.metadata["reference"] for s in AlpacaEval(args).load(args)] == [r["output"] for r in rows]
