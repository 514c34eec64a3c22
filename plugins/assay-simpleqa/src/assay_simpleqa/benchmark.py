"""The implementation behind assay_simpleqa (see the package docstring)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample, Score, check_prompt_template, select_subsets
from assay_datasets import locate, read_csv_dicts, read_jsonl
from assay_judge import parse_label, render_template
from assay_reportkit.tables import Column, TableReporter

from .prompts import CHINESE_SIMPLEQA_GRADER, SIMPLEQA_GRADER

SIMPLEQA_FILE = "simple_qa_test_set.csv"
CHINESE_FILE = "chinese_simpleqa.jsonl"
# Chinese SimpleQA's primary categories, the subsets (in EvalScope's order)
CATEGORIES = ["中华文化", "人文与社会科学", "工程、技术与应用科学", "生活、艺术与文化", "社会", "自然与自然科学"]
GRADES = {"A": "CORRECT", "B": "INCORRECT", "C": "NOT_ATTEMPTED"}
METRICS = ("is_correct", "is_incorrect", "is_not_attempted")


def _file(args: BenchmarkArgs, name: str, file: str, hub_id: str) -> Path:
    root = locate(args, name, hub_id=hub_id)
    path = root / file if root.is_dir() else root
    if not path.exists():
        raise AssayError(f"{name}: no {file} in {root}")
    return path


def _subsets(args: BenchmarkArgs, known: list[str]) -> list[str]:
    return select_subsets(args, known)


def _prompt(args: BenchmarkArgs, question: str) -> str:
    """``dataset_args.<name>.prompt_template`` (``{question}``) is the whole prompt; the bare question otherwise."""
    return question if args.prompt_template is None else args.prompt_template.format(question=question)


class SimpleQA:
    """``simple_qa_test_set.csv`` (``metadata`` a Python dict literal, ``problem``, ``answer``); id: row index."""

    name = "simple_qa"
    hub_id = "AI-ModelScope/SimpleQA"
    default_scorers: ClassVar[list[str]] = ["simpleqa_grader"]
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "prompt_template")

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        check_prompt_template(args, ("question",))

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        _subsets(args, ["default"])
        path = _file(args, "simple_qa", SIMPLEQA_FILE, self.hub_id)
        for index, (line, row) in enumerate(
            read_csv_dicts(path, required=("metadata", "problem", "answer"), extra_ok=True)
        ):
            try:
                meta = ast.literal_eval(row["metadata"]) if row["metadata"].strip() else {}
            except (ValueError, SyntaxError):
                raise AssayError(f"{path}:{line}: metadata is not a Python dict literal") from None
            if not isinstance(meta, dict):
                raise AssayError(f"{path}:{line}: metadata is not a Python dict literal")
            question = row["problem"]
            yield Sample(
                id=str(index),
                prompt=None,
                messages=[{"role": "user", "content": _prompt(args, question)}],
                target=row["answer"],
                metadata={
                    "question": question,
                    "topic": meta.get("topic"),
                    "answer_type": meta.get("answer_type"),
                    "urls": meta.get("urls", []),
                },
            )


class ChineseSimpleQA:
    """``chinese_simpleqa.jsonl`` (id, primary_category, secondary_category, question, answer, urls);
    subsets: the 6 primary categories."""

    name = "chinese_simpleqa"
    hub_id = "AI-ModelScope/Chinese-SimpleQA"
    default_scorers: ClassVar[list[str]] = ["chinese_simpleqa_grader"]
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "prompt_template")

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        check_prompt_template(args, ("question",))

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        wanted = set(_subsets(args, CATEGORIES))
        path = _file(args, "chinese_simpleqa", CHINESE_FILE, self.hub_id)
        rows: dict[str, list[Sample]] = {c: [] for c in CATEGORIES}
        for line, obj in read_jsonl(path):
            missing = [k for k in ("id", "primary_category", "question", "answer") if not isinstance(obj.get(k), str)]
            if missing:
                raise AssayError(f"{path}:{line}: missing or non-text field(s) {', '.join(missing)}")
            cat = obj["primary_category"]
            if cat not in rows:
                raise AssayError(f"{path}:{line}: unknown primary_category {cat!r}")
            if cat not in wanted:
                continue
            rows[cat].append(
                Sample(
                    id=obj["id"],
                    subset=cat,
                    messages=[{"role": "user", "content": _prompt(args, obj["question"])}],
                    target=obj["answer"],
                    metadata={
                        "question": obj["question"],
                        "secondary_category": obj.get("secondary_category"),
                        "urls": obj.get("urls", []),
                    },
                )
            )
        for cat in CATEGORIES:  # subset by subset, so that --limit takes the first of each
            yield from rows[cat]


class Grader:
    """The official grader: the judge sees the template filled with question, gold target and the answer,
    and replies A, B or C (the first ``(A|B|C)`` in its reply, the official regex). Unlike the official
    code, a reply with no A, B or C is a judge failure (never defaulted to NOT_ATTEMPTED)."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.parse = parse_label(r"(A|B|C)")

    async def score(self, sample: Any, generated: Any, judge: Any) -> list[Score]:
        prompt = render_template(
            judge.prompt_template(self.template),
            question=sample.metadata.get("question", ""),
            target=sample.target,
            predicted_answer=generated.output,
        )
        result = (await judge.ask(sample, prompt, parse=self.parse, key="grade")).require()
        grade = result.label
        return [
            Score(metric=m, value=float(grade == letter), extracted=GRADES.get(grade or "", grade))
            for m, letter in zip(METRICS, "ABC")
        ]


