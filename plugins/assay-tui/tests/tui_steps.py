"""Pilot steps shared by the TUI tests (imported as a module: the plugin's conftest puts this folder on sys.path)."""

from __future__ import annotations


async def until(pilot, done, what: str) -> None:
    """Let the app's workers (indexing, reporters' threads) finish and its messages settle until ``done()``."""
    app = pilot.app
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if done():
            return
    raise AssertionError(f"{what}: not after 100 rounds")


async def settle(pilot) -> None:
    """Until every run is indexed and no worker runs."""
    app = pilot.app
    await until(pilot, lambda: app.all_indexed and not any(w.is_running for w in app.workers), "indexing")


async def open_report(pilot, *, sections: bool = True):
    """From the runs list: wait until every run is indexed, press enter on the first, and return the report
    screen; with ``sections``, once the plugin reporters' sections (built in a thread) are shown too."""
    from assay_tui.screens.report import ReportScreen

    app = pilot.app
    await until(pilot, lambda: app.all_indexed, "indexing")
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, ReportScreen)
    if sections:  # their thread starts after the table is drawn: wait until its placeholder is gone
        await until(pilot, lambda: not app.screen.query("#report-sections-wait"), "the reporters' sections")
    return app.screen
