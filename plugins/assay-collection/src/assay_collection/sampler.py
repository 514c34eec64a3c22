"""Seeded samplers over a flattened schema, as EvalScope's (weighted, uniform, stratified).

How many items each leaf gets (``count`` in all): *weighted*, ``int(share * count)``; *uniform*,
``count // leaves``; *stratified*, ``int(size / total size * count)``; the last leaf takes what is
left in each case (EvalScope's rule), and a leaf never gives more items than it has.

Each leaf's items come from the benchmark's own loader through the kernel (its ``args`` are its
dataset_args: subset_list, few_shot_num, prompt_template, filters, ... all apply, and are checked
the same way), so an item is the ``SampleLoaded`` the benchmark would have produced. Which items:
``random.Random(seed).sample`` of the leaf's item positions, kept in file order. The benchmark is
read twice (once to count, once to pick), so memory holds the chosen positions, not the items.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
from assay.api import AssayError
from assay.config import TaskConfig
from assay.loading import is_self_driven, load_samples, open_benchmarks
from assay.events import SampleLoaded
from assay.plugins import PluginHost, host

from .schema import FlatLeaf, Node, flatten

SAMPLERS = ("weighted", "uniform", "stratified")


def _leaf_samples(
    leaf: FlatLeaf, plugins: PluginHost, *, seed: int, dataset_dir: str | None, dataset_hub: str, where: str
) -> Iterator[SampleLoaded]:
    if "repeats" in leaf.args:
        raise AssayError(f"{where}.args.repeats: a collection item is one question; give --repeats to assay eval")
    try:
        cfg = TaskConfig(
            datasets=[leaf.name],
            dataset_args={leaf.name: dict(leaf.args)},
            dataset_dir=dataset_dir,
            dataset_hub=dataset_hub,
            seed=seed,
        )
        benches = open_benchmarks(cfg, plugins)
    except AssayError as exc:
        raise AssayError(f"{where} ({leaf.name}): {exc}") from None
    if is_self_driven(benches[0][2]):
        raise AssayError(f"{where}: {leaf.name} runs itself (no per-question samples); it cannot be in a collection")
    yield from load_samples(cfg, plugins, benches)


def counts(leaves: list[FlatLeaf], sizes: list[int], count: int, sampler: str) -> list[int]:
    want: list[int] = []
    left = count
    total = sum(sizes)
    for i, leaf in enumerate(leaves):
        if i == len(leaves) - 1:
            k = left
        elif sampler == "weighted":
            k = int(leaf.share * count)
        elif sampler == "uniform":
            k = count // len(leaves)
        else:
            k = int(sizes[i] / total * count) if total else 0
        left -= k
        want.append(max(0, min(k, sizes[i])))
    return want


def create(
    root: Node,
    out: str | Path,
    *,
    count: int,
    sampler: str = "weighted",
    seed: int = 42,
    dataset_dir: str | None = None,
    dataset_hub: str = "modelscope",
    plugins: PluginHost | None = None,
) -> list[dict[str, Any]]:
    """Write the collection file; returns one summary per leaf (benchmark, path, share, size, taken)."""
    if sampler not in SAMPLERS:
        raise AssayError(f"--sampler {sampler!r}: expected one of {', '.join(SAMPLERS)}")
    if count < 1:
        raise AssayError(f"--count {count}: expected a whole number >= 1")
    plugins = plugins or host()
    leaves = flatten(root)
    opts = {"seed": seed, "dataset_dir": dataset_dir, "dataset_hub": dataset_hub}
    where = [f"schema leaf {'/'.join([*leaf.path, leaf.name])}" for leaf in leaves]
    sizes = [sum(1 for _ in _leaf_samples(leaf, plugins, where=w, **opts)) for leaf, w in zip(leaves, where)]
    want = counts(leaves, sizes, count, sampler)
    rng = random.Random(seed)
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    summary = []
    index = 0
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for leaf, w, size, k in zip(leaves, where, sizes, want):
                chosen = set(rng.sample(range(size), k))
                for pos, s in enumerate(_leaf_samples(leaf, plugins, where=w, **opts)):
                    if pos not in chosen:
                        continue
                    record = {
                        "index": index,
                        "benchmark": leaf.name,
                        "subset": s.subset,
                        "schema_path": leaf.path,
                        "tags": leaf.tags,
                        "task_type": leaf.task_type,
                        "weight": leaf.share,
                        "sample": msgspec.to_builtins(s),
                    }
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
                    index += 1
                summary.append(
                    {"benchmark": leaf.name, "path": "/".join(leaf.path), "share": leaf.share, "size": size, "taken": k}
                )
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AssayError(f"cannot write {out}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return summary
