"""The implementation behind assay_general_mcq (see the package docstring)."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

from assay.api import AssayError, BenchmarkArgs
from assay_datasets import locate
from assay_mcq import MCQBenchmark, MCQItem, read_csv_dicts, read_jsonl

__version__ = "0.1.0"

EXTS = (".csv", ".jsonl")


def _rows(path: Path) -> Any:
    if path.suffix == ".jsonl":
        for line, obj in read_jsonl(path):
            yield line, {str(k).strip().lower(): v for k, v in obj.items()}
    else:
        yield from read_csv_dicts(path, required=("question", "answer"))


def read_file(path: Path, subset: str) -> list[MCQItem]:
    items = []
    seen: set[str] = set()
    for line, row in _rows(path):
        where = f"{path}:{line}"
        for key in ("question", "answer"):
            if key not in row:
                raise AssayError(f"{where}: missing key {key!r}")
        letters = []
        for ch in string.ascii_lowercase:
            if ch not in row:
                break
            letters.append(ch)
        if len(letters) < 2:
            raise AssayError(f"{where}: needs option columns A and B at least (found {', '.join(k for k in row)})")
        choices = ["" if row[ch] is None else str(row[ch]) for ch in letters]
        while choices and not choices[-1].strip():
            choices.pop()
        if any(not c.strip() for c in choices):
            raise AssayError(
                f"{where}: option {string.ascii_uppercase[[c.strip() for c in choices].index('')]} is empty but a later one is not"
            )
        if len(choices) < 2:
            raise AssayError(f"{where}: fewer than two non-empty options")
        answer = str(row["answer"]).strip().upper()
        valid = string.ascii_uppercase[: len(choices)]
        if len(answer) != 1 or answer not in valid:
            raise AssayError(f"{where}: answer {row['answer']!r} is not one of the option letters {', '.join(valid)}")
        rid = str(row.get("id") if row.get("id") is not None else "").strip() or f"line{line}"
        if rid in seen:
            raise AssayError(f"{where}: duplicate id {rid!r}")
        seen.add(rid)
        extra = {k: row[k] for k in ("explanation", "category") if row.get(k)}
        items.append(
            MCQItem(
                id=rid,
                question=str(row["question"]),
                choices=choices,
                answer=valid.index(answer),
                subject=subset,
                source=where,
                extra=extra,
            )
        )
    return items


class GeneralMCQ(MCQBenchmark):
    name = "general_mcq"
    default_few_shot = 0
    splits = ("val", "test")
    default_split = "val"
    few_shot_split = "dev"

    def __init__(self, args: BenchmarkArgs) -> None:
        if not args.local_path:
            raise AssayError(
                f"{args.name}: dataset_args.{args.name}.local_path is required (a folder of <subset>_val.csv / .jsonl files, or one file)"
            )
        super().__init__(args)
        self._files: dict[str, dict[str, Path]] = {}

    def root(self, args: BenchmarkArgs) -> Path:
        return locate(args)

    def subjects(self, root: Path) -> list[str]:
        files: dict[str, dict[str, Path]] = {}
        if root.is_file():
            if root.suffix not in EXTS:
                raise AssayError(f"{root}: expected a .csv or .jsonl file")
            subset = root.stem
            for sfx in ("_val", "_test"):
                subset = subset.removesuffix(sfx)
            files[subset] = {self.split: root}
            for ext in EXTS:
                dev = root.with_name(f"{subset}_dev{ext}")
                if dev.exists():
                    files[subset]["dev"] = dev
                    break
        else:
            for p in sorted(root.iterdir()):
                if p.suffix not in EXTS:
                    continue
                for split in ("val", "test", "dev"):
                    if p.stem.endswith(f"_{split}"):
                        files.setdefault(p.stem[: -len(split) - 1], {}).setdefault(split, p)
            files = {s: f for s, f in files.items() if self.split in f}
            if not files:
                raise AssayError(f"{root}: no <subset>_{self.split}.csv or <subset>_{self.split}.jsonl files")
        self._files = files
        return sorted(files)

    def read_items(self, root: Path, subject: str, split: str) -> list[MCQItem]:
        path = self._files[subject].get(split)
        if path is None:
            if split == self.few_shot_split:
                raise AssayError(
                    f"general_mcq: few_shot_num > 0 but no {subject}_dev.csv / .jsonl next to the {subject} questions in {root}"
                )
            raise AssayError(f"general_mcq: no {subject}_{split} file in {root}")
        return read_file(path, subject)
