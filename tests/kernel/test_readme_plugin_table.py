"""README's plugin table is true: each distribution listed registers an entry point, unless the row says it has none."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _table() -> list[tuple[list[str], str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Plugins", 1)[1].split("\n\n", 2)[1]
    rows = []
    for line in section.splitlines()[2:]:
        first, what = line.strip("|").split("|", 1)
        rows.append((re.findall(r"`([\w-]+)`", first), what))
    return rows


def test_the_plugin_table_lists_every_plugin_distribution_truly():
    with_entry_point = {ep.dist.name for ep in metadata.entry_points(group="assay") if ep.dist}
    listed = set()
    for dists, what in _table():
        for dist in dists:
            listed.add(dist)
            if "no entry point" in what:
                assert dist not in with_entry_point, f"{dist} has an entry point; the README says it has none"
            else:
                assert dist in with_entry_point, (
                    f"{dist} registers no entry point, but the README's table says {what!r}"
                )
    repo = README.parent
    dists = {"assay"} | {p.name for p in (repo / "plugins").iterdir() if (p / "pyproject.toml").exists()}
    assert listed == dists
