"""Helpers of assay-ray's tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

import json
from pathlib import Path

SECOND_RESOURCE = "assay_second"  # the custom resource of the cluster's second node


def events(run_dir: Path) -> list[dict]:
    with open(run_dir / "events.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]
