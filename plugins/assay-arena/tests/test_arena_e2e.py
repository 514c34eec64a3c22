"""`assay arena` end to end: three real eval runs (arena_hard, three test servers), an arena between them judged
by the scripted judge (a verdict per question, pair and order; a malformed verdict; a failing call).
Exact battles, win rates and coverage; ratings equal an independent Bradley-Terry fit (scipy) to 1e-6;
the baseline anchored at 1000; resume after kill -9 never asks a logged verdict again; replay."""

from __future__ import annotations

import json
import math
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from assay_arena_hard.prompts import SYSTEM_PROMPT
from assay_testserver.testing import assay, assay_popen, events, run_dir_of, wait_for_events

# its module-scoped fixture is costly: every test of the module in one pytest-xdist worker, so it runs once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("arena_e2e")]

KEY = "sk-judge-SECRET-0123456789abcdef"
MODELS = ["alpha", "beta", "gamma"]
N = 4

# x's result per (pair, question): (game 1: x shown as A, game 2: x shown as B);
# W win, S strong win, T tie, L loss, X malformed verdict, F the call fails (HTTP 500)
TABLE = {
    ("alpha", "beta"): [("W", "W"), ("W", "T"), ("L", "W"), ("W", "S")],
    ("alpha", "gamma"): [("W", "W"), ("T", "T"), ("W", "L"), ("W", "X")],
    ("beta", "gamma"): [("W", "L"), ("T", "W"), ("L", "L"), ("F", "W")],
}
AS_A = {"W": "[[A>B]]", "S": "[[A>>B]]", "T": "[[A=B]]", "L": "My final verdict: [[B>A]]", "X": "I cannot say."}
AS_B = {"W": "[[B>A]]", "S": "[[B>>A]]", "T": "[[A=B]]", "L": "[[A>B]]", "X": "no label here"}
POINTS = {"W": 1.0, "S": 1.0, "T": 0.5, "L": 0.0}


def answer(model: str, q: int) -> str:
    return f"{model} answers question {q}: #### {q}"


def judge_rules() -> list[dict]:
    rules = []
    for (x, y), rows in TABLE.items():
        for q, (g1, g2) in enumerate(rows):
            for first, second, code, labels in ((x, y, g1, AS_A), (y, x, g2, AS_B)):
                shown = (
                    f"<|The Start of Assistant A's Answer|>\n{answer(first, q)}\n<|The End of Assistant A's Answer|>"
                    f"\n\n<|The Start of Assistant B's Answer|>\n{answer(second, q)}\n"
                )
                rule = {"match": shown, "answer": labels.get(code, "[[A=B]]")}
                if code == "F":
                    rule["fault"] = "http_500"
                rules.append(rule)
    return rules


def expected_battles() -> list[tuple[str, str, float]]:
    """(x, y, x's points) per judged game; a battle with a failed game is left out whole."""
    out = []
    for (x, y), rows in TABLE.items():
        for g1, g2 in rows:
            if {g1, g2} & {"X", "F"}:
                continue
            out += [(x, y, POINTS[g1]), (x, y, POINTS[g2])]
    return out


def scipy_ratings(battles, models) -> np.ndarray:
    """An independent Bradley-Terry fit: the Chatbot Arena notebook's logistic likelihood (no intercept,
    +/-ln 10 columns, a tie as one win each way), maximised by scipy's BFGS; mean rating 1000."""
    minimize = pytest.importorskip("scipy.optimize").minimize  # in the dev install; not a dependency
    idx = {m: i for i, m in enumerate(models)}
    rows, ys = [], []
    for x, y, s in battles:
        v = np.zeros(len(models))
        v[idx[x]], v[idx[y]] = math.log(10), -math.log(10)
        rows += [v, v]
        ys += [1.0, 0.0] if s == 0.5 else [s, s]
    X, Y = np.array(rows), np.array(ys)

    def nll(beta):
        z = X @ beta
        return float(np.sum(np.logaddexp(0, z) - Y * z))

    res = minimize(nll, np.zeros(len(models)), jac=lambda b: X.T @ (1 / (1 + np.exp(-(X @ b))) - Y), method="BFGS",
                   options={"gtol": 1e-12, "maxiter": 10000})  # fmt: skip
    return 400 * (res.x - res.x.mean()) + 1000


def questions(datasets_dir: Path) -> list:
    from assay.api import BenchmarkArgs
    from assay_arena_hard.benchmark import ArenaHard

    args = BenchmarkArgs(name="arena_hard", dataset_dir=str(datasets_dir))
    return list(ArenaHard(args).load(args))[:N]


