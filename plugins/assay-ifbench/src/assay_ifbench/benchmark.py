"""IFBench: 300 prompts (``allenai/IFBench_test``), each with one or two of 58 new verifiable constraints.

Rows: ``key``, ``prompt``, ``instruction_id_list``, ``kwargs`` (one dict per instruction, every
kwarg name of the registry present and ``null`` where unused). Read from the hub snapshot
(``data/train-*.parquet``, the split EvalScope evaluates) or from the JSONL of the official
repository (``IFBench_test.jsonl``). Each row's checkers are built when loading, so an unknown
instruction id or bad kwargs fails the load naming the file and row.

Scoring is IFEval's (:class:`assay_ifeval.benchmark.IFEvalScorer`) over this registry:
``prompt_level_strict_acc``, ``prompt_level_loose_acc`` and one ``inst_level_*`` Score per
instruction, loose with the official eight response variants (allenai/IFBench
``evaluation_lib.py``, the same as IFEval's).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample, check_prompt_template, select_split, select_subsets, zero_shot
from assay_datasets import locate, read_jsonl, read_parquet
from assay_ifeval.benchmark import IFEvalScorer

from .instructions import KwargsError, build

HUB_ID = {"modelscope": "allenai/IFBench_test", "huggingface": "allenai/IFBench_test"}  # EvalScope's dataset_id
HUB_FILES = ["*.jsonl", "*.parquet", "data/*"]
COLUMNS = ("key", "prompt", "instruction_id_list", "kwargs")


def data_file(root: Path) -> Path:
    """The file of a snapshot or directory: ``data/train-*.parquet`` (hub), else one ``*.jsonl``."""
    if root.is_file():
        return root
    found = sorted(root.glob("data/train-*.parquet")) or sorted(root.glob("*.parquet"))
    found = found or sorted(p for p in (root / "IFBench_test.jsonl", *root.glob("*.jsonl")) if p.is_file())
    if not found:
        raise AssayError(
            f"ifbench: no data/train-*.parquet or IFBench_test.jsonl in {root} "
            "(the hub snapshot of allenai/IFBench_test holds data/train-00000-of-00001.parquet)"
        )
    return found[0]


def rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    if path.suffix == ".parquet":
        for i, (_, row) in enumerate(read_parquet(path, COLUMNS)):
            yield f"{path}:row {i}", row
    else:
        for no, row in read_jsonl(path):
            yield f"{path}:{no}", row


class IFBench:
    name = "ifbench"
    hub_id = HUB_ID["modelscope"]
    hf_id = HUB_ID["huggingface"]
    default_scorers: ClassVar[list[str]] = ["ifbench"]
    # dataset_args keys it honours (the kernel rejects shuffle_choices, few_shot_random, ...: no choices, 0-shot)
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "few_shot_num", "prompt_template", "eval_split")

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        zero_shot(args)
        select_subsets(args, ["default"])
        select_split(args, ("train", "test"), "ifbench has one split: the hub calls it 'train'")
        check_prompt_template(args, ("prompt",))

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        path = data_file(locate(args, "ifbench", "IFBench", hub_id=HUB_ID, hub_files=HUB_FILES))
        for where, row in rows(path):
            for key in COLUMNS:
                if key not in row:
                    raise AssayError(f"{where}: missing key {key!r}")
            ids, raw = row["instruction_id_list"], row["kwargs"]
            if not isinstance(ids, list) or not isinstance(raw, list) or len(ids) != len(raw):
                raise AssayError(f"{where}: 'instruction_id_list' and 'kwargs' must be lists of the same length")
            kwargs = []
            for iid, kw in zip(ids, raw):
                if not isinstance(kw, dict):
                    raise AssayError(f"{where}: kwargs of {iid!r} must be an object, got {kw!r}")
                kw = {k: v for k, v in kw.items() if v is not None}  # as the official strict evaluation
                try:
                    build(iid, kw)
                except KwargsError as exc:
                    raise AssayError(f"{where}: {exc}") from None
                kwargs.append(kw)
            text = row["prompt"]
            if args.prompt_template:
                text = args.prompt_template.format(prompt=text)
            messages = ([{"role": "system", "content": args.system_prompt}] if args.system_prompt else []) + [
                {"role": "user", "content": text}
            ]
            yield Sample(
                id=str(row["key"]),
                messages=messages,
                metadata={"instruction_id_list": ids, "kwargs": kwargs, "source": where},
            )


class IFBenchScorer(IFEvalScorer):
    build = staticmethod(build)


SCORER = IFBenchScorer()

__all__ = ["SCORER", "IFBench", "data_file"]
