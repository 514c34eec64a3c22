"""Fixtures of assay-report-html's tests: the `assay` CLI in a subprocess and a headless Chromium
(Debian's `chromium` package, driven by Playwright) that may not reach the network."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ASSAY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """A page opened from a file:// URL with every other request refused and recorded."""

    def __init__(self, browser, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.context = browser.new_context(viewport={"width": 1300, "height": 900}, offline=True)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.refused: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r):
            if r.request.url == self.url:
                r.continue_()
            else:
                self.refused.append(r.request.url)
                r.abort()

        self.context.route("**/*", route)
        self.page.goto(self.url)

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("ASSAY_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium); set ASSAY_REQUIRE_CHROMIUM=1 to fail")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("ASSAY_REQUIRE_CHROMIUM"):
            raise
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def open_page(browser):
    pages: list[Page] = []

    def open_(path: Path) -> Page:
        pg = Page(browser, path)
        pages.append(pg)
        return pg

    yield open_
    for pg in pages:
        pg.close()