@pytest.fixture(scope="module")
def three_runs(datasets_dir, tmp_path_factory):
    """Three arena_hard eval runs of the first 4 questions, one model (test server) each (their own judge
    calls every verdict a tie); the arena tests only read them."""
    from assay_testserver import TestServer

    work = tmp_path_factory.mktemp("runs")
    runs = {}
    for m in MODELS:
        rules = [
            {"match": s.metadata["question"], "answer": answer(m, i)} for i, s in enumerate(questions(datasets_dir))
        ]
        with TestServer(rules=rules) as srv, TestServer(default_answer="[[A=B]]") as judge:
            proc = assay(
                "eval", "--model", m, "--api-url", srv.url, "--datasets", "arena_hard", "--limit", str(N),
                "--dataset-dir", str(datasets_dir), "--work-dir", str(work), "--no-progress",
                "--judge-model-args", json.dumps({"model_id": "j", "api_url": judge.url}),
            )  # fmt: skip
        runs[m] = run_dir_of(proc)
    return runs


def arena_args(runs, judge, work: Path, *more: str) -> list[str]:
    judge_args = json.dumps({"model_id": "judge-model", "api_url": judge.url, "api_key": KEY})
    return [
        "arena", *[str(runs[m]) for m in MODELS], "--judge-model-args", judge_args, "--work-dir", str(work),
        "--retries", "1", "--rounds", "200", *more,
    ]  # fmt: skip


def test_arena_exact_battles_ratings_and_replay(three_runs, test_server, datasets_dir, tmp_path) -> None:
    judge = test_server(rules=judge_rules(), require_api_key=KEY)
    proc = assay(*arena_args(three_runs, judge, tmp_path / "arena", "--judge-worker-num", "3"), check=3)
    arena = run_dir_of(proc)
    section = json.loads(assay("report", str(arena), "--format", "json").stdout)  # completed: exit 0

    # 3 pairs x 4 questions = 12 battles, 24 games; 2 battles judge-failed (a malformed verdict, a 500)
    assert (section["battles_judged"], section["games"], section["judge_failures"]) == (10, 20, 2)
    assert section["judge_failures_by_pair"] == {"alpha vs gamma": 1, "beta vs gamma": 1}
    each = {"prompts": 4, "prompts_differ": 0, "only_one_answered": 0}
    assert section["pairs"] == {"alpha vs beta": each, "alpha vs gamma": each, "beta vs gamma": each}
    assert section["position_consistency"] == 0.5  # 5 of the 10 judged battles give one result in both orders
    assert judge.server.count == 24 + 1  # the 500 retried once
    wr = section["win_rate_matrix"]
    assert (wr["alpha"]["beta"], wr["beta"]["alpha"]) == (6.5 / 8, 1.5 / 8)
    assert (wr["alpha"]["gamma"], wr["gamma"]["alpha"]) == (4 / 6, 2 / 6)
    assert (wr["beta"]["gamma"], wr["gamma"]["beta"]) == (2.5 / 6, 3.5 / 6)
    board = {r["model"]: r for r in section["leaderboard"]}
    assert {m: (r["wins"], r["ties"], r["losses"], r["battles"]) for m, r in board.items()} == {
        "alpha": (9, 3, 2, 14),
        "beta": (3, 2, 9, 14),
        "gamma": (4, 3, 5, 12),
    }
    ours = np.array([board[m]["rating"] for m in MODELS])
    ref = scipy_ratings(expected_battles(), MODELS)
    assert np.max(np.abs(ours - ref)) < 1e-6
    assert [r["model"] for r in section["leaderboard"]] == ["alpha", "gamma", "beta"]
    assert all(r["ci_low"] < r["rating"] < r["ci_high"] for r in board.values())
    assert section["bootstrap_rounds"] == 200 and section["seed"] == 42
    predicted = section["predicted_win_rate"]["alpha"]["beta"]
    assert predicted == pytest.approx(1 / (1 + 10 ** ((board["beta"]["rating"] - board["alpha"]["rating"]) / 400)))
    assert "Arena leaderboard" in proc.stdout and "10 battles judged (20 games), 2 judge failures" in proc.stdout
    assert "both orders agree in 50.0% of battles" in proc.stdout

    # the log: every call a Judged event with the official prompt, every game a Scored
    judged = events(arena, "Judged")
    assert len(judged) == 24 and {e["body"]["judge"] for e in judged} == {"judge-model"}
    first = questions(datasets_dir)[0]
    battle = f"arena_hard/arena-hard-v0.1/{first.id}::alpha::beta"
    one = next(e["body"] for e in judged if e["body"]["sample_id"] == battle and e["body"]["key"] == "game2")
    assert one["order"] == "BA" and one["candidates"] == ["alpha", "beta"] and one["label"] == "B>A"
    assert one["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert one["messages"][1]["content"] == (
        f"<|User Prompt|>\n{first.metadata['question']}\n\n"
        f"<|The Start of Assistant A's Answer|>\n{answer('beta', 0)}\n<|The End of Assistant A's Answer|>\n\n"
        f"<|The Start of Assistant B's Answer|>\n{answer('alpha', 0)}\n<|The End of Assistant B's Answer|>"
    )
    assert len(events(arena, "Scored")) == 20 and len(events(arena, "SampleFailed")) == 2
    text = (arena / "events.jsonl").read_text(encoding="utf-8")
    assert KEY not in text and KEY not in proc.stdout and KEY not in proc.stderr

    # replay: the report is a fold of the log, the same every time
    assert json.loads(assay("report", str(arena), "--format", "json").stdout) == section
    shown = assay("report", str(arena)).stdout
    assert "Arena leaderboard" in shown and "Win rate of the row model" in shown


