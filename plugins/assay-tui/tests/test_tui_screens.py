"""Every screen of `assay view`, driven with Textual's Pilot at 80x24 on logs of real runs
(`run_task` with the gsm8k plugin and the mock model) and logs written through the kernel's
LogWriter. Expected figures come from the kernel's report or a plain JSON read of the logs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from assay.report import build_report
from assay_tui.app import ViewApp
from assay_tui.screens.compare import CompareScreen
from assay_tui.screens.perf import PerfScreen
from assay_tui.screens.replay import ReplayScreen
from assay_tui.screens.report import ReportScreen
from assay_tui.screens.runs import RunsScreen
from assay_tui.screens.samples import SamplesScreen
from assay_tui.synth import write_eval_log, write_perf_log
from assay_tui.vtable import VirtualTable
from textual.widgets import DataTable, Static
from assay_testserver.testing import events as _events
from tui_steps import settle

# its module-scoped fixture is costly: every test of the module in one pytest-xdist worker, so it runs once
pytestmark = [pytest.mark.anyio, pytest.mark.xdist_group("tui_screens")]
SIZE = (80, 24)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


ANSWER_18 = {"answer": "The answer is 18.\n#### 18"}


def _run(datasets_dir: Path, work: Path, **extra) -> Path:
    pytest.importorskip("assay_gsm8k", reason="these real runs need the assay-gsm8k plugin")
    from assay import run_task

    before = set(work.iterdir()) if work.exists() else set()
    cfg = {
        "model": "mock",
        "datasets": ["gsm8k"],
        "limit": 20,
        "dataset_dir": str(datasets_dir),
        "work_dir": str(work),
        "progress": False,
    }
    cfg.update(extra)
    run_task(cfg)
    (new,) = set(work.iterdir()) - before
    return new


def text_of(widget: Static) -> str:
    return str(widget.render())


def table_rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(r)] for r in range(table.row_count)]


@pytest.fixture(scope="module")
def work(datasets_dir, tmp_path_factory) -> Path:
    """Two real gsm8k runs (mock answers differ) and a perf log, in one work dir."""
    w = tmp_path_factory.mktemp("outputs")
    _run(datasets_dir, w)
    _run(datasets_dir, w, model_args=ANSWER_18)
    write_perf_log(w / "zz_perf")
    return w


async def test_runs_report_samples(work):
    app = ViewApp([work], live_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        rows = table_rows(app.screen.query_one("#runs", DataTable))
        assert len(rows) == 3
        eval_dirs = sorted(p for p in work.iterdir() if (p / "report.json").exists())
        for d in eval_dirs:
            report = json.loads((d / "report.json").read_text())
            row = next(r for r in rows if r[0][1:] == d.name)
            # model, datasets, status, samples (SampleLoaded lines), errors, headline score
            n_loaded = sum(1 for e in _events(d) if e["type"] == "SampleLoaded")
            # columns: Run, Model, Datasets, Status, Samples, Err, Score, Started, Kind
            assert row[1:4] == ["mock", "gsm8k", "completed"] and row[8] == "eval"
            assert row[4:7] == [
                str(n_loaded),
                str(report["errored_samples"]),
                f"{report['rows'][0]['score']:.4f}",
            ]
        perf_row = next(r for r in rows if r[8] == "perf")
        assert perf_row[6] == "perf"

        # the second eval run (mock answers 18): report screen = the kernel's report
        target = eval_dirs[
            [json.loads((d / "report.json").read_text())["rows"][0]["score"] for d in eval_dirs].index(
                max(json.loads((d / "report.json").read_text())["rows"][0]["score"] for d in eval_dirs)
            )
        ]
        idx = [r[0][1:] for r in rows].index(target.name)
        await pilot.press(*(["down"] * idx), "enter")
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        report = build_report(target)
        shown = table_rows(app.screen.query_one("#report", DataTable))
        assert [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in shown] == [
            (r["dataset"], r["subset"], r["metric"], str(r["num"]), f"{r['score']:.4f}", str(r["errors"]))
            for r in report["rows"]
        ]

        await pilot.press("enter")
        await pilot.pause()
        scr = app.screen
        assert isinstance(scr, SamplesScreen)
        events = _events(target)
        values = {e["body"]["sample_id"]: e["body"]["value"] for e in events if e["type"] == "Scored"}
        passed = sorted(s for s, v in values.items() if v == 1.0)
        assert scr.counts == {"all": 20, "passed": len(passed), "failed": 20 - len(passed), "errored": 0}
        assert "20 samples" in text_of(scr.query_one("#samples-title", Static))
        table = scr.query_one("#samples", VirtualTable)
        assert table.row_count == 20
        # the detail pane shows the highlighted sample's prompt, output and score explanation
        await pilot.press("down", "down")
        detail = text_of(scr.query_one("#detail", Static))
        sid = events[3]["body"]["sample_id"]  # SampleLoaded lines follow RunStarted in load order
        assert sid in detail and "Output" in detail and "Scores" in detail and "#### 18" in detail
        question = events[3]["body"]["messages"][-1]["content"].splitlines()[-1][:30]
        assert question in detail

        await pilot.press("s")  # passed only
        await pilot.pause()
        assert [scr.ix.sids[int(i)] for i in scr.rows] == passed
        assert table.row_count == len(passed)
        await pilot.press("f")
        await pilot.pause()
        assert table.row_count == 20 - len(passed)
        await pilot.press("e")
        await pilot.pause()
        assert table.row_count == 0 and "no samples match" in text_of(scr.query_one("#detail", Static))

        await pilot.press("a", "slash")
        await pilot.press(*"Janet")
        await pilot.press("enter")
        await pilot.pause()
        janet = [
            e["body"]["sample_id"]
            for e in events
            if e["type"] == "SampleLoaded"
            and "Janet" in json.dumps(e["body"]["messages"][-1]["content"]).split("Question:")[-1]
        ]
        assert janet, "gsm8k's first test question is about Janet's ducks"
        assert set(janet) <= {scr.ix.sids[int(i)] for i in scr.rows}
        await pilot.press("escape")  # clears the search
        await pilot.pause()
        assert table.row_count == 20
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, RunsScreen)


async def test_compare_two_runs(work):
    app = ViewApp([work], live_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        rows = table_rows(app.screen.query_one("#runs", DataTable))
        eval_idx = [k for k, r in enumerate(rows) if r[8] == "eval"]
        await pilot.press("c")  # nothing marked: a hint, no screen change
        assert isinstance(app.screen, RunsScreen)
        for k in range(len(rows)):
            if k in eval_idx:
                await pilot.press("space")
            await pilot.press("down")
        marks = [r[0][0] for r in table_rows(app.screen.query_one("#runs", DataTable))]
        assert marks == ["*" if k in eval_idx else " " for k in range(len(rows))]
        await pilot.press("c")
        await settle(pilot)
        scr = app.screen
        assert isinstance(scr, CompareScreen)
        a, b = (work / rows[k][0][1:] for k in eval_idx)
        ra, rb = build_report(a)["rows"][0], build_report(b)["rows"][0]
        shown = table_rows(scr.query_one("#compare-scores", DataTable))
        assert shown[0] == [
            "gsm8k",
            "main",
            "acc",
            f"{ra['score']:.4f}",
            f"{rb['score']:.4f}",
            f"{rb['score'] - ra['score']:+.4f}",
        ]
        va = {e["body"]["sample_id"]: e["body"]["value"] for e in _events(a) if e["type"] == "Scored"}
        vb = {e["body"]["sample_id"]: e["body"]["value"] for e in _events(b) if e["type"] == "Scored"}
        differ = [s for s in va if va[s] != vb[s]]
        assert differ, "the two mock runs answer differently"
        assert [sid for sid, _ in scr.diffs] == differ and scr.common == 20
        await pilot.press("d")
        await pilot.pause()
        assert scr.query_one("#diffs", VirtualTable).row_count == len(differ)
        detail = text_of(scr.query_one("#diff-detail", Static))
        assert differ[0] in detail and "A " in detail and "B " in detail and "#### 18" in detail


async def test_perf_screen(tmp_path):
    path = write_perf_log(tmp_path / "p", requests=100, parallel=(1, 4), fail_every=25)
    app = ViewApp([path.parent], live_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # a perf run opens the perf screen
        await settle(pilot)
        scr = app.screen
        assert isinstance(scr, PerfScreen)
        # the Metrics tab shows what assay-perf's reporter renders (the figures of `assay report`), not a TUI fold
        text = text_of(scr.query_one("#perf-sections", Static))
        # synth: 100 requests per point, k % 25 == 24 fail with HTTP 500 -> 96 ok, 4 failed
        ttft = [0.02 + 0.001 * (k % 10) for k in range(100) if k % 25 != 24]
        mean_ms = f"{sum(ttft) / len(ttft) * 1000:.1f}"
        lines = [ln for ln in text.splitlines() if ln.strip().startswith("│") or "|" in ln]
        assert sum(" 96 " in ln and " 4 " in ln for ln in lines) == 2, text
        assert sum(mean_ms in ln for ln in lines) == 2, (mean_ms, text)
        for key in ("t", "l", "h"):
            await pilot.press(key)
            await pilot.pause()
        assert scr.query_one("#perf-tabs").active == "throughput"
        plot = scr.query_one("#throughput-plot")
        assert "tokens/s" in str(plot.render())


async def test_live_tail_follows_a_growing_log(tmp_path):
    """A run still being written: the report and the runs list update as lines arrive."""
    full = write_eval_log(tmp_path / "src", groups={"main": 30}, loaded_first=False, finished=True)
    data = full.read_bytes().splitlines(keepends=True)
    live = tmp_path / "w" / "run1" / "events.jsonl"
    live.parent.mkdir(parents=True)
    live.write_bytes(b"".join(data[:31]))  # RunStarted + 10 samples (3 events each)
    app = ViewApp([tmp_path / "w"], live_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        scr = app.screen
        assert isinstance(scr, ReportScreen)
        assert table_rows(scr.query_one("#report", DataTable))[0][3] == "10"
        assert "running" in text_of(scr.query_one("#report-title", Static))
        with open(live, "ab") as f:  # noqa: ASYNC230 - the test plays the log's writer
            f.write(b"".join(data[31:61]))  # 10 more samples
            f.write(data[61][:20])  # and half a line (being written)
        for _ in range(100):
            await pilot.pause(0.05)
            if table_rows(scr.query_one("#report", DataTable))[0][3] == "20":
                break
        assert table_rows(scr.query_one("#report", DataTable))[0][3] == "20"
        with open(live, "ab") as f:  # noqa: ASYNC230 - the test plays the log's writer
            f.write(data[61][20:] + b"".join(data[62:]))
        for _ in range(100):
            await pilot.pause(0.05)
            if "completed" in text_of(scr.query_one("#report-title", Static)):
                break
        rows = table_rows(scr.query_one("#report", DataTable))
        expected = build_report(full)["rows"][0]
        assert rows[0][3:5] == [str(expected["num"]), f"{expected['score']:.4f}"]
        assert "completed" in text_of(scr.query_one("#report-title", Static))


@pytest.fixture
def answer18_run(datasets_dir, tmp_path) -> Path:
    return _run(datasets_dir, tmp_path / "w", model_args=ANSWER_18)


async def test_replay_steps_and_plays(answer18_run):
    run_dir = answer18_run
    n_events = len(_events(run_dir))
    app = ViewApp([run_dir], live_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        scr = app.screen
        assert isinstance(scr, ReplayScreen)
        await pilot.press("right")
        assert scr.player.position == 1 and "RunStarted" in text_of(scr.query_one("#replay-event", Static))
        await pilot.press("right", "right")
        assert scr.player.position == 3 and scr.player.last["type"] == "SampleLoaded"
        await pilot.press("plus", "plus", "plus")  # 10 -> 10,000 events/s
        await pilot.press("space")
        for _ in range(100):
            await pilot.pause(0.05)
            if scr.player.position >= n_events:
                break
        assert scr.player.position == n_events and not scr.playing
        rows = table_rows(scr.query_one("#replay-report", DataTable))
        expected = build_report(run_dir)["rows"][0]
        assert rows[0][3:5] == [str(expected["num"]), f"{expected['score']:.4f}"]
        assert f"event {n_events} / {n_events}" in text_of(scr.query_one("#replay-status", Static))
        await pilot.press("home")
        assert scr.player.position == 0


async def test_corrupt_and_torn_logs_open_with_warnings(tmp_path):
    path = write_eval_log(tmp_path / "w" / "bad", groups={"main": 10})
    lines = path.read_bytes().splitlines(keepends=True)
    lines[6] = b"{not json at all\n"
    path.write_bytes(b"".join(lines) + b'{"v":1,"type":"Gene')
    empty = tmp_path / "w" / "empty" / "events.jsonl"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    app = ViewApp([tmp_path / "w", tmp_path / "nowhere"], live_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        scr = app.screen
        assert isinstance(scr, RunsScreen)
        bad_row = [r[0][1:] for r in table_rows(scr.query_one("#runs", DataTable))].index("20260101_000000_fixed")
        await pilot.press(*(["down"] * bad_row))
        warn = text_of(scr.query_one("#runs-warn", Static))
        assert f"{path}:7: corrupted event log line" in warn
        assert "unterminated last line" in warn and "nowhere: no such file or directory" in warn
        await pilot.press("enter")
        await settle(pilot)
        rep = app.screen
        assert isinstance(rep, ReportScreen)
        assert ":7: corrupted" in text_of(rep.query_one("#report-warn", Static))
        assert table_rows(rep.query_one("#report", DataTable))[0][3] == "10"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SamplesScreen)
        await pilot.press("escape", "escape", *(["up"] * 5))
        empty_row = [r[0][1:] for r in table_rows(scr.query_one("#runs", DataTable))].index("empty")
        await pilot.press(*(["down"] * empty_row), "enter")
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)  # an empty log opens (no rows), no traceback


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
def test_assay_view_is_a_cli_command(anyio_backend):
    from assay.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["view", "some/dir", "--replay"])
    assert args.paths == ["some/dir"] and args.replay is True
    assert os.environ.get("OMP_NUM_THREADS") == "1"


async def test_runs_list_follows_new_and_finishing_runs(tmp_path):
    """A work dir watched live: a run that finishes turns `completed`, a new run directory shows up."""
    src = write_eval_log(tmp_path / "src", groups={"main": 12})
    data = src.read_bytes().splitlines(keepends=True)
    w = tmp_path / "w"
    first = w / "run1" / "events.jsonl"
    first.parent.mkdir(parents=True)
    first.write_bytes(b"".join(data[:-1]))  # everything but RunFinished
    app = ViewApp([w], live_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        rows = table_rows(app.screen.query_one("#runs", DataTable))
        assert [r[3] for r in rows] == ["running"]
        with open(first, "ab") as f:  # noqa: ASYNC230 - the test plays the log's writer
            f.write(data[-1])
        write_eval_log(w / "run2", run_id="20260101_000200_late", groups={"main": 3})
        for _ in range(100):
            await pilot.pause(0.05)
            rows = table_rows(app.screen.query_one("#runs", DataTable))
            if len(rows) == 2 and rows[0][3] == "completed" and rows[1][4] == "3":
                break
        # synth: 12 samples, k % 3 == 0 right -> 4/12; the late run: 3 samples, k=0 right -> 1/3
        assert [(r[0][1:], r[3], r[4], r[6]) for r in rows] == [
            ("20260101_000000_fixed", "completed", "12", f"{4 / 12:.4f}"),
            ("20260101_000200_late", "completed", "3", f"{1 / 3:.4f}"),
        ]


async def test_overall_row_lists_every_subset(tmp_path):
    path = write_eval_log(tmp_path / "r", groups={"a": 7, "b": 5})
    app = ViewApp([path], live_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        rep = app.screen
        assert isinstance(rep, ReportScreen)
        subsets = [r[1] for r in table_rows(rep.query_one("#report", DataTable))]
        # the kernel's fold: a, b, then OVERALL (micro) and OVERALL (macro)
        assert subsets == [r["subset"] for r in build_report(path)["rows"]] == ["a", "b", "OVERALL", "OVERALL (macro)"]
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        scr = app.screen
        assert isinstance(scr, SamplesScreen) and scr.counts["all"] == 12
        # synth: k % 3 == 0 is right: a -> 0,3,6; b -> 0,3
        assert scr.counts["passed"] == 5
        assert scr.query_one("#samples", VirtualTable).row_cells(7)[0] == "b/0"
