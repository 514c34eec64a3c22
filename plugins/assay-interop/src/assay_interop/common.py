"""What every importer shares: one imported sample, and writing a run of them."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
from assay.api import AssayError
from assay.events import Generated, SampleFailed, SampleLoaded, Scored, Usage


@attrs.define
class Imported:
    """One sample as another harness logged it; ``scores`` maps metric -> value (already a float)."""

    benchmark: str
    subset: str
    local_id: str
    repeat: int = 0
    messages: list[dict[str, Any]] | None = None
    prompt: str | None = None
    choices: list[str] | None = None
    target: Any = None
    metadata: dict[str, Any] = attrs.field(factory=dict)
    category: str | None = None
    scorers: list[str] = attrs.field(factory=list)
    sample_id: str | None = None  # kept from the source when it was an assay id (round trip)
    model: str = ""
    output: str | None = None  # None: never generated
    reasoning: str | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    latency: float | None = None
    scorer: str = ""
    scores: dict[str, float] = attrs.field(factory=dict)
    extracted: dict[str, Any] = attrs.field(factory=dict)  # metric -> extracted answer
    explanation: str | None = None
    error: tuple[str, str] | None = None  # (error type, message): the sample failed

    def bodies(self) -> list[Any]:
        sid = self.sample_id or f"{self.benchmark}/{self.subset}/{self.local_id}" + (
            f"#{self.repeat}" if self.repeat else ""
        )
        out: list[Any] = [
            SampleLoaded(
                sample_id=sid,
                benchmark=self.benchmark,
                subset=self.subset,
                category=self.category,
                local_id=self.local_id,
                repeat=self.repeat,
                prompt=self.prompt,
                messages=self.messages,
                choices=self.choices,
                target=self.target,
                metadata=self.metadata,
                scorers=self.scorers,
            )
        ]
        if self.output is not None:
            out.append(
                Generated(
                    sample_id=sid,
                    model=self.model,
                    output=self.output,
                    reasoning=self.reasoning,
                    usage=self.usage,
                    finish_reason=self.finish_reason,
                    latency=self.latency,
                )
            )
        for metric, value in self.scores.items():
            out.append(
                Scored(
                    sample_id=sid,
                    scorer=self.scorer,
                    metric=metric,
                    value=value,
                    extracted=self.extracted.get(metric),
                    target=self.target,
                    explanation=self.explanation,
                    benchmark=self.benchmark,
                    subset=self.subset,
                )
            )
        if self.error is not None and not self.scores:
            out.append(
                SampleFailed(
                    sample_id=sid,
                    stage="generate" if self.output is None else "score",
                    error_type=self.error[0],
                    message=self.error[1],
                    benchmark=self.benchmark,
                    subset=self.subset,
                )
            )
        return out


def name_part(text: Any) -> str:
    """A benchmark, subset or id usable inside an assay sample id (no '/')."""
    return re.sub(r"[/\s]+", "_", str(text)).strip("_") or "default"


def as_float(value: Any, where: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    raise AssayError(f"{where}: score {value!r} is not a finite number")


def write_run(
    samples: Iterable[Imported],
    *,
    source: str,
    path: Path,
    model: str,
    work_dir: str | None,
    name: str | None,
    reported: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the imported samples as a new eval run; the source is recorded in RunStarted."""
    from assay.config import from_dict
    from assay.lifecycle import RunLifecycle
    from assay.plugins import host

    samples = list(samples)
    if not samples:
        raise AssayError(f"{path}: no samples found to import")
    benchmarks = sorted({s.benchmark for s in samples})
    cfg = from_dict({"model": model, "datasets": benchmarks, **({"work_dir": work_dir} if work_dir else {})})
    config = cfg.to_dict()
    imported = {"format": source, "path": str(path.resolve())}
    if reported is not None:
        imported["reported"] = reported  # the source tool's own figures, for comparison
    plugins = host()
    with RunLifecycle(plugins, cfg, work_dir=cfg.work_dir, name=name) as life:
        life.start(
            kind="eval",
            config=config,
            resolved={**config, "model_id": model, "imported_from": imported},
            seed=cfg.seed,
        )
        batch: list[Any] = []
        for s in samples:
            batch.extend(s.bodies())
            if len(batch) >= 1024:
                life.run.emit_many(batch)
                batch = []
        life.run.emit_many(batch)
    return life.report or {}


def chunks(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for it in items:
        batch.append(it)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch
