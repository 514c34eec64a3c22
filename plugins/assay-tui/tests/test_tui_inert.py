"""`assay view` shows untrusted log text inert: a real run (general_qa from a file whose name holds
escape sequences and Rich markup, a --model-id and model output holding them too) driven with Pilot.
Nothing is interpreted: the escapes are shown as text (\\x1b), the markup keeps its brackets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from assay_tui.app import ViewApp
from assay_tui.screens.report import ReportScreen
from assay_tui.screens.runs import RunsScreen
from assay_tui.screens.samples import SamplesScreen
from assay_tui.vtable import VirtualTable
from textual.widgets import DataTable, Static
from tui_steps import settle

pytestmark = pytest.mark.anyio
SIZE = (160, 40)

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
SUBSET = f"q{TITLE}[bold red]hot{CLEAR}"
MODEL_ID = f"[link=http://x]y[/link]{TITLE}"
ANSWER = f"{TITLE}[link=http://x]y[/link]{CLEAR}[bold red]out\u202e"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _raw(text: str) -> bool:
    return any(c in text for c in ("\x1b", "\x07", "\u202e"))


@pytest.fixture
def run(tmp_path, datasets_dir) -> Path:
    pytest.importorskip("assay_general_qa", reason="needs the assay-general-qa plugin")
    from assay import run_task

    data = tmp_path / "data"
    data.mkdir()
    with open(datasets_dir / "gsm8k" / "test.jsonl", encoding="utf-8") as src:
        rows = [json.loads(next(src)) for _ in range(3)]
    with open(data / f"{SUBSET}.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"query": r["question"], "response": r["answer"].rsplit("####")[-1].strip()}) + "\n")
    run_task(
        {
            "model": "mock",
            "model_id": MODEL_ID,
            "model_args": {"answer": ANSWER},
            "datasets": ["general_qa"],
            "dataset_args": {"general_qa": {"local_path": str(data)}},
            "work_dir": str(tmp_path / "out"),
            "progress": False,
        }
    )
    (d,) = (tmp_path / "out").iterdir()
    return d


async def test_view_shows_untrusted_text_inert(run):
    app = ViewApp([run.parent], live_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        (row,) = [[str(c) for c in app.screen.query_one("#runs", DataTable).get_row_at(0)]]
        assert row[1] == "[link=http://x]y[/link]\\x1b]0;pwned\\x07"

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        title = str(app.screen.query_one("#report-title", Static).render())
        assert "[link=http://x]y[/link]\\x1b]0;pwned\\x07" in title and not _raw(title)
        table = app.screen.query_one("#report", DataTable)
        subsets = {str(table.get_row_at(r)[1]) for r in range(table.row_count)}
        assert subsets == {"q\\x1b]0;pwned\\x07[bold red]hot\\x1b[2J"}
        assert not _raw(app.export_screenshot())

        await pilot.press("enter")
        await pilot.pause()
        scr = app.screen
        assert isinstance(scr, SamplesScreen)
        title = str(scr.query_one("#samples-title", Static).render())
        assert "general_qa / q\\x1b]0;pwned\\x07[bold red]hot\\x1b[2J" in title
        detail = str(scr.query_one("#detail", Static).render())
        assert "\\x1b]0;pwned\\x07[link=http://x]y[/link]\\x1b[2J[bold red]out\\u202e" in detail
        assert not _raw(detail)
        vt = scr.query_one("#samples", VirtualTable)
        lines = ["".join(seg.text for seg in vt.render_line(y)) for y in range(4)]
        assert not any(_raw(x) for x in lines)
        assert not _raw(app.export_screenshot())
