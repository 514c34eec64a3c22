"""Step 4: the reporter, a fold over the log read through the kernel's reader (assay.log.iter_events)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay.log import iter_events


class ByContinent:
    kinds = {"eval"}

    def build(self, log_path: Path) -> dict[str, Any]:
        continent: dict[str, str] = {}  # sample_id -> continent, from SampleLoaded (always logged first)
        right: dict[str, list[float]] = {}
        for event in iter_events(log_path, types=["SampleLoaded", "Scored"]):
            body = event.body
            if event.type == "SampleLoaded" and body.benchmark == "capitals":
                continent[body.sample_id] = body.metadata.get("continent", "?")
            elif event.type == "Scored" and body.scorer == "capital" and body.sample_id in continent:
                right.setdefault(continent[body.sample_id], []).append(body.value)
        # a sample with no score (it errored) counts as wrong, as in the kernel's report
        loaded: dict[str, int] = {}
        for name in continent.values():
            loaded[name] = loaded.get(name, 0) + 1
        return {
            "continents": {name: {"num": n, "acc": sum(right.get(name, [])) / n} for name, n in sorted(loaded.items())}
        }

    def render(self, report: dict[str, Any], console: Any) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table(title="capitals: accuracy per continent")
        for column in ("Continent", "Num", "Acc"):
            table.add_column(column)
        for name, row in report["continents"].items():
            # Text(), not a markup string: what comes from data is never read as Rich markup
            table.add_row(Text(name), str(row["num"]), f"{row['acc']:.4f}")
        console.print(table)


REPORTER = ByContinent()
