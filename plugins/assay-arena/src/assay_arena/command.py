"""``assay arena``: judge pairwise battles between runs' logged generations, in a run of its own."""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import shlex
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from assay.api import AssayError

SCORER = "arena"


def register(cli: Any) -> None:
    @cli.command("arena", help="judged pairwise battles between runs' generations; Bradley-Terry (Elo) leaderboard")
    def arena(args: argparse.Namespace) -> int:
        return run_arena(args)

    @arena.arguments
    def _(p: argparse.ArgumentParser) -> None:
        from assay_judge import add_judge_arguments

        p.add_argument("runs", nargs="*", help="eval run directories (two or more, with --baseline one or more)")
        p.add_argument(
            "--baseline", help="a run directory: its model anchors the ratings at 1000; win rates against it"
        )
        p.add_argument(
            "--pairs",
            choices=["all", "baseline"],
            default="all",
            help="which pairs battle: every pair of runs (default) or each run against --baseline only",
        )
        p.add_argument("--resume", metavar="ARENA_RUN", help="finish an interrupted arena run (no verdict asked twice)")
        p.add_argument("--rounds", type=int, default=1000, help="bootstrap rounds for the rating intervals (1000)")
        p.add_argument(
            "--strong-weight", type=int, default=1, help="battles a [[A>>B]] verdict counts as (Arena-Hard: 3)"
        )
        p.add_argument("--seed", type=int, default=42, help="bootstrap seed (42)")
        p.add_argument("--work-dir", default="./outputs", help="where the arena run directory goes (./outputs)")
        p.add_argument("--name", help="the arena run's directory name (default: a fresh run id)")
        p.add_argument("--retries", type=int, help="retries of a failed judge call (default 3)")
        p.add_argument("--timeout", type=float, help="seconds per judge call attempt")
        p.add_argument("--limit", type=int, help="at most this many shared prompts per pair (the first, by sample id)")
        add_judge_arguments(p)


# ---- the runs --------------------------------------------------------------------


def _question(sample: Any) -> str:
    """The prompt the judge is shown: the user message, or the conversation as ``role: content`` lines."""
    msgs = sample.messages or []
    if len(msgs) == 1 and isinstance(msgs[0].get("content"), str):
        return msgs[0]["content"]
    if msgs:
        return "\n\n".join(f"{m.get('role', 'user')}: {m.get('content', '')}" for m in msgs)
    return sample.prompt or ""


def _digest(sample: Any) -> str:
    return hashlib.sha256(json.dumps([sample.messages, sample.prompt], sort_keys=True).encode()).hexdigest()


def read_run(path: str) -> dict[str, Any]:
    """A source run's model and, per sample id, its prompt and logged answer."""
    from assay.log import existing_log, iter_events

    log = existing_log(path)
    started = None
    run_id = log.parent.name
    loaded: dict[str, Any] = {}
    generated: dict[str, str] = {}
    for ev in iter_events(log, types={"RunStarted", "SampleLoaded", "Generated"}):
        b = ev.body
        if ev.type == "RunStarted" and started is None:
            started, run_id = b, ev.run_id
        elif ev.type == "SampleLoaded":
            loaded[b.sample_id] = b
        elif ev.type == "Generated":
            generated[b.sample_id] = b.output
    if started is None:
        raise AssayError(f"{log}: the log has no RunStarted event")
    if started.kind != "eval":
        raise AssayError(f"{log}: an arena compares eval runs, this is a {started.kind!r} run")
    cfg = started.config or {}
    model = (started.resolved or {}).get("model_id") or cfg.get("model_id") or cfg.get("model") or "model"
    return {
        "path": str(log.parent),
        "run_id": run_id,
        "model": str(model),
        "loaded": loaded,
        "generated": generated,
    }


def _labels(runs: list[dict[str, Any]]) -> list[str]:
    names = [r["model"] for r in runs]
    return [n if names.count(n) == 1 else f"{n}@{r['run_id']}" for n, r in zip(names, runs)]


