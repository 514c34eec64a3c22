"""`assay view` shows what plugin reporters render for a run, with no TUI code of their own."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import pytest
from assay import hookimpl
from assay_tui.app import ViewApp
from textual.widgets import DataTable, Static
from tui_steps import open_report, until

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Loaded:
    """A plugin reporter: counts SampleLoaded events; its render puts data that looks like markup on screen."""

    kinds: ClassVar[set[str]] = {"eval"}

    def build(self, log_path) -> dict[str, Any]:
        from assay.log import iter_events

        return {"loaded": sum(1 for _ in iter_events(log_path, types=["SampleLoaded"]) if _.type == "SampleLoaded")}

    def render(self, report: dict[str, Any], console: Any) -> None:
        from rich.text import Text

        console.print(Text(f"samples loaded: {report['loaded']} [bold]not markup[/bold]"))


class Broken:
    kinds: ClassVar[set[str]] = {"eval"}

    def build(self, log_path) -> dict[str, Any]:
        raise RuntimeError("this reporter is broken")

    def render(self, report: dict[str, Any], console: Any) -> None:
        pass


class Slow:
    """A reporter whose build waits until the test lets it finish (a fold over a very large log)."""

    kinds: ClassVar[set[str]] = {"eval"}
    go = threading.Event()

    def build(self, log_path) -> dict[str, Any]:
        assert self.go.wait(30), "never let go"
        return {}

    def render(self, report: dict[str, Any], console: Any) -> None:
        console.print("the slow reporter's section")


class Typed:
    """A reporter registered with ``events=``: says which, and counts its builds."""

    kinds: ClassVar[set[str]] = {"eval"}
    builds: ClassVar[list[str]] = []

    def __init__(self, label: str) -> None:
        self.label = label

    def build(self, log_path) -> dict[str, Any]:
        self.builds.append(self.label)
        return {"label": self.label}

    def render(self, report: dict[str, Any], console: Any) -> None:
        console.print(f"reporter for {report['label']} events")


class ReporterPlugin:
    @hookimpl
    def assay_reporters(self, register):
        register("loaded_count", Loaded(), description="samples loaded")
        register("broken_one", Broken())
        register("other_benchmark", Loaded(), benchmarks={"mmlu"})
        register("on_scored", Typed("Scored"), events={"Scored", "RequestTimed"})
        register("on_requests", Typed("RequestTimed"), events={"RequestTimed"})


@pytest.fixture
def work(datasets_dir, tmp_path, monkeypatch):
    """A real gsm8k run (mock model), with a plugin host that holds the reporters above."""
    pytest.importorskip("assay_gsm8k", reason="this real run needs the assay-gsm8k plugin")
    import assay.plugins
    from assay import run_task

    plugins = assay.plugins.PluginHost()
    plugins.register_module(ReporterPlugin(), "reporters_for_test")
    monkeypatch.setattr(assay.plugins, "_host", plugins)
    run_task(
        {"model": "mock", "datasets": ["gsm8k"], "limit": 3, "dataset_dir": str(datasets_dir)}
        | {"work_dir": str(tmp_path), "progress": False}
    )
    return tmp_path


async def test_the_report_screen_shows_plugin_reporters_sections(work):
    from assay.log import iter_raw, log_path

    types = {e.type for e in iter_raw(log_path(next(work.iterdir())))}
    assert "Scored" in types and "RequestTimed" not in types  # (the mock model times no request)
    Typed.builds.clear()
    app = ViewApp([work], live_interval=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_report(pilot)
        shown = str(app.screen.query_one("#report-sections", Static).render())
    assert "samples loaded: 3 [bold]not markup[/bold]" in shown
    assert "reporter broken_one ((in-process)) failed: RuntimeError: this reporter is broken" in shown
    assert shown.count("samples loaded") == 1  # the reporter for another benchmark is not shown
    # registered with events=: built when the log holds one of them, not read at all when it holds none
    assert "reporter for Scored events" in shown and "reporter for RequestTimed events" not in shown
    assert Typed.builds == ["Scored"]


async def test_a_slow_reporter_does_not_hold_the_report_screen(work):
    """The report table is shown at once; a reporter's section follows when its build ends (the build runs in a
    thread: the screen answers keys meanwhile)."""
    import assay.plugins

    assay.plugins._host.register_module(type("SlowPlugin", (), {"assay_reporters": hookimpl(
        lambda self, register: register("slow_one", Slow()))})(), "slow_for_test")  # fmt: skip
    Slow.go.clear()
    app = ViewApp([work], live_interval=0)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_report(pilot, sections=False)
        assert screen.ready
        assert screen.query_one("#report", DataTable).row_count == 1  # the kernel's table: gsm8k's one row
        assert screen.query("#report-sections-wait") and not screen.query("#report-sections")
        await pilot.press("down")  # the screen answers while the reporter is still building
        await pilot.pause()
        Slow.go.set()
        await until(pilot, lambda: screen.query("#report-sections"), "the slow reporter's section")
        shown = str(screen.query_one("#report-sections", Static).render())
        assert not screen.query("#report-sections-wait")
    assert "the slow reporter's section" in shown and "samples loaded: 3" in shown


@pytest.fixture
def timed_run(datasets_dir, tmp_path, test_server):
    """A real eval of 2 GSM8K samples against the test server: its model backend logs a RequestTimed each."""
    pytest.importorskip("assay_openai", reason="a real eval against the test server")
    pytest.importorskip("assay_gsm8k", reason="this real run needs the assay-gsm8k plugin")
    from assay import run_task

    srv = test_server()
    run_task(
        {"model": "m", "eval_type": "openai_api", "api_url": srv.url, "datasets": ["gsm8k"], "limit": 2}
        | {"dataset_dir": str(datasets_dir), "work_dir": str(tmp_path), "progress": False}
    )
    return tmp_path


async def test_the_eval_latency_section_of_a_run_that_timed_its_requests(timed_run):
    """The installed reporters (no test plugin): assay-perf's eval_latency, registered with
    events={"RequestTimed", ...}, is built and shown for an eval whose model backend timed its requests."""
    pytest.importorskip("assay_perf", reason="the eval_latency reporter")
    app = ViewApp([timed_run], live_interval=0)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_report(pilot)
        assert "RequestTimed" in screen.ix.event_types
        shown = str(screen.query_one("#report-sections", Static).render())
    assert "TTFT" in shown and "Out tok/s" in shown
