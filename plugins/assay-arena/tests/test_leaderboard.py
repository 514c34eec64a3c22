"""The arena leaderboard fold on hand-written logs: no finite ratings, strong weights, inert model names."""

from __future__ import annotations

import io

import pytest
from assay.events import RunFinished, RunStarted, SampleFailed, Scored
from assay.log import LogWriter
from assay_arena.leaderboard import REPORTER, fold


def write_log(path, models, games, *, strong_weight=1, baseline=None, failed=0):
    w = LogWriter(path, "arena-test")
    arena = {"models": models, "baseline": baseline, "rounds": 50, "strong_weight": strong_weight}
    w.append(RunStarted(kind="arena", resolved={"arena": arena}, seed=3))
    for k, (a, b, label, value, strong) in enumerate(games):
        extracted = {"a": a, "b": b, "label": label, "order": "AB", "strong": strong}
        w.append(Scored(sample_id=f"s{k}::{a}::{b}", scorer="arena", metric="game1", value=value, extracted=extracted))
    for k in range(failed):
        w.append(
            SampleFailed(
                sample_id=f"f{k}", stage="judge", error_type="JudgeFailed", message=f"{models[0]} vs {models[1]}: x"
            )
        )
    w.append(RunFinished(status="completed"))
    w.close()
    return path


def test_no_finite_ratings_is_said_not_guessed(tmp_path) -> None:
    # m0 beats m1 every time, m1 and m2 tie: m0's rating has no finite maximum
    games = [("m0", "m1", "A>B", 1.0, False)] * 3 + [("m1", "m2", "A=B", 0.5, False)] * 2
    rep = fold(write_log(tmp_path / "events.jsonl", ["m0", "m1", "m2"], games, failed=1))
    assert rep["note"] == "no finite ratings: m0 won every battle against the rest"
    assert all(r["rating"] is None for r in rep["leaderboard"])
    assert rep["degenerate_rounds"] == 50 and rep["judge_failures"] == 1
    assert [r["model"] for r in rep["leaderboard"]] == ["m0", "m2", "m1"]  # by win rate: 1, 0.5, 0.3
    out = io.StringIO()
    from rich.console import Console

    REPORTER.render(rep, Console(file=out, width=200))
    assert "no finite ratings: m0 won every battle" in out.getvalue()


def test_strong_weight_counts_strong_verdicts(tmp_path) -> None:
    games = [("a", "b", "A>>B", 1.0, True), ("a", "b", "B>A", 0.0, False), ("a", "b", "A=B", 0.5, False)]
    rep = fold(write_log(tmp_path / "events.jsonl", ["a", "b"], games, strong_weight=3, baseline=1))
    board = {r["model"]: r for r in rep["leaderboard"]}
    # a: 3 (strong win) + 0 + 0.5 of 5 battles
    assert rep["win_rate_matrix"]["a"]["b"] == pytest.approx(3.5 / 5)
    assert board["a"]["win_rate_vs_baseline"] == pytest.approx(3.5 / 5) and board["b"]["rating"] == 1000.0
    assert board["a"]["predicted_vs_baseline"] == pytest.approx(3.5 / 5, abs=1e-9)
    assert (board["a"]["wins"], board["a"]["ties"], board["a"]["losses"]) == (3, 1, 1)


def test_model_names_are_shown_inert(tmp_path) -> None:
    evil = "\x1b[31mred[/]\x1b]8;;http://x\x07[bold]m"
    games = [(evil, "ok", "A>B", 1.0, False), (evil, "ok", "B>A", 0.0, False)]
    rep = fold(write_log(tmp_path / "events.jsonl", [evil, "ok"], games))
    out = io.StringIO()
    from rich.console import Console

    REPORTER.render(rep, Console(file=out, width=300, force_terminal=True, color_system=None))
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "\\x1b[31mred[/]" in text and "[bold]m" in text
