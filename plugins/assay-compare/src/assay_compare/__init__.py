"""assay-compare: ``assay compare RUN_A RUN_B [RUN_C ...]``, a projection of the runs' logs side by side.

Registered through ``assay_commands`` like any plugin command (``assay arena``, ``assay import``,
``assay view``); the statistics are in :mod:`assay_compare.compare`.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


@hookimpl
def assay_commands(cli: Any) -> None:
    from .command import register

    register(cli)
