"""The arena leaderboard: a projection of an arena run's log (its ``Scored`` games and judge failures)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from assay_reportkit.tables import Column, render_matrix, render_table

from . import bradley_terry as bt

FORMULA = (
    "each judged game is a battle (its verdict read for the model shown first and second; a strong verdict "
    "counts strong_weight times; a tie is half a win for each, as Chatbot Arena counts it); ratings: the "
    "Bradley-Terry maximum-likelihood fit on the Elo scale (scale 400, base 10, mean 1000, or the baseline "
    "at 1000), 95% CI: percentiles 2.5/97.5 over bootstrap resamplings of the battles (numpy default_rng(seed)); "
    "win rate: points won / battles played (ties half); predicted: from the ratings"
)


def fold(path: Path) -> dict[str, Any]:
    from assay.log import iter_events

    settings: dict[str, Any] = {}
    seed = 0
    a: list[int] = []
    b: list[int] = []
    y: list[float] = []
    w: list[float] = []
    failures: dict[str, int] = {}
    failed_battles = 0
    index: dict[str, int] = {}
    verdicts: dict[str, list[float]] = {}  # battle id -> the first model's result in each game
    for ev in iter_events(path, types={"RunStarted", "Scored", "SampleFailed"}):
        body = ev.body
        if ev.type == "RunStarted":
            if not settings:
                settings = dict((body.resolved or {}).get("arena") or {})
                seed = body.seed if body.seed is not None else 0
                index = {m: i for i, m in enumerate(settings.get("models", []))}
        elif ev.type == "Scored" and body.scorer == "arena" and isinstance(body.extracted, dict):
            ex = body.extracted
            for m in (ex["a"], ex["b"]):
                index.setdefault(m, len(index))
            a.append(index[ex["a"]])
            b.append(index[ex["b"]])
            y.append(float(body.value))
            w.append(float(settings.get("strong_weight", 1)) if ex.get("strong") else 1.0)
            verdicts.setdefault(body.sample_id, []).append(float(body.value))
        elif ev.type == "SampleFailed" and body.stage == "judge":
            failed_battles += 1
            pair = body.message.split(": ", 1)[0]
            failures[pair] = failures.get(pair, 0) + 1
    models = sorted(index, key=index.get)  # type: ignore[arg-type]
    n = len(models)
    rounds = int(settings.get("rounds", 1000))
    base_i = settings.get("baseline")
    baseline = settings["models"][base_i] if base_i is not None and settings.get("models") else None
    out: dict[str, Any] = {
        "models": models,
        "baseline": baseline,
        "games": len(y),
        "battles_judged": len(y) // 2,
        "judge_failures": failed_battles,
        "judge_failures_by_pair": failures,
        "pairs": settings.get("pairs_prompts", {}),
        "position_consistency": None,
        "strong_weight": settings.get("strong_weight", 1),
        "bootstrap_rounds": rounds,
        "seed": seed,
        "formula": FORMULA,
    }
    if not y:
        out.update(leaderboard=[], ratings=None, note="no judged battle")
        return out
    both = [v for v in verdicts.values() if len(v) == 2]
    # both orders gave the same result (win, tie or loss): the judge did not follow the position
    out["position_consistency"] = sum(1 for v in both if v[0] == v[1]) / len(both) if both else None
    W, N = bt.pair_totals(a, b, y, n, w)
    anchor = models.index(baseline) if baseline in models else None
    try:
        ratings = bt.fit_totals(W, N, anchor=anchor)
        note = None
    except bt.NoFiniteRatings as exc:
        ratings = None
        note = f"no finite ratings: {', '.join(models[i] for i in exc.group)} won every battle against the rest"
    boot = bt.bootstrap(a, b, y, n, rounds=rounds, seed=seed, weight=w, anchor=anchor)
    pts = W.sum(axis=1)
    played = N.sum(axis=1)
    wins = np.zeros(n)
    ties = np.zeros(n)
    losses = np.zeros(n)
    for ai, bi, yi, wi in zip(a, b, y, w):
        for me, s in ((ai, yi), (bi, 1.0 - yi)):
            (wins if s == 1.0 else ties if s == 0.5 else losses)[me] += wi
    predicted = bt.predict_win_rate(ratings) if ratings is not None else None
    rows = []
    for i, m in enumerate(models):
        row: dict[str, Any] = {
            "model": m,
            "rating": None if ratings is None else float(ratings[i]),
            "ci_low": None if boot["low"] is None else boot["low"][i],
            "ci_high": None if boot["high"] is None else boot["high"][i],
            "battles": float(played[i]),
            "wins": float(wins[i]),
            "ties": float(ties[i]),
            "losses": float(losses[i]),
            "win_rate": float(pts[i] / played[i]) if played[i] else None,
        }
        if anchor is not None and i != anchor:
            row["win_rate_vs_baseline"] = float(W[i, anchor] / N[i, anchor]) if N[i, anchor] else None
            row["predicted_vs_baseline"] = None if predicted is None else float(predicted[i, anchor])
        rows.append(row)
    rows.sort(key=lambda r: (-(r["rating"] if r["rating"] is not None else r["win_rate"] or 0.0), r["model"]))
    for rank, r in enumerate(rows, 1):
        r["rank"] = rank
    out.update(
        leaderboard=rows,
        note=note,
        degenerate_rounds=boot["degenerate_rounds"],
        # row model beats column model: the share of points it took from it (ties half); None: never met
        win_rate_matrix={
            m: {o: (float(W[i, j] / N[i, j]) if N[i, j] else None) for j, o in enumerate(models) if j != i}
            for i, m in enumerate(models)
        },
        battle_counts={m: {o: float(N[i, j]) for j, o in enumerate(models) if j != i} for i, m in enumerate(models)},
        predicted_win_rate=None
        if predicted is None
        else {m: {o: float(predicted[i, j]) for j, o in enumerate(models) if j != i} for i, m in enumerate(models)},
    )
    return out


def _ci(r: dict[str, Any]) -> str | None:
    if r["ci_low"] is None:
        return None
    if r["rating"] is None:
        return f"[{r['ci_low']:.0f}, {r['ci_high']:.0f}]"
    return f"{r['ci_low'] - r['rating']:+.0f} / {r['ci_high'] - r['rating']:+.0f}"


def _vs(v: Any) -> str:
    return v if isinstance(v, str) else f"{v:.3f}"


class ArenaReporter:
    kinds: ClassVar[set[str]] = {"arena"}

    def build(self, log_path: Path) -> dict[str, Any]:
        return fold(Path(log_path))

    def render(self, report: dict[str, Any], console: Any) -> None:
        from rich.text import Text

        rows = report.get("leaderboard") or []
        base = report.get("baseline")
        columns = [
            Column("Rank", "rank"),
            Column("Model", "model"),
            Column("Rating", "rating", "{:.0f}"),
            Column("95% CI", _ci),
            Column("Battles", "battles", "{:g}"),
            Column("W/T/L", lambda r: f"{r['wins']:g}/{r['ties']:g}/{r['losses']:g}"),
            Column("Win rate", "win_rate", "{:.3f}"),
        ]
        if base:
            columns.append(
                Column(
                    "vs baseline", lambda r: "(baseline)" if r["model"] == base else r.get("win_rate_vs_baseline"), _vs
                )
            )
        title = "Arena leaderboard (Bradley-Terry, Elo scale" + (", baseline at 1000)" if base else ")")
        console.print(render_table(title, columns, rows))
        matrix = report.get("win_rate_matrix") or {}
        if matrix:
            title = "Win rate of the row model against the column model (ties half)"
            console.print(render_matrix(title, report["models"], lambda m, o: matrix[m].get(o), "{:.3f}"))
        console.print(
            Text(
                f"{report.get('battles_judged', 0)} battles judged ({report.get('games', 0)} games), "
                f"{report.get('judge_failures', 0)} judge failures (left out, never a score); "
                f"bootstrap: {report.get('bootstrap_rounds')} rounds, seed {report.get('seed')}"
                + (
                    f"; both orders agree in {report['position_consistency']:.1%} of battles"
                    if report.get("position_consistency") is not None
                    else ""
                )
                + (f", {report['degenerate_rounds']} without finite ratings" if report.get("degenerate_rounds") else "")
            )
        )
        if report.get("note"):
            console.print(Text(str(report["note"])))


REPORTER = ArenaReporter()
