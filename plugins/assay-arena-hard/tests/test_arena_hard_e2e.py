"""arena_hard end to end through the `assay` CLI: the model and the judge are two test servers; the scripted
judge gives a verdict per game (keyed on where the model's answer is shown), a malformed verdict and a
failing call. Exact score, battles, coverage, judge failures; the official prompts; rescore reuses."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from assay.api import BenchmarkArgs
from assay_arena_hard.benchmark import ArenaHard, battle_scores, load_answers
from assay_arena_hard.prompts import CREATIVE_WRITING_PROMPT, SYSTEM_PROMPT
from assay_testserver.testing import assay, events, report_items, run_dir_of, section

pytestmark = pytest.mark.slow

KEY = "sk-judge-SECRET-0123456789abcdef"


def load(datasets_dir: Path, **extra) -> list:
    args = BenchmarkArgs(name="arena_hard", dataset_dir=str(datasets_dir), extra=extra)
    return list(ArenaHard(args).load(args))


def test_load_v01_counts_and_baseline(datasets_dir) -> None:
    samples = load(datasets_dir)
    assert len(samples) == 500 and {s.subset for s in samples} == {"arena-hard-v0.1"}
    model, answers = load_answers(datasets_dir / "arena_hard/arena-hard-v0.1/model_answer/gpt-4-0314.jsonl")
    assert model == "gpt-4-0314" and len(answers) == 500
    first = samples[0]
    assert first.id == "328c149ed45a41c0b9d6f14659e63599"
    assert first.messages == [
        {"role": "user", "content": "Use ABC notation to write a melody in the style of a folk tune."}
    ]
    assert first.metadata["baseline"] == "gpt-4-0314"
    assert first.metadata["baseline_answer"] == answers[first.id] and answers[first.id].startswith("X:1\nT:Untitled")


def test_v20_needs_its_baselines_and_uses_the_creative_writing_prompt(datasets_dir, tmp_path) -> None:
    with pytest.raises(Exception, match=r"o3-mini-2025-01-31's answers, and .* does not exist"):
        load(datasets_dir, version="v2.0")
    questions = [json.loads(x) for x in (datasets_dir / "arena_hard/arena-hard-v2.0/question.jsonl").open()]
    files = {}
    for subset, model in (("hard_prompt", "o3-mini-2025-01-31"), ("creative_writing", "gemini-2.0-flash-001")):
        f = tmp_path / f"{model}.jsonl"
        rows = [
            {"uid": q["uid"], "model": model, "messages": [{"role": "user", "content": q["prompt"]},
             {"role": "assistant", "content": {"answer": f"BASE-{q['uid']}"}}]}
            for q in questions if q["category"] == subset
        ]  # fmt: skip
        f.write_text("".join(json.dumps(r) + "\n" for r in rows))
        files[subset] = str(f)
    samples = load(datasets_dir, version="v2.0", baseline_answers=files)
    assert Counter((s.subset, s.category) for s in samples) == {
        ("hard_prompt", "coding"): 253,
        ("hard_prompt", "math"): 247,
        ("creative_writing", "creative_writing"): 250,
    }
    assert {s.metadata["baseline"] for s in samples if s.subset == "creative_writing"} == {"gemini-2.0-flash-001"}
    assert {s.metadata["judge_prompt"] for s in samples if s.subset == "creative_writing"} == {"creative_writing"}
    assert {s.metadata["judge_prompt"] for s in samples if s.subset == "hard_prompt"} == {"arena_hard"}


def test_battle_expansion_is_show_result() -> None:
    # show_result.py: label_to_score[game2] + [1 - s for s in label_to_score[game1]], weight 3
    assert battle_scores({"game1": "B>>A", "game2": "A>B"}, 3) == [1.0, 1.0, 1.0, 1.0]
    assert battle_scores({"game1": "A>>B", "game2": "B=A"}, 3) == [0.5, 0.0, 0.0, 0.0]
    assert battle_scores({"game1": "A>>B", "game2": "A<<B"}, 1) == [0.0, 0.0]


# (game 1: baseline shown as A, game 2: the model shown as A)
GAMES = [
    ("[[B>>A]]", "My final verdict is: [[A>B]]"),  # model: strong win (3 battles) + win
    ("[[A=B]]", "[[B>A]]"),  # tie + loss
    ("[[A>>B]]", "[[B>>A]]"),  # 3 + 3 losses
    ("Assistant B is better. [[B>A]]", "[[A=B]]"),  # win + tie
    ("I cannot decide.", "[[A>B]]"),  # malformed verdict in game 1: judge failed
    ("[[A>B]]", None),  # game 2: HTTP 500 after retries: judge failed
]


def judge_rules() -> list[dict]:
    rules = []
    for i, (g1, g2) in enumerate(GAMES):
        rules.append({"match": f"<|The Start of Assistant B's Answer|>\nMODEL-{i}\n", "answer": g1})
        rule = {"match": f"<|The Start of Assistant A's Answer|>\nMODEL-{i}\n", "answer": g2 or "[[A=B]]"}
        if g2 is None:
            rule["fault"] = "http_500"
        rules.append(rule)
    return rules


def test_arena_hard_eval_exact_score_coverage_and_prompts(test_server, datasets_dir, tmp_path) -> None:
    n = len(GAMES)
    samples = load(datasets_dir)[:n]
    model = test_server(
        rules=[{"match": s.metadata["question"], "answer": f"MODEL-{i}"} for i, s in enumerate(samples)]
    )
    judge = test_server(rules=judge_rules(), require_api_key=KEY)
    judge_args = json.dumps({"model_id": "judge-model", "api_url": judge.url, "api_key": KEY})
    proc = assay(
        "eval", "--model", "test-model", "--api-url", model.url, "--datasets", "arena_hard", "--limit", str(n),
        "--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path / "w"), "--no-progress", "--retries", "1",
        "--judge-model-args", judge_args, "--judge-worker-num", "2", check=3,
    )  # fmt: skip
    run = run_dir_of(proc)
    rows = report_items(run, 3)
    win = next(r for r in rows if r.get("metric") == "win_rate")
    # per question: mean of its two games; 4 judged: 1, 0.25, 0, 0.75
    assert win["score"] == pytest.approx(0.5) and (win["judged"], win["judge_failures"]) == (4, 2)
    assert win["coverage"] == "0.500 on 4/6 judged; 2 judge failures"
    sec = section(rows, "arena_hard")
    (agg,) = sec["rows"]
    # battles: [1,1,1,1] + [0, .5] + [0]*6 + [.5, 1]: 6 points in 14
    assert (agg["battles"], agg["judged"], agg["judge_failures"]) == (14, 4, 2)
    assert agg["score"] == pytest.approx(6 / 14)
    assert agg["elo"] == pytest.approx(1000 + 400 * math.log10(6 / 8))
    assert (agg["game_wins"], agg["game_ties"], agg["game_losses"]) == (3, 2, 3)
    assert (agg["baseline"], agg["model"], sec["bootstrap_rounds"], sec["seed"]) == (
        "gpt-4-0314",
        "test-model",
        100,
        42,
    )
    battles = np.array([1, 1, 1, 1, 0, 0.5, 0, 0, 0, 0, 0, 0, 0.5, 1])
    means = battles[np.random.default_rng(42).integers(0, 14, size=(100, 14))].mean(axis=1)
    assert (agg["ci_low"], agg["ci_high"]) == (np.percentile(means, 2.5), np.percentile(means, 97.5))
    assert agg["ci_low"] < agg["score"] < agg["ci_high"]
    assert "Arena-Hard score" in proc.stdout and "42.9" in proc.stdout

    # every game logged: 12 Judged, the official prompts, both orders
    judged = events(run, "Judged")
    assert len(judged) == 2 * n
    by = {(e["body"]["sample_id"], e["body"]["key"]): e["body"] for e in judged}
    g1 = by[(f"arena_hard/arena-hard-v0.1/{samples[0].id}", "game1")]
    g2 = by[(f"arena_hard/arena-hard-v0.1/{samples[0].id}", "game2")]
    assert (g1["order"], g2["order"], g1["candidates"]) == ("AB", "BA", ["gpt-4-0314", "test-model"])
    assert (g1["label"], g2["label"]) == ("B>>A", "A>B")
    assert g1["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    base = samples[0].metadata["baseline_answer"]
    assert g1["messages"][1]["content"] == (
        f"<|User Prompt|>\n{samples[0].metadata['question']}\n\n<|The Start of Assistant A's Answer|>\n{base}\n"
        "<|The End of Assistant A's Answer|>\n\n<|The Start of Assistant B's Answer|>\nMODEL-0\n"
        "<|The End of Assistant B's Answer|>"
    )
    assert "<|The Start of Assistant A's Answer|>\nMODEL-0\n" in g2["messages"][1]["content"]
    assert Counter(e["body"].get("status", "ok") for e in judged) == {"ok": 10, "judge_failed": 2}
    failed = sorted(e["body"]["sample_id"].rsplit("/", 1)[1] for e in events(run, "SampleFailed"))
    assert failed == sorted([samples[4].id, samples[5].id])
    assert SYSTEM_PROMPT != CREATIVE_WRITING_PROMPT
    text = (run / "events.jsonl").read_text(encoding="utf-8")
    assert KEY not in text and KEY not in proc.stdout and KEY not in proc.stderr

    # rescore: the logged verdicts, no judge call, the same section
    calls = judge.server.count
    rescored = run_dir_of(
        assay("rescore", str(run), "--work-dir", str(tmp_path / "r"), check=3)
    )  # as eval: 2 judge failures
    assert judge.server.count == calls
    again = section(report_items(rescored, 3), "arena_hard")["rows"][0]
    assert {k: again[k] for k in ("score", "battles", "judged", "judge_failures", "ci_low", "ci_high")} == {
        k: agg[k] for k in ("score", "battles", "judged", "judge_failures", "ci_low", "ci_high")
    }


def test_official_verdict_regex() -> None:
    from assay_judge import parse_pairwise

    parse = parse_pairwise()
    assert parse("My final verdict is tie: [[A=B]]").label == "A=B"
    assert parse("[[a>>b]] ... on reflection [[B>A]]").label == "B>A"  # upper-cased, the last match
    assert parse("[A>B]").label == "A>B"  # the second pattern
    assert parse("[[A>B]] and [B>A]").label == "A>B"  # the first pattern that matches wins
    assert parse("[[A>>>B]]") is None and parse("no verdict") is None  # not a label show_result counts
