"""IFEval: 541 prompts, each with one or more verifiable instructions.

``input_data.jsonl`` rows: ``key``, ``prompt``, ``instruction_id_list``, ``kwargs`` (one
dict per instruction). Every row's checkers are built at load time, so an unknown
instruction id or bad kwargs fails the load naming the file and line.

Scores (per sample; the report's means are the official figures):

- ``prompt_level_strict_acc`` / ``prompt_level_loose_acc``: 1 when every instruction is followed.
- ``inst_level_strict_acc`` / ``inst_level_loose_acc``: one Score per instruction, so the
  report's mean over Scored events is the official instruction-level accuracy
  (followed instructions / all instructions).

Reasoning (``<think>...</think>``) is removed before checking (:func:`assay.text.split_reasoning`);
the event keeps the raw output.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample, Score, check_prompt_template, select_subsets, zero_shot
from assay_datasets import locate, read_jsonl
from assay.events import Generated, SampleLoaded
from assay.text import split_reasoning

from .instructions import KwargsError, build, follows_loose, follows_strict

HUB_ID = {"modelscope": "opencompass/ifeval", "huggingface": "google/IFEval"}  # EvalScope's id; input_data.jsonl


class IFEval:
    name = "ifeval"
    default_scorers: ClassVar[list[str]] = ["ifeval"]
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "few_shot_num", "prompt_template", "system_prompt")

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        zero_shot(args)
        check_prompt_template(args, ("prompt",))
        select_subsets(args, ["default"])

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        base = locate(args, "ifeval", "IFEval", hub_id=HUB_ID)
        path = base / "input_data.jsonl" if base.is_dir() else base
        if not path.exists():
            raise AssayError(f"ifeval: {path} not found (expected input_data.jsonl in {base})")
        for no, row in read_jsonl(path):
            where = f"{path}:{no}"
            for key in ("key", "prompt", "instruction_id_list", "kwargs"):
                if key not in row:
                    raise AssayError(f"{where}: missing key {key!r}")
            ids, kwargs = row["instruction_id_list"], row["kwargs"]
            if not isinstance(ids, list) or not isinstance(kwargs, list) or len(ids) != len(kwargs):
                raise AssayError(f"{where}: 'instruction_id_list' and 'kwargs' must be lists of the same length")
            for iid, kw in zip(ids, kwargs):
                try:
                    build(iid, kw)
                except KwargsError as exc:
                    raise AssayError(f"{where}: {exc}") from None
            text = row["prompt"]
            if args.prompt_template:
                text = args.prompt_template.format(prompt=text)  # (checked when opened)
            messages = ([{"role": "system", "content": args.system_prompt}] if args.system_prompt else []) + [
                {"role": "user", "content": text}
            ]
            yield Sample(
                id=str(row["key"]),
                messages=messages,
                metadata={"instruction_id_list": ids, "kwargs": kwargs},
            )


class IFEvalScorer:
    """Also IFBench's scorer (``assay_ifbench``), which sets ``build`` to its own registry's."""

    build = staticmethod(build)

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        ids = sample.metadata.get("instruction_id_list")
        kwargs = sample.metadata.get("kwargs")
        if not isinstance(ids, list) or not isinstance(kwargs, list):
            raise TypeError(f"{sample.sample_id}: metadata lacks instruction_id_list/kwargs (not an IFEval sample?)")
        response = split_reasoning(generated.output)[0]
        strict, loose = [], []
        for iid, kw in zip(ids, kwargs):
            inst = self.build(iid, kw)
            strict.append(follows_strict(inst, response))
            loose.append(follows_loose(inst, response))
        failed_s = [i for i, ok in zip(ids, strict) if not ok]
        failed_l = [i for i, ok in zip(ids, loose) if not ok]
        out = [
            Score(
                "prompt_level_strict_acc",
                float(all(strict)),
                extracted=failed_s,
                explanation=f"not followed (strict): {failed_s or 'none'}",
            ),
            Score(
                "prompt_level_loose_acc",
                float(all(loose)),
                extracted=failed_l,
                explanation=f"not followed (loose): {failed_l or 'none'}",
            ),
        ]
        out += [Score("inst_level_strict_acc", float(ok), extracted=iid) for iid, ok in zip(ids, strict)]
        out += [Score("inst_level_loose_acc", float(ok), extracted=iid) for iid, ok in zip(ids, loose)]
        return out


SCORER = IFEvalScorer()  # the instance registered by name (imported on first use)
