"""assay-wandb: an ``assay_event`` observer that logs each run to Weights & Biases.

Off unless ``ASSAY_TRACKERS`` names ``wandb`` (``ASSAY_TRACKERS=wandb``, or ``--visualizer wandb`` on
``assay eval`` / ``assay perf``). W&B's own variables say where and how (``WANDB_API_KEY``,
``WANDB_PROJECT`` (default ``assay``), ``WANDB_ENTITY``, ``WANDB_MODE=offline``, ``WANDB_DIR``: default
the run directory). wandb is imported only then (it is slow to import).
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl
from assay_reportkit.trackers import enabled

__version__ = "0.1.0"


@hookimpl
def assay_event(event: Any, run: Any) -> None:
    if event.type in ("RunStarted", "RunResumed") and not enabled("wandb"):
        return
    from .tracker import observe

    observe(event, run)
