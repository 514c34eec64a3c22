"""assay-swanlab: an ``assay_event`` observer that logs each run to SwanLab.

Off unless ``ASSAY_TRACKERS`` names ``swanlab`` (``ASSAY_TRACKERS=swanlab``, or ``--visualizer swanlab``
on ``assay eval`` / ``assay perf``). SwanLab's own variables say where and how (``SWANLAB_API_KEY``,
``SWANLAB_MODE``: ``online`` (default), ``offline``, ``local``; ``SWANLAB_PROJ_NAME`` (default ``assay``),
``SWANLAB_WORKSPACE``, ``SWANLAB_LOG_DIR``: default ``swanlog/`` in the run directory). swanlab is imported
only then (it is slow to import).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from assay import hookimpl
from assay_reportkit.trackers import COMMANDS, add_options, enabled, switch_on

__version__ = "0.1.0"
_TRACKER = __name__ + ".tracker"


@hookimpl
def assay_event(event: Any, run: Any) -> None:
    if event.type in ("RunStarted", "RunResumed"):
        if not enabled("swanlab"):
            return
    elif _TRACKER not in sys.modules:
        return  # no run is tracked: the tracker module is imported when a tracked run starts (issue 18)
    from .tracker import observe

    observe(event, run)


@hookimpl
def assay_options(command: str, parser: Any) -> None:
    if command in COMMANDS:
        add_options(
            parser,
            "swanlab",
            "SwanLab key, or 'local' for its local mode (never logged; prefer $SWANLAB_API_KEY); implies --visualizer swanlab",
        )


@hookimpl
def assay_option_values(command: str, args: Any) -> None:
    """``--visualizer swanlab`` or ``--swanlab-api-key``: ``$ASSAY_TRACKERS`` names swanlab; the key is
    ``$SWANLAB_API_KEY`` (``local``: ``$SWANLAB_MODE=local``)."""
    if command not in COMMANDS:
        return
    key = getattr(args, "swanlab_api_key", None)
    if key:
        from assay.redact import remember

        remember({"swanlab_api_key": key})
        if key == "local":
            os.environ["SWANLAB_MODE"] = "local"
        else:
            os.environ["SWANLAB_API_KEY"] = key
    switch_on(args)
