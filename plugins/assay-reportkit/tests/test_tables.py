"""The table-reporter helper (assay-reportkit) and the repeats fold the pass@k reporters share."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from assay.log import LogCorrupted
from assay_reportkit.passk import RepeatBody, Repeats, doubling_ks, mean_pass_at_k
from assay_reportkit.tables import Column, TableReporter, fixed, read_bodies, render_matrix, render_table
from rich.console import Console


def _line(seq: int, type_: str, **body: Any) -> str:
    return json.dumps({"v": 1, "type": type_, "seq": seq, "ts": 0.0, "run_id": "r", "body": body}) + "\n"


def _write(path: Path, *events: tuple[str, dict[str, Any]], tail: str = "") -> Path:
    path.write_text("".join(_line(i, t, **b) for i, (t, b) in enumerate(events)) + tail)
    return path


class _Body(msgspec.Struct):
    sample_id: str | None = None
    value: float | None = None


class _Demo(TableReporter):
    title = "demo [bold]x[/bold]"
    columns = (
        Column("Name", "name"),
        Column("Score", "score", "{:.2f}", justify="right"),
        Column("Pct", "score", fixed(1, 100)),
        Column("Both", lambda r: f"{r['name']}={r['n']}"),
    )

    def fold(self, log_path: Path) -> dict[str, Any]:
        rows = [
            {"name": sid, "score": v, "n": 1}
            for _t, b in read_bodies(log_path, _Body)
            for sid, v in [(b.sample_id, b.value)]
        ]
        return {"rows": rows}

    def notes(self, report: dict[str, Any]) -> list[str]:
        return [f"{len(report['rows'])} rows [red]"]


def _render(reporter: TableReporter, report: dict[str, Any]) -> str:
    buf = io.StringIO()
    reporter.render(report, Console(file=buf, width=120, color_system=None))
    return buf.getvalue()


def test_table_reporter_builds_the_section_and_renders_inert_cells(tmp_path: Path) -> None:
    log = _write(
        tmp_path / "events.jsonl",
        ("Scored", {"sample_id": "a\x1b[31m", "value": 0.5}),
        ("Scored", {"sample_id": "[b]", "value": None}),
        ("Other", {"sample_id": ["a clash"], "value": 1}),  # another plugin's event: skipped
        tail='{"v": 1, "type": "Scored"',  # a torn tail: skipped
    )
    report = _Demo().build(log)
    assert report == {"rows": [{"name": "a\x1b[31m", "score": 0.5, "n": 1}, {"name": "[b]", "score": None, "n": 1}]}
    out = _render(_Demo(), report)
    assert "\x1b" not in out
    assert "demo [bold]x[/bold]" in out  # the title's markup is shown, not interpreted
    assert "│ a\\x1b[31m │  0.50 │ 50.0 │ a\\x1b[31m=1 │" in out
    assert "│ [b]       │     - │ -    │ [b]=1       │" in out  # None is "-", markup is text
    assert out.rstrip().endswith("2 rows [red]")


def test_table_reporter_without_rows_prints_only_its_notes() -> None:
    class Quiet(_Demo):
        def notes(self, report: dict[str, Any]) -> list[str]:
            return []

    assert _render(Quiet(), {"rows": []}) == ""
    assert _render(Quiet(), {}) == ""


def _print(renderable: Any) -> str:
    buf = io.StringIO()
    Console(file=buf, width=120, color_system=None).print(renderable)
    return buf.getvalue()


def test_render_matrix_blanks_the_diagonal_and_shows_labels_inert() -> None:
    wins = {
        "a": {"[b]x": 0.25, "c\x1b[31m": None},
        "[b]x": {"a": 0.75, "c\x1b[31m": 1.0},
        "c\x1b[31m": {"a": None, "[b]x": 0},
    }
    out = _print(render_matrix("wins [red]", list(wins), lambda row, col: wins[row][col], "{:.3f}"))
    assert out.splitlines() == [
        "               wins [red]                ",
        "┏━━━━━━━━━━━┳━━━━━━━┳━━━━━━━┳━━━━━━━━━━━┓",
        "┃           ┃ a     ┃ [b]x  ┃ c\\x1b[31m ┃",  # headers are data: markup and escapes shown
        "┡━━━━━━━━━━━╇━━━━━━━╇━━━━━━━╇━━━━━━━━━━━┩",
        "│ a         │       │ 0.250 │ -         │",  # never met: "-"; the diagonal: blank
        "│ [b]x      │ 0.750 │       │ 1.000     │",
        "│ c\\x1b[31m │ -     │ 0.000 │           │",
        "└───────────┴───────┴───────┴───────────┘",
    ]


def test_render_table_caption_is_shown_as_text() -> None:
    columns = [Column("Number of rows", "n")]
    out = _print(render_table("t", columns, [{"n": 1}], caption="2 [i]out[/i]"))
    assert out.splitlines()[-2:] == ["└────────────────┘", "   2 [i]out[/i]   "]
    assert _print(render_table("t", columns, [{"n": 1}])).splitlines()[-1] == "└────────────────┘"


def _names(log_path: Path) -> dict[str, Any]:
    return {"rows": [{"name": b.sample_id, "score": b.value, "n": 1} for _t, b in read_bodies(log_path, _Body)]}


def test_a_table_reporter_declares_its_fold_once_as_its_projection(tmp_path: Path) -> None:
    class Declared(TableReporter):
        title = "declared"
        columns = (Column("Name", "name"),)
        projection = _names

    log = _write(tmp_path / "events.jsonl", ("Scored", {"sample_id": "a", "value": 0.5}))
    assert Declared().build(log) == {"rows": [{"name": "a", "score": 0.5, "n": 1}]}
    assert Declared().fold(log) == Declared().build(log)

    class Undeclared(TableReporter):
        pass

    with pytest.raises(NotImplementedError, match=r"^Undeclared declares no projection \(projection = fold\)$"):
        Undeclared().build(log)


def test_read_bodies_reports_a_broken_line_with_its_number(tmp_path: Path) -> None:
    log = _write(tmp_path / "events.jsonl", ("Scored", {"sample_id": "a", "value": 1}), tail="not json\n")
    with pytest.raises(LogCorrupted) as err:
        list(read_bodies(log, _Body))
    assert err.value.line == 2


def test_repeats_fold_counts_each_problem_once_and_errors_as_wrong(tmp_path: Path) -> None:
    loaded = [
        ("SampleLoaded", {"sample_id": f"p{p}#{r}", "benchmark": "b", "local_id": f"p{p}", "scorers": ["s"]})
        for p in (1, 2)
        for r in range(4)
    ]
    log = _write(
        tmp_path / "events.jsonl",
        *loaded,
        loaded[0],  # loaded again on resume: counted once
        ("SampleLoaded", {"sample_id": "other#0", "benchmark": "b", "local_id": "o", "scorers": ["t"]}),
        ("Scored", {"sample_id": "p1#0", "scorer": "s", "metric": "acc", "value": 1.0}),
        ("Scored", {"sample_id": "p1#1", "scorer": "s", "metric": "acc", "value": 1.0}),
        ("Scored", {"sample_id": "p1#2", "scorer": "s", "metric": "acc", "value": 0.0}),
        ("Scored", {"sample_id": "p2#0", "scorer": "s", "metric": "acc", "value": 0.0}),
        ("Scored", {"sample_id": "p2#1", "scorer": "other", "metric": "acc", "value": 1.0}),
        ("Scored", {"sample_id": "other#0", "scorer": "s", "metric": "acc", "value": 1.0}),
    )
    reps = Repeats("s")
    for t, b in read_bodies(log, RepeatBody):
        reps.add(t, b)
    groups = reps.groups()
    assert list(groups) == [("b", "default")]
    problems = groups[("b", "default")]
    assert reps.counts(problems, "acc") == [(4, 2), (4, 0)]  # unscored repeats count as wrong
    assert reps.counts(problems, "acc", scored_only=True) == [(3, 2), (1, 0)]
    assert doubling_ks(4) == [1, 2, 4] and doubling_ks(6) == [1, 2, 4, 6] and doubling_ks(1) == [1]
    assert mean_pass_at_k([(4, 2), (4, 0)], 1) == pytest.approx(0.25)
    assert mean_pass_at_k([(4, 2), (4, 0)], 4) == pytest.approx(0.5)