def test_arena_baseline_anchor_and_pairs(three_runs, test_server, tmp_path) -> None:
    judge = test_server(rules=judge_rules())
    args = arena_args(three_runs, judge, tmp_path / "a", "--baseline", str(three_runs["alpha"]), "--pairs", "baseline")
    args[args.index("--judge-model-args") + 1] = json.dumps({"model_id": "j", "api_url": judge.url})
    proc = assay(*args, check=3)
    section = json.loads(assay("report", str(run_dir_of(proc)), "--format", "json").stdout)
    board = {r["model"]: r for r in section["leaderboard"]}
    assert section["baseline"] == "alpha" and board["alpha"]["rating"] == 1000.0
    assert judge.server.count == 16  # alpha vs beta and alpha vs gamma only
    assert set(section["pairs"]) == {"alpha vs beta", "alpha vs gamma"}
    assert board["beta"]["win_rate_vs_baseline"] == 1.5 / 8 and board["gamma"]["win_rate_vs_baseline"] == 2 / 6
    battles = [b for b in expected_battles() if b[0] == "alpha"]
    ref = scipy_ratings(battles, MODELS)
    assert max(abs(board[m]["rating"] - (ref[i] - ref[0] + 1000)) for i, m in enumerate(MODELS)) < 1e-6
    p = board["beta"]["predicted_vs_baseline"]
    assert p == pytest.approx(1 / (1 + 10 ** ((1000 - board["beta"]["rating"]) / 400)))


def test_arena_resume_after_kill_never_rejudges(three_runs, test_server, tmp_path) -> None:
    judge = test_server(rules=judge_rules(), require_api_key=KEY, ttft=0.25)
    work = tmp_path / "arena"
    proc = assay_popen(*arena_args(three_runs, judge, work, "--name", "killed"))
    wait_for_events(work, "Judged", 5, proc)
    log = work / "killed" / "events.jsonl"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {(e["body"]["sample_id"], e["body"]["key"]) for e in events(work / "killed", "Judged")}
    assert 5 <= len(before) < 24
    assert assay("report", str(work / "killed"), check=4)
    wrong = assay("resume", str(work / "killed"), check=2)
    assert f"finish it with `assay arena --resume {work / 'killed'}`" in wrong.stderr
    judge_args = json.dumps({"model_id": "judge-model", "api_url": judge.url, "api_key": KEY})
    resumed = assay("arena", "--resume", str(work / "killed"), "--judge-model-args", judge_args, check=3)
    assert "battles to judge" in resumed.stderr
    after = events(work / "killed", "Judged")
    keys = [(e["body"]["sample_id"], e["body"]["key"]) for e in after]
    assert len(keys) == len(set(keys)) == 24  # each game judged once over both processes
    section = json.loads(assay("report", str(work / "killed"), "--format", "json").stdout)
    assert (section["battles_judged"], section["judge_failures"]) == (10, 2)
    board = {r["model"]: r["rating"] for r in section["leaderboard"]}
    ref = scipy_ratings(expected_battles(), MODELS)
    assert max(abs(board[m] - ref[i]) for i, m in enumerate(MODELS)) < 1e-6
    assert KEY not in log.read_text(encoding="utf-8")


def test_arena_refuses_bad_input(three_runs, tmp_path) -> None:
    one = assay("arena", str(three_runs["alpha"]), "--judge-model-args", '{"model_id": "j"}', check=2)
    assert "an arena needs two or more runs" in one.stderr
    nojudge = assay("arena", str(three_runs["alpha"]), str(three_runs["beta"]), "--work-dir", str(tmp_path), check=2)
    assert "an arena is judged: pass --judge-model-args" in nojudge.stderr
    missing = assay(
        "arena", str(three_runs["alpha"]), str(tmp_path / "nope"), "--judge-model-args", '{"model_id": "j"}', check=2
    )
    assert missing.stderr == f"error: no event log at {tmp_path / 'nope'}\n"
