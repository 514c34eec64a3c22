"""ProcessBench: the benchmark and its per-sample scorer.

Files: ``gsm8k.json`` (400), ``math.json``, ``olympiadbench.json``, ``omnimath.json`` (1,000
each), as QwenLM/ProcessBench committed them (also the layout of the hub's ``Qwen/ProcessBench``):
a JSON list of ``{"id", "generator", "problem", "steps": [...], "final_answer_correct",
"label"}``, ``label`` = index of the earliest erroneous step, -1 when every step is right.

Prompt: the official ``critique_template`` with the steps tagged ``<paragraph_i>``
(``prepare_input_boxed``). Answer: the last ``\\boxed{...}`` of the reply (the official
regex ``\\\\boxed\\{([^}]*)\\}``), as an integer; anything else is no answer (wrong).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample, Score, check_extra_args, select_subsets, zero_shot
from assay_datasets import locate, read_text
from assay.events import Generated, SampleLoaded
from assay.text import split_reasoning

SUBSETS = ["gsm8k", "math", "olympiadbench", "omnimath"]
HUB_ID = "Qwen/ProcessBench"  # EvalScope's dataset id
TEMPLATE = """The following is a math problem and a solution (split into paragraphs, enclosed with tags and indexed from 0):

[Math Problem]

{problem}

[Solution]

{tagged_response}

Your task is to review and critique the solution paragraph by paragraph. Once you identify an error in a paragraph, return the index of the paragraph where the earliest error occurs. Otherwise, return the index of -1 (which typically denotes "not found").

Please put your final answer (i.e., the index) in \\boxed{{}}."""


def tagged(steps: list[str]) -> str:
    out = "".join(f"<paragraph_{i}>\n{step}\n</paragraph_{i}>\n\n" for i, step in enumerate(steps))
    return out.strip()


def read_json_list(path: Path) -> Iterator[tuple[int, Any]]:
    """(line where the item starts, item) of a file holding one JSON list; errors name file:line."""
    text = read_text(path)
    dec = json.JSONDecoder()

    seen = [0, 1]  # (offset, line there): items come in order, so count newlines incrementally

    def line_at(pos: int) -> int:
        if pos >= seen[0]:
            seen[1] += text.count("\n", seen[0], pos)
            seen[0] = pos
            return seen[1]
        return text.count("\n", 0, pos) + 1

    i = len(text) - len(text.lstrip())
    if not text.startswith("[", i):
        raise AssayError(f"{path}:{line_at(i)}: expected a JSON list of objects")
    i += 1
    ws = re.compile(r"\s*")
    n = 0
    while True:
        i = ws.match(text, i).end()
        if text.startswith("]", i):
            break
        if n:
            if not text.startswith(",", i):
                raise AssayError(f"{path}:{line_at(i)}: expected ',' or ']' between list items")
            i = ws.match(text, i + 1).end()
        try:
            obj, end = dec.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise AssayError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        n += 1
        yield line_at(i), obj
        i = end


def to_sample(path: Path, line: int, row: Any, subset: str, args: BenchmarkArgs) -> Sample:
    where = f"{path}:{line}"
    if not isinstance(row, dict):
        raise AssayError(f"{where}: expected an object, found {type(row).__name__}")
    for key in ("id", "problem", "steps", "label"):
        if key not in row:
            raise AssayError(f"{where}: missing key {key!r} (has: {', '.join(sorted(row)) or 'nothing'})")
    steps, label = row["steps"], row["label"]
    if not isinstance(steps, list) or not steps or not all(isinstance(s, str) for s in steps):
        raise AssayError(f"{where}: 'steps' must be a non-empty list of strings")
    if isinstance(label, bool) or not isinstance(label, int) or not -1 <= label < len(steps):
        raise AssayError(f"{where}: 'label' must be -1 or a step index 0..{len(steps) - 1}, got {label!r}")
    if not isinstance(row["problem"], str) or not row["problem"].strip():
        raise AssayError(f"{where}: empty 'problem'")
    fields = {"problem": row["problem"], "tagged_response": tagged(steps)}
    template = args.prompt_template or TEMPLATE
    try:
        text = template.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise AssayError(
            f"dataset_args.{args.name}.prompt_template: cannot fill it ({type(exc).__name__}: {exc}); "
            "placeholders are {problem} and {tagged_response}; write literal braces as {{ }}"
        ) from None
    messages = [{"role": "system", "content": args.system_prompt}] if args.system_prompt else []
    messages.append({"role": "user", "content": text})
    return Sample(
        id=str(row["id"]),
        subset=subset,
        messages=messages,
        target=label,
        metadata={
            "label": label,
            "num_steps": len(steps),
            "generator": row.get("generator"),
            "final_answer_correct": row.get("final_answer_correct"),
            "source": where,
        },
    )


class ProcessBench:
    name = "process_bench"
    hub_id = HUB_ID
    default_scorers: ClassVar[list[str]] = ["process_bench_match"]
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "few_shot_num", "prompt_template", "system_prompt")
    extra_args: ClassVar[tuple[str, ...]] = ()

    def __init__(self, args: BenchmarkArgs) -> None:
        check_extra_args(args, self.extra_args)
        self.args = args
        zero_shot(args)
        select_subsets(args, SUBSETS)

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        root = locate(args, "process_bench", "ProcessBench", hub_id=self.hub_id)
        for subset in args.subset_list or SUBSETS:
            if root.is_file():
                if root.stem != subset:
                    continue
                path = root
            else:
                found = sorted(root.rglob(f"{subset}.json"))
                if len(found) != 1:
                    raise AssayError(
                        f"process_bench: expected one {subset}.json under {root}, found "
                        + (", ".join(map(str, found)) or "none")
                    )
                path = found[0]
            for line, row in read_json_list(path):
                yield to_sample(path, line, row, subset, args)


_BOXED = re.compile(r"\\boxed\{([^}]*)\}")


def extract_index(text: str) -> int | None:
    """The official ``extract_answer`` then ``int(pred)``: the last ``\\boxed{...}`` as an integer."""
    matches = _BOXED.findall(text)
    if not matches:
        return None
    try:
        return int(matches[-1].strip())
    except ValueError:
        return None


class ProcessBenchMatch:
    """``acc``: 1 when the predicted index equals the label. The official figures (accuracy on the
    erroneous samples, on the correct ones, and their F1) are the ``process_bench_f1`` report
    section, which splits these scores by the label recorded in ``SampleLoaded``."""

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        answer, _ = split_reasoning(generated.output)
        pred = extract_index(answer)
        label = int(sample.target)
        why = "no integer in a \\boxed{}" if pred is None else f"predicted {pred}, label {label}"
        return [Score("acc", float(pred == label), extracted=pred, explanation=why)]


SCORER = ProcessBenchMatch()  # the instance registered by name