def plan(runs: list[dict[str, Any]], labels: list[str], pairs: str, baseline: int | None, limit: int | None):
    """The battles: ``(battle id, sample, label a, answer a, label b, answer b)`` per shared prompt of each
    pair, and per pair how many prompts it battles on, how many share an id but differ, and how many only
    one of the two runs answered (left out)."""
    from assay.text import split_reasoning

    battles = []
    differ: dict[str, dict[str, int]] = {}
    for i, j in itertools.combinations(range(len(runs)), 2):
        if pairs == "baseline" and baseline not in (i, j):
            continue
        if baseline == j:  # the baseline is candidates[0]
            i, j = j, i
        ra, rb = runs[i], runs[j]
        shared = sorted(set(ra["generated"]) & set(rb["generated"]) & set(ra["loaded"]) & set(rb["loaded"]))
        same = [s for s in shared if _digest(ra["loaded"][s]) == _digest(rb["loaded"][s])]
        chosen = same[:limit] if limit else same
        differ[f"{labels[i]} vs {labels[j]}"] = {
            "prompts": len(chosen),  # battled on
            "prompts_differ": len(shared) - len(same),  # same sample id, another prompt: left out
            "only_one_answered": len(
                (set(ra["generated"]) ^ set(rb["generated"])) & (set(ra["loaded"]) | set(rb["loaded"]))
            ),
        }
        for sid in chosen:
            a, _ = split_reasoning(ra["generated"][sid])
            b, _ = split_reasoning(rb["generated"][sid])
            battles.append((f"{sid}::{labels[i]}::{labels[j]}", ra["loaded"][sid], labels[i], a, labels[j], b))
    return battles, differ


# ---- the arena run ---------------------------------------------------------------------


def run_arena(args: argparse.Namespace) -> int:
    from assay.config import from_dict
    from assay.resume import config_from_log, read_log
    from assay_judge import judge_flags, judge_specs
    from assay.lifecycle import RunLifecycle
    from assay.plugins import host
    from assay.redact import remember
    from assay.report import render

    plugins = host()
    flags = {k: v for k, v in judge_flags(args).items() if v is not None}
    for k in ("retries", "timeout"):
        if getattr(args, k) is not None:
            flags[k] = getattr(args, k)
    remember(flags)
    done: set[str] = set()
    if args.resume:
        if args.runs or args.baseline:
            raise AssayError("--resume takes the arena run only: its runs and settings are in its log")
        path, state = read_log(args.resume, plugins)
        if state.started.kind != "arena":
            raise AssayError(f"{path}: not an arena run")
        cfg = config_from_log(state.started, flags)
        settings = dict(state.started.resolved["arena"])
        reuse = state.judged
        done = set(state.scored)
        life_kwargs: dict[str, Any] = {"run_dir": path.parent, "run_id": state.run_id}
    else:
        paths = list(args.runs)
        if args.baseline and os.path.abspath(args.baseline) not in [os.path.abspath(p) for p in paths]:
            paths.insert(0, args.baseline)
        if len(paths) < 2:
            raise AssayError("an arena needs two or more runs (assay arena RUN_A RUN_B ... [--baseline RUN])")
        if args.pairs == "baseline" and not args.baseline:
            raise AssayError("--pairs baseline needs --baseline RUN")
        if args.rounds < 1 or args.strong_weight < 1:
            raise AssayError("--rounds and --strong-weight must be >= 1")
        cfg = from_dict(
            {"model": "arena", "work_dir": args.work_dir, "seed": args.seed, **flags}, source="command line"
        )
        settings = {
            "runs": [str(Path(p)) for p in paths],
            "baseline": (
                next(i for i, p in enumerate(paths) if os.path.abspath(p) == os.path.abspath(args.baseline))
                if args.baseline
                else None
            ),
            "pairs": args.pairs,
            "rounds": args.rounds,
            "strong_weight": args.strong_weight,
            "limit": args.limit,
        }
        reuse = {}
        life_kwargs = {"work_dir": cfg.work_dir, "name": args.name}
    if not judge_specs(cfg):
        raise AssayError(
            'an arena is judged: pass --judge-model-args \'{"model_id": "NAME", "api_url": "http://HOST/v1", '
            '"api_key": "..."}\' (any model backend can judge)'
        )
    runs = [read_run(p) for p in settings["runs"]]
    labels = _labels(runs)
    battles, differ = plan(runs, labels, settings["pairs"], settings["baseline"], settings.get("limit"))
    if not battles:
        raise AssayError("the runs share no generated prompt: nothing to judge (are they runs of the same benchmark?)")
    todo = [b for b in battles if b[0] not in done]
    with RunLifecycle(plugins, cfg, fsync_interval=cfg.fsync_interval, **life_kwargs) as life:
        try:
            if args.resume:
                from assay.events import RunResumed
                from assay.run import host_facts

                life.run.emit(RunResumed(host=host_facts(), pending_score=len(todo)))
                print(f"resuming {life.run_dir}: {len(todo)} of {len(battles)} battles to judge", file=sys.stderr)
            else:
                settings.update(models=labels, run_ids=[r["run_id"] for r in runs], pairs_prompts=differ)
                life.start(kind="arena", config=cfg.to_dict(), resolved={"arena": settings}, seed=cfg.seed)
                print(f"arena: {len(labels)} models, {len(battles)} battles (2 games each)", file=sys.stderr)
            from assay.evaluate import run_async

            run_async(_judge_all, cfg, plugins, life.run, todo, reuse)
        except BaseException as exc:
            try:
                exc.assay_resume = f"assay arena --resume {shlex.quote(str(life.run_dir))}"  # type: ignore[attr-defined]
            except AttributeError:
                pass
            raise
    report = life.report or {}
    render(report, plugins)
    section = (report.get("sections") or {}).get("arena") or {}
    return 3 if section.get("judge_failures") else 0


