"""BIG-Bench Hard (Suzgun et al., 2022): 27 tasks, each a subset.

Files: ``bbh/<task>.json`` (``{"canary", "examples": [{"input", "target"}]}``) and
``cot-prompts/<task>.txt`` (canary line, ``-----``, the task description, then three
``Q: ... A: Let's think step by step. ... So the answer is X.`` exemplars, blank-line
separated). The prompt is the official one: the prompt file's text after ``-----``, then
``\\n\\nQ: {input}\\nA: Let's think step by step.``. ``few_shot_num`` (0-3, default 3)
keeps the first N exemplars.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample, select_subsets
from assay_datasets import locate, read_json, read_text

from .extract import MULTIPLE_CHOICE, TASKS

HUB_ID = {"modelscope": "evalscope/bbh", "huggingface": "lukaemon/bbh"}  # EvalScope's id; the BBH JSON layout

ANSWER_CUE = "A: Let's think step by step."


def parse_cot_prompt(text: str, where: str) -> tuple[str, list[str]]:
    """(description, exemplars) of a cot-prompts file."""
    if "-----" not in text:
        raise AssayError(f"{where}: expected a '-----' line after the canary")
    body = text.split("-----", 1)[1].strip("\n")
    parts = body.split("\n\nQ: ")
    description = parts[0].strip()
    exemplars = ["Q: " + p.strip("\n") for p in parts[1:]]
    if description.startswith("Q: "):  # no description line
        exemplars.insert(0, description)
        description = ""
    for i, ex in enumerate(exemplars, 1):
        if "\nA: " not in ex or "So the answer is" not in ex:
            raise AssayError(f"{where}: exemplar {i} has no 'A: ... So the answer is' part")
    return description, exemplars


def build_prompt(description: str, exemplars: list[str], question: str, template: str | None = None) -> str:
    head = "\n\n".join([p for p in [description, *exemplars] if p])
    if template:
        try:
            return template.format(fewshot=head, question=question)
        except (KeyError, IndexError) as exc:
            raise AssayError(
                f"bbh: prompt_template names an unknown field {exc}; available: {{fewshot}}, {{question}}"
            ) from None
    return (head + "\n\n" if head else "") + f"Q: {question}\n{ANSWER_CUE}"


class BBH:
    name = "bbh"
    default_scorers: ClassVar[list[str]] = ["bbh_exact_match"]
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "few_shot_num", "prompt_template", "system_prompt")

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        n = 3 if args.few_shot_num is None else args.few_shot_num
        if not 0 <= n <= 3:
            raise AssayError(
                f"dataset_args.bbh.few_shot_num must be 0-3 (the official prompts have 3 exemplars), got {n}"
            )
        self.shots = n
        select_subsets(args, TASKS, noun="task")

    def _root(self) -> Path:
        base = locate(self.args, "bbh", "BIG-Bench-Hard", hub_id=HUB_ID)
        for cand in (base, base / "bbh"):
            if (cand / "bbh").is_dir() and (cand / "cot-prompts").is_dir():
                return cand
        raise AssayError(
            f"bbh: {base} must hold bbh/<task>.json and cot-prompts/<task>.txt (the suzgunmirac/BIG-Bench-Hard layout)"
        )

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        root = self._root()
        for task in args.subset_list or TASKS:
            data_file = root / "bbh" / f"{task}.json"
            prompt_file = root / "cot-prompts" / f"{task}.txt"
            for f in (data_file, prompt_file):
                if not f.exists():
                    raise AssayError(f"bbh: {f} not found")
            description, exemplars = parse_cot_prompt(read_text(prompt_file), str(prompt_file))
            data = read_json(data_file)
            examples = data.get("examples") if isinstance(data, dict) else None
            if not isinstance(examples, list):
                raise AssayError(f"{data_file}: expected an object with an 'examples' list")
            if not examples:
                raise AssayError(f"{data_file}: holds no samples ('examples' is empty)")
            for i, ex in enumerate(examples):
                if not isinstance(ex, dict) or "input" not in ex or "target" not in ex:
                    raise AssayError(f"{data_file}: examples[{i}] needs 'input' and 'target'")
                text = build_prompt(description, exemplars[: self.shots], ex["input"], args.prompt_template)
                messages = ([{"role": "system", "content": args.system_prompt}] if args.system_prompt else []) + [
                    {"role": "user", "content": text}
                ]
                yield Sample(
                    id=str(i),
                    subset=task,
                    messages=messages,
                    target=str(ex["target"]),
                    category="multiple_choice" if task in MULTIPLE_CHOICE else "free_form",
                    metadata={"task": task},
                )
