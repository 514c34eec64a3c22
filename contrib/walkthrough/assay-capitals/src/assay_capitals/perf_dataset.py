"""Step 7: a perf dataset. `assay perf --dataset capitals` calls it with the run's options and takes as many
prompts as it needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .benchmark import rows


def capital_prompts(options: Any) -> Iterator[list[dict[str, str]]]:
    for row in rows():
        yield [{"role": "user", "content": f"What is the capital of {row['country']}?"}]
