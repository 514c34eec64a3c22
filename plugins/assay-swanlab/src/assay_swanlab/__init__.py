"""assay-swanlab: an ``assay_event`` observer that logs each run to SwanLab.

Off unless ``ASSAY_TRACKERS`` names ``swanlab`` (``ASSAY_TRACKERS=swanlab``, or ``--visualizer swanlab``
on ``assay eval`` / ``assay perf``). SwanLab's own variables say where and how (``SWANLAB_API_KEY``,
``SWANLAB_MODE``: ``online`` (default), ``offline``, ``local``; ``SWANLAB_PROJ_NAME`` (default ``assay``),
``SWANLAB_WORKSPACE``, ``SWANLAB_LOG_DIR``: default ``swanlog/`` in the run directory). swanlab is imported
only then (it is slow to import).
"""

from __future__ import annotations

import os

from assay_reportkit.trackers import TrackerHooks

__version__ = "0.1.0"


def _use_key(key: str) -> None:
    """``local``: SwanLab's local mode (``$SWANLAB_MODE``); else ``$SWANLAB_API_KEY``."""
    if key == "local":
        os.environ["SWANLAB_MODE"] = "local"
    else:
        os.environ["SWANLAB_API_KEY"] = key


_hooks = TrackerHooks(
    "swanlab",
    __name__ + ".tracker",
    "SwanLab key, or 'local' for its local mode (never logged; prefer $SWANLAB_API_KEY); implies --visualizer swanlab",
    _use_key,
)
assay_event, assay_options, assay_option_values = _hooks.assay_event, _hooks.assay_options, _hooks.assay_option_values
