"""Shared Pilot steps of the TUI tests."""

from __future__ import annotations

import pytest


async def _open_report(pilot, *, sections: bool = True):
    """From the runs list: wait until every run is indexed, press enter on the first, and return the report
    screen; with ``sections``, once the plugin reporters' sections (built in a thread) are shown too."""
    from assay_tui.screens.report import ReportScreen

    app = pilot.app
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if app.all_indexed:
            break
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, ReportScreen)
    if sections:  # their thread starts after the table is drawn: wait until its placeholder is gone
        for _ in range(100):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if not app.screen.query("#report-sections-wait"):
                break
        else:
            raise AssertionError("the reporters' sections were never shown")
    return app.screen


@pytest.fixture
def open_report():
    return _open_report