SIMPLEQA_SCORER = Grader(SIMPLEQA_GRADER)
CHINESE_SCORER = Grader(CHINESE_SIMPLEQA_GRADER)


# ---- the simple-evals aggregates: a projection of the log ----------------------------------


def aggregates(correct: int, incorrect: int, not_attempted: int) -> dict[str, float | None]:
    """simple-evals' aggregate metrics, computed as simpleqa_eval.py does (means over the graded samples).
    With no graded sample there is nothing to report: every figure is None (never a 0)."""
    n = correct + incorrect + not_attempted
    if n == 0:
        return dict.fromkeys(
            ("is_correct", "is_incorrect", "is_not_attempted", "is_given_attempted", "accuracy_given_attempted", "f1")
        )
    is_correct = correct / n if n else 0.0
    is_incorrect = incorrect / n if n else 0.0
    attempted = is_correct + is_incorrect
    acc = is_correct / attempted if attempted > 0 else 0.0
    f1 = 2 * acc * is_correct / (acc + is_correct) if (acc + is_correct) > 0 else 0.0
    return {
        "is_correct": is_correct,
        "is_incorrect": is_incorrect,
        "is_not_attempted": not_attempted / n if n else 0.0,
        "is_given_attempted": attempted,
        "accuracy_given_attempted": acc,
        "f1": f1,
    }


def fold(path: Path) -> dict[str, Any]:
    from assay.log import iter_events

    counts: dict[tuple[str, str], list[int]] = {}  # (benchmark, subset) -> [A, B, C, judge failures]
    for ev in iter_events(path, types={"Scored", "SampleFailed"}):
        b = ev.body
        bench = b.benchmark or b.sample_id.split("/", 1)[0]
        if bench not in ("simple_qa", "chinese_simpleqa"):
            continue
        c = counts.setdefault((bench, b.subset), [0, 0, 0, 0])
        if ev.type == "Scored" and b.metric in METRICS and b.value == 1.0:
            c[METRICS.index(b.metric)] += 1
        elif ev.type == "SampleFailed" and b.stage == "judge":
            c[3] += 1
    rows = []
    by_bench: dict[str, list[int]] = {}
    for (bench, subset), c in sorted(counts.items()):
        rows.append(_row(bench, subset, c))
        total = by_bench.setdefault(bench, [0, 0, 0, 0])
        for i in range(4):
            total[i] += c[i]
    for bench, c in sorted(by_bench.items()):
        if sum(1 for b, _ in counts if b == bench) > 1:
            rows.append(_row(bench, "OVERALL", c))
    return {
        "rows": rows,
        "formula": "simple-evals: accuracy_given_attempted = correct / (correct + incorrect); "
        "f1 = 2 * accuracy_given_attempted * is_correct / (accuracy_given_attempted + is_correct); "
        "over the judged samples (judge failures are left out and counted)",
    }


def _row(bench: str, subset: str, c: list[int]) -> dict[str, Any]:
    return {
        "dataset": bench,
        "subset": subset,
        "judged": c[0] + c[1] + c[2],
        "correct": c[0],
        "incorrect": c[1],
        "not_attempted": c[2],
        "judge_failures": c[3],
        **aggregates(c[0], c[1], c[2]),
    }


class SimpleQAReporter(TableReporter):
    title = "SimpleQA aggregates (simple-evals; judge failures left out)"
    columns = (
        Column("Dataset", "dataset"),
        Column("Subset", "subset"),
        Column("Judged", "judged"),
        Column("Judge failures", "judge_failures"),
        Column("Correct", "is_correct", "{:.4f}"),
        Column("Given attempted", "is_given_attempted", "{:.4f}"),
        Column("Acc|attempted", "accuracy_given_attempted", "{:.4f}"),
        Column("F1", "f1", "{:.4f}"),
    )
    projection = fold


REPORTER = SimpleQAReporter()
