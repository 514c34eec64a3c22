"""schemas/ holds the JSON Schema generated from the msgspec types; drift fails here."""

from __future__ import annotations

import json
from pathlib import Path

from assay.events import BodyRegistry, json_schema

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "events.schema.json"


def test_committed_schema_matches_the_code():
    committed = json.loads(SCHEMA.read_text())
    current = json.loads(json.dumps(json_schema(BodyRegistry()), sort_keys=True))
    assert committed == current, "event schema drifted: regenerate with `assay schema > schemas/events.schema.json`"


def test_schema_names_every_core_body():
    committed = json.loads(SCHEMA.read_text())
    for name in ("RunStarted", "SampleLoaded", "Generated", "Scored", "RequestTimed", "SampleFailed", "RunFinished"):
        assert name in committed["x-bodies"]
