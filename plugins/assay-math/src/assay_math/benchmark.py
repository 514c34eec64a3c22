"""MATH: the 5,000-problem test split of Hendrycks et al.'s competition math set.

Three layouts are read (the first found under the data folder wins):

1. the original release: ``test/<type>/<n>.json``, each ``{"problem", "level", "type",
   "solution"}`` (``MATH/`` from hendrycks/math's tarball); the id is ``test/<type>/<n>.json``
   as in PRM800K / MATH-500;
2. one row a problem (a hub snapshot such as EvalScope's ``evalscope/competition_math``):
   ``test*.jsonl`` or ``test*.parquet`` with ``problem``, ``level``, ``type``, ``solution``
   (``unique_id`` if present);
3. OpenAI simple-evals' ``math_test.csv`` (``,Question,Answer``: the problem and the final
   answer only, no level, type or solution: the file in ../shared/datasets). Its problems are
   one subset, ``default``.

The target is the content of the solution's last ``\\boxed{}`` (the MATH reference
``remove_boxed(last_boxed_only_string(solution))``), or the CSV's ``Answer``. Subsets: the
levels ``Level 1``..``Level 5`` (EvalScope's), or with ``group_by: type`` the seven types.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample, check_extra_args, select_split, select_subsets, zero_shot
from assay_datasets import locate, read_csv_dicts, read_json, read_jsonl, read_parquet
from assay_mathkit import MATH_LEVELS, MATH_SUBJECTS, chat_messages, format_prompt, last_boxed

# EvalScope's competition_math PROMPT_TEMPLATE (0-shot)
PROMPT = "Problem:\n{question}\n\nPlease reason step by step, and put your final answer within \\boxed{{}}.\n"
LEVELS = MATH_LEVELS
TYPES = MATH_SUBJECTS  # MATH's seven subjects
GROUP_BY = ("level", "type")
HUB_ID = "evalscope/competition_math"
CSV_SUBSET = "default"


def _text(row: dict[str, Any], key: str, where: str) -> str:
    v = row.get(key)
    if not isinstance(v, str) or not v.strip():
        raise AssayError(f"{where}: missing or empty {key!r} (has: {', '.join(sorted(row)) or 'nothing'})")
    return v


def _problem(row: dict[str, Any], where: str, uid: str) -> dict[str, Any]:
    """One row of layouts 1 and 2 -> fields; the answer is the solution's last box."""
    solution = _text(row, "solution", where)
    answer = last_boxed(solution)
    if answer is None:
        raise AssayError(f"{where}: the solution has no \\boxed{{}} answer")
    level = _text(row, "level", where).strip()
    return {
        "id": str(row.get("unique_id") or uid),
        "problem": _text(row, "problem", where),
        "answer": answer,
        "level": level,
        "type": _text(row, "type", where).strip(),
        "source": where,
    }


def read_problems(root: Path) -> tuple[str, Iterator[dict[str, Any]]]:
    """(layout name, problems) of the test split under ``root`` (a folder or one file)."""
    if root.is_file():
        files = [root]
    else:
        json_dirs = sorted(p for p in root.rglob("test") if p.is_dir() and any(p.glob("*/*.json")))
        if json_dirs:
            return "json", _from_json_tree(json_dirs[0])
        files = sorted(root.rglob("test*.jsonl")) or sorted(root.rglob("test*.parquet")) or sorted(root.rglob("*.csv"))
        if not files:
            raise AssayError(f"math: no test/<type>/<n>.json, test*.jsonl, test*.parquet or math_test.csv under {root}")
    path = files[0]
    if path.suffix == ".csv":
        return "csv", _from_csv(path)
    if path.suffix == ".parquet":
        return "rows", (_problem(row, f"{path}:{n}", f"line{n}") for n, row in read_parquet(path))
    return "rows", (_problem(row, f"{path}:{n}", f"line{n}") for n, row in read_jsonl(path))


def _from_json_tree(test_dir: Path) -> Iterator[dict[str, Any]]:
    for f in sorted(test_dir.glob("*/*.json"), key=lambda p: (p.parent.name, int(p.stem) if p.stem.isdigit() else 0)):
        row = read_json(f)
        if not isinstance(row, dict):
            raise AssayError(f"{f}:1: expected a JSON object, got {type(row).__name__}")
        yield _problem(row, f"{f}:1", f"test/{f.parent.name}/{f.name}")


def _from_csv(path: Path) -> Iterator[dict[str, Any]]:
    for line, row in read_csv_dicts(path, required=("question", "answer"), rename={"": "index"}):
        where = f"{path}:{line}"
        yield {
            "id": row.get("index") or f"line{line}",
            "problem": _text(row, "question", where),
            "answer": _text(row, "answer", where).strip(),
            "level": None,
            "type": None,
            "source": where,
        }


class MATH:
    name = "math"
    hub_id = HUB_ID
    default_scorers: ClassVar[list[str]] = ["math_acc"]
    honours: ClassVar[tuple[str, ...]] = (
        "subset_list",
        "few_shot_num",
        "prompt_template",
        "eval_split",
        "system_prompt",
    )
    extra_args: ClassVar[tuple[str, ...]] = ("group_by",)

    def __init__(self, args: BenchmarkArgs) -> None:
        check_extra_args(args, self.extra_args)
        self.args = args
        self.group_by = str(args.extra.get("group_by", "level"))
        if self.group_by not in GROUP_BY:
            raise AssayError(
                f"dataset_args.{args.name}.group_by = {self.group_by!r}: expected one of {', '.join(GROUP_BY)}"
            )
        zero_shot(args)
        select_split(args, ("test",))
        known = LEVELS if self.group_by == "level" else TYPES
        select_subsets(args, [*known, CSV_SUBSET], where=f"group_by={self.group_by}")

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        root = locate(args, "math", "competition_math", "MATH", hub_id=self.hub_id)
        layout, problems = read_problems(root)
        wanted = set(args.subset_list or [])
        if layout == "csv" and wanted - {CSV_SUBSET}:
            raise AssayError(
                f"{args.name}: subset_list {sorted(wanted)} needs levels and types, which the simple-evals CSV "
                f"under {root} does not have (question and answer only; its one subset is {CSV_SUBSET!r}). "
                "Point at the original MATH release or a hub copy to group by level or type."
            )
        out = []
        for p in problems:
            if layout == "csv":
                subset = CSV_SUBSET
            else:
                subset = p["level"] if self.group_by == "level" else p["type"]
            if wanted and subset not in wanted:
                continue
            text = format_prompt(args.prompt_template, PROMPT, question=p["problem"])
            meta = {"level": p["level"], "type": p["type"], "source": p["source"], "layout": layout}
            out.append(
                Sample(
                    id=p["id"],
                    subset=subset,
                    messages=chat_messages(text, args.system_prompt),
                    target=p["answer"],
                    metadata=meta,
                )
            )
        # grouped by subset (levels or types in their order; "Level ?" and other names after)
        order = LEVELS if self.group_by == "level" else TYPES
        out.sort(key=lambda s: (order.index(s.subset) if s.subset in order else len(order), s.subset))
        return iter(out)


class CompetitionMATH(MATH):
    name = "competition_math"
