"""assay-eval-report: the eval report, the reporter whose ``build`` is the report of an eval run.

Registered with ``body=True``: the kernel's ``assay.report.build_report`` takes its rows, status and
errors as the report itself (``report.json``, the console table, ``--format markdown|csv|json``, the
exit status of ``assay report``); the other reporters add sections to it. The fold and the Rich table
(:mod:`assay_eval_report.reporter`) are imported only when a report is built.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "eval",
        "assay_eval_report.reporter:REPORTER",
        description="the eval report: scores per benchmark, subset and metric with 95% CIs, errors by kind",
        body=True,
    )