async def _judge_all(cfg: Any, plugins: Any, run: Any, battles: list, reuse: dict) -> None:
    import anyio
    from assay_judge import Judge

    judge = Judge(cfg, plugins, run, reuse=reuse)
    try:
        send, receive = anyio.create_memory_object_stream(0)

        async def worker(inbox: Any) -> None:
            async with inbox:
                async for battle in inbox:
                    run.emit_many(await _battle(judge, battle))

        async with anyio.create_task_group() as tg:
            for _ in range(min(len(battles), max(1, cfg.judge_worker_num))):
                tg.start_soon(worker, receive.clone())
            receive.close()
            async with send:
                for battle in battles:
                    await send.send(battle)
    finally:
        await judge.aclose()
        run.flush()


async def _battle(judge: Any, battle: tuple) -> list[Any]:
    """Both games of one battle: game 1 shows candidates[0] as A, game 2 swaps them. Either game failing
    makes the battle judge-failed (as Arena-Hard drops a question whole)."""
    import anyio
    from assay.events import SampleFailed, Scored
    from assay_judge import pairwise_outcome, parse_pairwise, render_template
    from assay_arena_hard.prompts import PROMPT_TEMPLATE, SYSTEM_PROMPT

    bid, sample, la, a, lb, b = battle
    ref = SimpleNamespace(sample_id=bid, benchmark=sample.benchmark, subset=sample.subset)
    question = _question(sample)
    template = judge.prompt_template(PROMPT_TEMPLATE)
    games = {"game1": ("AB", a, b), "game2": ("BA", b, a)}
    results: dict[str, Any] = {}
    parse = parse_pairwise()

    async def play(key: str) -> None:
        order, first, second = games[key]
        user = render_template(template, QUESTION=question, ANSWER_A=first, ANSWER_B=second)
        results[key] = await judge.ask(
            ref,
            [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}],
            parse=parse,
            scorer=SCORER,
            key=key,
            order=order,
            candidates=[la, lb],
        )

    async with anyio.create_task_group() as tg:
        for key in games:
            tg.start_soon(play, key)
    bad = [f"{k}: {results[k].reason}" for k in games if not results[k].ok]
    if bad:
        return [
            SampleFailed(
                sample_id=bid,
                stage="judge",
                error_type="JudgeFailed",
                message=f"{la} vs {lb}: " + "; ".join(bad),
                benchmark=sample.benchmark,
                subset=sample.subset,
            )
        ]
    out = []
    for key in games:
        label, order = results[key].label, games[key][0]
        value, strong = pairwise_outcome(label, order)
        out.append(
            Scored(
                sample_id=bid,
                scorer=SCORER,
                metric=key,
                value=value,
                extracted={"a": la, "b": lb, "label": label, "order": order, "strong": strong},
                benchmark=sample.benchmark,
                subset=sample.subset,
            )
        )
    return out
