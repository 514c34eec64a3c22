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


def test_schema_text_does_not_depend_on_docstring_indentation():
    # msgspec 0.23 stopped keeping docstring indentation; the committed schema must not care
    import msgspec

    from assay.events import _normalise_text

    class Indented(msgspec.Struct):
        """First line.

        Second paragraph,
            wrapped."""

    class Flat(msgspec.Struct):
        """First line.

        Second paragraph, wrapped."""

    def text(t):
        return _normalise_text(msgspec.json.schema(t))["$defs"][t.__name__]["description"]

    assert text(Indented) == text(Flat) == "First line.\n\nSecond paragraph, wrapped."
