"""assay-report-html: ``assay report RUN --format html`` and ``assay compare ... --format html``.

Registers a file reporter (``formats={"html"}``): the kernel hands it the report it built (its rows
and every other reporter's section), and it writes one self-contained HTML file. A run's report.html
is rendered without Jinja2 (:mod:`.page`, the template's bytes); Jinja2 is imported for comparisons
and as the fallback.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "html",
        "assay_report_html.reporter:REPORTER",
        description="one self-contained HTML file: tables, charts, sample browser (report.html, --format html)",
        formats={"html"},
    )
