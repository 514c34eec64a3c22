"""assay-swanlab: an ``assay_event`` observer that logs each run to SwanLab.

Off unless ``ASSAY_TRACKERS`` names ``swanlab`` (``ASSAY_TRACKERS=swanlab``, or ``--visualizer swanlab``
on ``assay eval`` / ``assay perf``). SwanLab's own variables say where and how (``SWANLAB_API_KEY``,
``SWANLAB_MODE``: ``online`` (default), ``offline``, ``local``; ``SWANLAB_PROJ_NAME`` (default ``assay``),
``SWANLAB_WORKSPACE``, ``SWANLAB_LOG_DIR``: default ``swanlog/`` in the run directory). swanlab is imported
only then (it is slow to import).
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl
from assay_reportkit.trackers import enabled

__version__ = "0.1.0"


@hookimpl
def assay_event(event: Any, run: Any) -> None:
    if event.type in ("RunStarted", "RunResumed") and not enabled("swanlab"):
        return
    from .tracker import observe

    observe(event, run)
