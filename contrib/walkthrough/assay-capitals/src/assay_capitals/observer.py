"""Step 5: the event observer. It sees every event in seq order, while the run is going on."""

from __future__ import annotations

import sys
from typing import Any

_benchmark: dict[str, str] = {}  # sample_id -> benchmark: a Scored event does not carry the benchmark


def on_event(event: Any, run: Any) -> None:
    body = event.body
    if event.type == "SampleLoaded":
        _benchmark[body.sample_id] = body.benchmark
    elif event.type == "Scored" and _benchmark.get(body.sample_id) == "capitals" and body.value == 0:
        # !r: model output is untrusted text; repr() escapes anything that could drive the terminal
        print(f"capitals miss: {body.sample_id} answered {body.extracted!r}", file=sys.stderr)
