"""SVG snapshots of the main screens at 80x24, on logs with fixed content (fixed run ids,
timestamps and answers, written by assay_tui.synth through the kernel's LogWriter).

Update after an intended change: pytest plugins/assay-tui/tests/test_tui_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest
from assay_tui.app import ViewApp
from assay_tui.synth import write_eval_log, write_perf_log
from tui_steps import settle

SIZE = (80, 24)


@pytest.fixture
def fixed_work(tmp_path, monkeypatch) -> str:
    w = tmp_path / "w"
    write_eval_log(w / "r1", error_every=5)
    write_eval_log(w / "r2", run_id="20260101_000100_other", model="other", groups={"main": 20})
    write_perf_log(w / "p1")
    monkeypatch.chdir(tmp_path)  # the title shows the path as given: "w"
    return "w"


def _keys(*keys: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.pause()
        for k in keys:
            await pilot.press(k)
            await settle(pilot)
            await pilot.pause()

    return run_before


def test_snapshot_runs_list(snap_compare, fixed_work):
    assert snap_compare(ViewApp([fixed_work], live_interval=0), terminal_size=SIZE, run_before=_keys())


def test_snapshot_samples_errored(snap_compare, fixed_work):
    # run r1 (first row): report -> samples -> errored filter -> second errored sample
    app = ViewApp([fixed_work], live_interval=0)
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("enter", "enter", "e", "down"))


def test_snapshot_perf_metrics(snap_compare, fixed_work):
    app = ViewApp([fixed_work], live_interval=0)
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("down", "enter"))


def test_snapshot_compare_differences(snap_compare, fixed_work):
    app = ViewApp([fixed_work], live_interval=0)
    # rows sorted by start time: r1 (00:00:00), p1 (00:00:00), r2 (00:01:00)
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("space", "down", "down", "space", "c", "d"))
