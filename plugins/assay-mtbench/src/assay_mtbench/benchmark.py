"""The implementation behind assay_mtbench (see the package docstring).

Follows FastChat's ``fastchat/llm_judge`` (``gen_model_answer.py``, ``gen_judgment.py``, ``common.py``,
``show_result.py``): the per-category sampling temperatures, reference answers for math, reasoning and
coding, the four single-answer prompts, the ``[[rating]]`` pattern with its ``[rating]`` fallback, and
means per turn and overall. Where assay differs: a turn whose rating cannot be read is a judge failure,
and the sample (both turns) is left out of every score and counted (FastChat drops the -1 rating of that
turn only); a judge's ``prompt_template`` is ignored here (MT-Bench needs four prompts).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import anyio
from assay.api import AssayError, BenchmarkArgs, Sample, Score, select_subsets
from assay_datasets import locate, read_jsonl
from assay_judge import parse_rating, render_template
from assay_reportkit.tables import Column, TableReporter

from .prompts import PROMPTS

QUESTIONS = "question.jsonl"
REFERENCES = "reference_answer/gpt-4.jsonl"
CATEGORIES = ["writing", "roleplay", "reasoning", "math", "coding", "extraction", "stem", "humanities"]
# gen_model_answer.py's temperature_config: the answering model's temperature per category
TEMPERATURE = {
    "writing": 0.7,
    "roleplay": 0.7,
    "extraction": 0.0,
    "math": 0.0,
    "coding": 0.0,
    "reasoning": 0.0,
    "stem": 0.1,
    "humanities": 0.1,
}
NEED_REF = {"math", "reasoning", "coding"}  # common.NEED_REF_CATS
METRICS = ("turn_1", "turn_2", "score")


def _subsets(args: BenchmarkArgs) -> list[str]:
    return select_subsets(args, CATEGORIES)


def _references(path: Path) -> dict[int, list[str]]:
    refs: dict[int, list[str]] = {}
    for line, obj in read_jsonl(path):
        try:
            turns = obj["choices"][0]["turns"]
            qid = int(obj["question_id"])
        except (KeyError, IndexError, TypeError, ValueError):
            raise AssayError(f"{path}:{line}: expected question_id and choices[0].turns") from None
        if not (isinstance(turns, list) and len(turns) == 2 and all(isinstance(t, str) for t in turns)):
            raise AssayError(f"{path}:{line}: choices[0].turns must be two strings")
        refs[qid] = turns
    return refs


class MTBench:
    """``question.jsonl`` (question_id, category, turns: two user messages) and GPT-4's reference answers
    (``reference_answer/gpt-4.jsonl``); subsets: the 8 categories; id: the question id."""

    name = "mt_bench"
    # FastChat ships these files in its repository, not on a dataset hub in this layout: local files only
    hub_id = None
    default_scorers: ClassVar[list[str]] = ["mt_bench_judge"]
    honours: ClassVar[tuple[str, ...]] = ("subset_list",)

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        wanted = set(_subsets(args))
        root = locate(args, "mt_bench", hub_id=self.hub_id)
        path = root / QUESTIONS if root.is_dir() else root
        if not path.exists():
            raise AssayError(f"mt_bench: no {QUESTIONS} in {root}")
        ref_path = path.parent / REFERENCES
        refs = _references(ref_path) if ref_path.exists() else {}
        rows: dict[str, list[Sample]] = {c: [] for c in CATEGORIES}
        for line, obj in read_jsonl(path):
            turns, cat, qid = obj.get("turns"), obj.get("category"), obj.get("question_id")
            if not isinstance(qid, int) or isinstance(qid, bool):
                raise AssayError(f"{path}:{line}: question_id must be an integer")
            if cat not in TEMPERATURE:
                raise AssayError(f"{path}:{line}: unknown category {cat!r}; known: {CATEGORIES}")
            if not (isinstance(turns, list) and len(turns) == 2 and all(isinstance(t, str) for t in turns)):
                raise AssayError(f"{path}:{line}: turns must be a list of two strings")
            if cat not in wanted:
                continue
            reference = None
            if cat in NEED_REF:
                if qid not in refs:
                    raise AssayError(
                        f"{path}:{line}: question {qid} ({cat}) needs GPT-4's reference answer, "
                        f"and {ref_path} has none for it"
                    )
                reference = refs[qid]
            rows[cat].append(
                Sample(
                    id=str(qid),
                    subset=cat,
                    messages=[{"role": "user", "content": turns[0]}],
                    follow_ups=[turns[1]],
                    metadata={
                        "turns": turns,
                        "reference": reference,
                        "generation_config": {"temperature": TEMPERATURE[cat]},
                    },
                )
            )
        for cat in CATEGORIES:  # category by category, so that --limit takes the first of each
            yield from rows[cat]


class Judge:
    """Rates both turns, each with its own FastChat prompt, concurrently; both must be read for a score."""

    def __init__(self) -> None:
        # common.one_score_pattern and its backup; FastChat reads any number there (no range check)
        self.parse = parse_rating(r"\[\[(\d+\.?\d*)\]\]", backup=r"\[(\d+\.?\d*)\]")

    def prompts(self, sample: Any, answers: list[str]) -> list[list[dict[str, str]]]:
        turns = sample.metadata["turns"]
        ref = sample.metadata.get("reference")
        fields: dict[str, str] = {}
        if ref:
            fields = {"ref_answer_1": ref[0], "ref_answer_2": ref[1]}
        first, second = (
            ("single-math-v1", "single-math-v1-multi-turn") if ref else ("single-v1", "single-v1-multi-turn")
        )
        out = []
        for name, values in (
            (first, {"question": turns[0], "answer": answers[0]}),
            (
                second,
                {"question_1": turns[0], "question_2": turns[1], "answer_1": answers[0], "answer_2": answers[1]},
            ),
        ):
            system, template = PROMPTS[name]
            out.append(
                [
                    {"role": "system", "content": system},
                    {"role": "user", "content": render_template(template, **values, **fields)},
                ]
            )
        return out

    async def score(self, sample: Any, generated: Any, judge: Any) -> list[Score]:
        answers = list(generated.turn_outputs)
        if len(answers) != 2:
            raise AssayError(f"mt_bench needs two answers, the log has {len(answers)} (turn_outputs)")
        results: list[Any] = [None, None]

        async def rate(turn: int, messages: list[dict[str, str]]) -> None:
            results[turn] = await judge.ask(sample, messages, parse=self.parse, key=f"turn{turn + 1}")

        async with anyio.create_task_group() as tg:  # both turns at once (judge_worker_num bounds the calls)
            for turn, messages in enumerate(self.prompts(sample, answers)):
                tg.start_soon(rate, turn, messages)
        t1, t2 = (float(r.require().value) for r in results)  # JudgeFailed when either turn has no rating
        return [
            Score(metric="turn_1", value=t1, extracted=f"{t1:g}"),
            Score(metric="turn_2", value=t2, extracted=f"{t2:g}"),
            Score(metric="score", value=(t1 + t2) / 2),
        ]


SCORER = Judge()


# ---- show_result: a projection of the log --------------------------------------------------------


def fold(path: Path) -> dict[str, Any]:
    """Per category and overall: the mean first-turn, second-turn and overall rating (show_result.py's
    "First turn", "Second turn" and "Average"), the judged count and the judge failures."""
    from assay.log import iter_events

    sums: dict[str, list[float]] = {}  # category -> [sum turn_1, sum turn_2, judged, judge failures]
    for ev in iter_events(path, types={"Scored", "SampleFailed"}):
        b = ev.body
        if (b.benchmark or b.sample_id.split("/", 1)[0]) != "mt_bench":
            continue
        acc = sums.setdefault(b.subset, [0.0, 0.0, 0, 0])
        if ev.type == "Scored" and b.metric in ("turn_1", "turn_2"):
            acc[0 if b.metric == "turn_1" else 1] += b.value
            if b.metric == "turn_1":
                acc[2] += 1
        elif ev.type == "SampleFailed" and b.stage == "judge":
            acc[3] += 1
    order = {c: i for i, c in enumerate(CATEGORIES)}
    rows = [_row(cat, acc) for cat, acc in sorted(sums.items(), key=lambda kv: order.get(kv[0], 99))]
    if rows:
        total = [sum(acc[i] for acc in sums.values()) for i in range(4)]
        rows.append(_row("OVERALL", total))
    return {
        "rows": rows,
        "formula": "FastChat show_result: mean rating per turn and over both turns, over the judged questions "
        "(a question with a turn the judge could not rate is left out and counted as a judge failure)",
    }


def _row(category: str, acc: list[float]) -> dict[str, Any]:
    n = int(acc[2])
    return {
        "category": category,
        "judged": n,
        "judge_failures": int(acc[3]),
        "turn_1": acc[0] / n if n else None,
        "turn_2": acc[1] / n if n else None,
        "average": (acc[0] + acc[1]) / (2 * n) if n else None,
    }


class MTBenchReporter(TableReporter):
    title = "MT-Bench (single-answer grading, 1-10; judge failures left out)"
    columns = (
        Column("Category", "category"),
        Column("First turn", "turn_1", "{:.4f}"),
        Column("Second turn", "turn_2", "{:.4f}"),
        Column("Average", "average", "{:.4f}"),
        Column("Judged", "judged"),
        Column("Judge failures", "judge_failures"),
    )
    projection = fold


REPORTER = MTBenchReporter()
