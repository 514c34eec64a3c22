"""The implementation behind assay_arena_hard (see the package docstring)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import anyio
from assay.api import AssayError, BenchmarkArgs, Sample, Score, select_subsets
from assay_datasets import locate, read_jsonl
from assay_judge import JudgeFailed, pairwise_outcome, parse_pairwise, render_template
from assay_reportkit.tables import Column, TableReporter, fixed
from assay.text import split_reasoning

from .prompts import CREATIVE_WRITING_PROMPT, PROMPT_TEMPLATE, SYSTEM_PROMPT

VERSIONS = {
    # version: (folder, subsets); a subset's baseline model (JUDGE_SETTINGS in utils/judge_utils.py)
    "v0.1": ("arena-hard-v0.1", ["arena-hard-v0.1"]),
    "v2.0": ("arena-hard-v2.0", ["hard_prompt", "creative_writing"]),
}
BASELINES = {
    "arena-hard-v0.1": "gpt-4-0314",
    "hard_prompt": "o3-mini-2025-01-31",
    "creative_writing": "gemini-2.0-flash-001",
}
STRONG_WEIGHT = 3  # show_result.py: a [[A>>B]] verdict is 3 battles
BOOTSTRAP_ROUNDS = 100  # show_result.py --num-rounds


def _version(args: BenchmarkArgs) -> str:
    version = str(args.extra.get("version", "v0.1"))
    if version not in VERSIONS:
        raise AssayError(f"dataset_args.arena_hard.version: {version!r} is not one of {', '.join(VERSIONS)}")
    return version


def _answer_text(row: dict[str, Any]) -> str | None:
    """The answer in an official model_answer row: ``messages[-1].content.answer`` (the current layout) or
    ``choices[0].turns[0].content`` (the v0.1-era layout)."""
    msgs = row.get("messages")
    if isinstance(msgs, list) and msgs and isinstance(msgs[-1], dict):
        content = msgs[-1].get("content")
        if isinstance(content, dict):
            content = content.get("answer")
        return content if isinstance(content, str) else None
    choices = row.get("choices")
    try:
        text = choices[0]["turns"][0]["content"]  # type: ignore[index]
    except (TypeError, KeyError, IndexError):
        return None
    return text if isinstance(text, str) else None


def load_answers(path: Path) -> tuple[str | None, dict[str, str]]:
    """``(model, {uid: answer})`` from an official ``model_answer/<model>.jsonl``."""
    answers: dict[str, str] = {}
    model = None
    for line, row in read_jsonl(path):
        uid = row.get("uid", row.get("question_id"))
        text = _answer_text(row)
        if not isinstance(uid, str) or text is None:
            raise AssayError(
                f"{path}:{line}: not an Arena-Hard model answer (needs uid and messages[-1].content.answer, "
                "or question_id and choices[0].turns[0].content)"
            )
        model = model or row.get("model") or row.get("model_id")
        answers[uid] = text
    return model, answers


def _baseline_file(args: BenchmarkArgs, folder: Path, subset: str) -> Path:
    given = args.extra.get("baseline_answers")
    if isinstance(given, dict):
        given = given.get(subset)
    if given:
        path = Path(str(given)).expanduser()
        if not path.exists():
            raise AssayError(f"dataset_args.arena_hard.baseline_answers: {path} does not exist")
        return path
    path = folder / "model_answer" / f"{BASELINES[subset]}.jsonl"
    if not path.exists():
        raise AssayError(
            f"arena_hard: {subset} is judged against {BASELINES[subset]}'s answers, and {path} does not exist. "
            "Put the official file there (lmarena/arena-hard-auto data/<version>/model_answer/) or give "
            '--dataset-args \'{"arena_hard": {"baseline_answers": {"' + subset + '": "PATH.jsonl"}}}\''
        )
    return path


class ArenaHard:
    """``<version>/question.jsonl`` (uid, category, prompt; v0.1 cluster, v2.0 subcategory) and the
    baseline's ``<version>/model_answer/<baseline>.jsonl``. Subsets: v0.1 ``arena-hard-v0.1``; v2.0 the
    official categories ``hard_prompt`` (categories coding, math) and ``creative_writing``."""

    name = "arena_hard"
    hub_id = "AI-ModelScope/arena-hard-auto-v0.1"
    default_scorers: ClassVar[list[str]] = ["arena_hard_judge"]
    honours: ClassVar[tuple[str, ...]] = ("subset_list",)
    extra_args: ClassVar[list[str]] = ["version", "baseline_answers", "strong_weight", "bootstrap_rounds"]

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        version = _version(args)
        folder_name, known = VERSIONS[version]
        chosen = select_subsets(args, known, where=f"version {version}")
        weight = args.extra.get("strong_weight", STRONG_WEIGHT)
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
            raise AssayError(f"dataset_args.arena_hard.strong_weight must be an integer >= 1, got {weight!r}")
        root = locate(args, "arena_hard", hub_id=self.hub_id)
        folder = root / folder_name if (root / folder_name).is_dir() else root
        qfile = folder / "question.jsonl"
        if not qfile.exists():
            raise AssayError(f"arena_hard: no question.jsonl in {folder}")
        rows: dict[str, list[dict[str, Any]]] = {s: [] for s in known}
        for line, row in read_jsonl(qfile):
            missing = [k for k in ("uid", "category", "prompt") if not isinstance(row.get(k), str)]
            if missing:
                raise AssayError(f"{qfile}:{line}: missing or non-text field(s) {', '.join(missing)}")
            if row["category"] not in rows:
                raise AssayError(f"{qfile}:{line}: category {row['category']!r} is not one of {known}")
            rows[row["category"]].append(row)
        for subset in known:
            if subset not in chosen:
                continue
            bfile = _baseline_file(args, folder, subset)
            model, answers = load_answers(bfile)
            lacking = [r["uid"] for r in rows[subset] if r["uid"] not in answers]
            if lacking:
                raise AssayError(
                    f"{bfile}: no baseline answer for {len(lacking)} of the {len(rows[subset])} {subset} "
                    f"questions (first: {lacking[0]})"
                )
            baseline = model or BASELINES[subset]
            for row in rows[subset]:
                creative = row.get("subcategory") == "creative_writing"
                yield Sample(
                    id=row["uid"],
                    subset=subset,
                    category=row.get("subcategory") if version == "v2.0" else None,
                    messages=[{"role": "user", "content": row["prompt"]}],
                    metadata={
                        "question": row["prompt"],
                        "cluster": row.get("cluster"),
                        "baseline": baseline,
                        "baseline_answer": answers[row["uid"]],
                        "judge_prompt": "creative_writing" if creative else "arena_hard",
                        "strong_weight": weight,
                    },
                )


class ArenaHardJudge:
    """Two games per question, as gen_judgment.py plays them: game 1 shows the baseline as A and the model as
    B, game 2 swaps them. The verdict is the last ``[[...]]`` (else ``[...]``) label in the judge's reply;
    a reply with none, or a failed call, in either game makes the sample judge-failed (show_result.py drops
    such a question whole). ``win_rate``: the model's mean over its two games (1 won, 0.5 tie, 0 lost);
    the labels go in ``extracted`` for the report section."""

    def __init__(self) -> None:
        self.parse = parse_pairwise()

    async def score(self, sample: Any, generated: Any, judge: Any) -> list[Score]:
        meta = sample.metadata
        answer, _ = split_reasoning(generated.output)
        baseline, base_answer = meta["baseline"], meta["baseline_answer"]
        system = CREATIVE_WRITING_PROMPT if meta.get("judge_prompt") == "creative_writing" else SYSTEM_PROMPT
        template = judge.prompt_template(PROMPT_TEMPLATE)
        model = generated.model or "model"
        games = {"game1": ("AB", base_answer, answer), "game2": ("BA", answer, base_answer)}
        results: dict[str, Any] = {}

        async def play(key: str) -> None:
            order, a, b = games[key]
            user = render_template(template, QUESTION=meta["question"], ANSWER_A=a, ANSWER_B=b)
            results[key] = await judge.ask(
                sample,
                [{"role": "system", "content": system}, {"role": "user", "content": user}],
                parse=self.parse,
                key=key,
                order=order,
                candidates=[baseline, model],
            )

        async with anyio.create_task_group() as tg:
            for key in games:
                tg.start_soon(play, key)
        bad = [f"{k}: {results[k].reason}" for k in games if not results[k].ok]
        if bad:
            raise JudgeFailed("; ".join(bad))
        labels = {k: results[k].label for k in games}
        # pairwise_outcome gives candidates[0]'s (the baseline's) score; the model's is the rest
        won = [1.0 - pairwise_outcome(labels[k], games[k][0])[0] for k in games]
        return [
            Score(
                metric="win_rate",
                value=sum(won) / 2,
                extracted={**labels, "baseline": baseline, "strong_weight": meta.get("strong_weight", STRONG_WEIGHT)},
            )
        ]


SCORER = ArenaHardJudge()


# ---- the official score: a projection of the log -------------------------------------------


def battle_scores(labels: dict[str, str], weight: int) -> list[float]:
    """The model's battles against the baseline from one question, as show_result.py expands them:
    game 2's verdict (model shown as A) then game 1's (baseline as A, so 1 - score); a strong verdict
    is ``weight`` battles."""
    out: list[float] = []
    for key, order in (("game2", "BA"), ("game1", "AB")):
        base_score, strong = pairwise_outcome(labels[key], order)
        out += [1.0 - base_score] * (weight if strong else 1)
    return out


def score_of(battles: list[float]) -> float:
    """The Bradley-Terry win rate against the baseline. With one opponent the maximum-likelihood fit makes the
    predicted win rate equal to the share of points won (ties half), so this is that mean (exact, and
    defined at 0 and 1 where the rating is not finite)."""
    return sum(battles) / len(battles)


def elo_of(p: float) -> float | None:
    """The rating against the baseline anchored at 1000 (scale 400, base 10); None when not finite."""
    if p <= 0.0 or p >= 1.0:
        return None
    return 1000.0 + 400.0 * math.log10(p / (1.0 - p))


def bootstrap_ci(battles: list[float], rounds: int, seed: int) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of the score over ``rounds`` resamplings of the battles (the v0.1
    show_result.py: ``battles.sample(frac=1.0, replace=True)``), numpy's ``default_rng(seed)``."""
    import numpy as np

    arr = np.asarray(battles, dtype=float)
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, len(arr), size=(rounds, len(arr)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def fold(path: Path) -> dict[str, Any]:
    from assay.log import iter_events

    seed, rounds, model = 0, BOOTSTRAP_ROUNDS, None
    per: dict[str, dict[str, Any]] = {}
    for ev in iter_events(path, types={"RunStarted", "Scored", "SampleFailed"}):
        b = ev.body
        if ev.type == "RunStarted":
            cfg = b.config or {}
            seed = b.seed if b.seed is not None else int(cfg.get("seed") or 0)
            args = (cfg.get("dataset_args") or {}).get("arena_hard") or {}
            rounds = int(args.get("bootstrap_rounds", BOOTSTRAP_ROUNDS))
            model = cfg.get("model_id") or cfg.get("model")
            continue
        if (b.benchmark or b.sample_id.split("/", 1)[0]) != "arena_hard":
            continue
        row = per.setdefault(
            b.subset, {"battles": [], "judged": 0, "judge_failures": 0, "games": [0, 0, 0], "baseline": None}
        )
        if ev.type == "Scored" and b.metric == "win_rate" and isinstance(b.extracted, dict):
            ex = b.extracted
            row["judged"] += 1
            row["baseline"] = row["baseline"] or ex.get("baseline")
            row["battles"] += battle_scores(ex, int(ex.get("strong_weight", STRONG_WEIGHT)))
            for key, order in (("game1", "AB"), ("game2", "BA")):
                s = 1.0 - pairwise_outcome(ex[key], order)[0]
                row["games"][0 if s == 1.0 else 1 if s == 0.5 else 2] += 1
        elif ev.type == "SampleFailed" and b.stage == "judge":
            row["judge_failures"] += 1
    rows = []
    for subset, r in sorted(per.items()):
        battles = r["battles"]
        score = score_of(battles) if battles else None
        lo, hi = bootstrap_ci(battles, rounds, seed) if battles else (None, None)
        rows.append(
            {
                "dataset": "arena_hard",
                "subset": subset,
                "model": model,
                "baseline": r["baseline"],
                "score": score,
                "ci_low": lo,
                "ci_high": hi,
                "elo": elo_of(score) if score is not None else None,
                "battles": len(battles),
                "judged": r["judged"],
                "judge_failures": r["judge_failures"],
                "game_wins": r["games"][0],
                "game_ties": r["games"][1],
                "game_losses": r["games"][2],
            }
        )
    return {
        "rows": rows,
        "bootstrap_rounds": rounds,
        "seed": seed,
        "formula": "Arena-Hard show_result.py: per question 2 games (baseline as A, then swapped), a strong verdict "
        "([[A>>B]]) counts strong_weight times; score = Bradley-Terry win rate against the baseline (baseline "
        "50% / Elo 1000) = share of battle points won (ties half); 95% CI: percentiles 2.5/97.5 of the score over "
        "bootstrap resamplings of the battles (seeded); judge-failed questions are left out and counted",
    }


def _ci(r: dict[str, Any]) -> str | None:
    if r["ci_low"] is None:
        return None
    return f"(-{100 * (r['score'] - r['ci_low']):.1f} / +{100 * (r['ci_high'] - r['score']):.1f})"


class ArenaHardReporter(TableReporter):
    title = "Arena-Hard score (win rate against the baseline, %; judge failures left out)"
    columns = (
        Column("Model", lambda r: r["model"] or "-"),
        Column("Subset", "subset"),
        Column("Baseline", lambda r: r["baseline"] or "-"),
        Column("Score", "score", fixed(1, 100)),
        Column("95% CI", _ci),
        Column("Elo", "elo", "{:.0f}"),
        Column("Judged", "judged"),
        Column("Judge failures", "judge_failures"),
        Column("W/T/L", lambda r: f"{r['game_wins']}/{r['game_ties']}/{r['game_losses']}"),
    )
    projection = fold


REPORTER = ArenaHardReporter()
