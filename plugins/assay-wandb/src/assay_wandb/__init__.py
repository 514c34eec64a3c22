"""assay-wandb: an ``assay_event`` observer that logs each run to Weights & Biases.

Off unless ``ASSAY_TRACKERS`` names ``wandb`` (``ASSAY_TRACKERS=wandb``, or ``--visualizer wandb`` on
``assay eval`` / ``assay perf``). W&B's own variables say where and how (``WANDB_API_KEY``,
``WANDB_PROJECT`` (default ``assay``), ``WANDB_ENTITY``, ``WANDB_MODE=offline``, ``WANDB_DIR``: default
the run directory). wandb is imported only then (it is slow to import).
"""

from __future__ import annotations

import sys
from typing import Any

from assay import hookimpl
from assay_reportkit.trackers import enabled

__version__ = "0.1.0"
_TRACKER = __name__ + ".tracker"


@hookimpl
def assay_event(event: Any, run: Any) -> None:
    if event.type in ("RunStarted", "RunResumed"):
        if not enabled("wandb"):
            return
    elif _TRACKER not in sys.modules:
        return  # no run is tracked: the tracker module is imported when a tracked run starts (issue 18)
    from .tracker import observe

    observe(event, run)
