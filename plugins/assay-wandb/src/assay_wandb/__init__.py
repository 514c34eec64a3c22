"""assay-wandb: an ``assay_event`` observer that logs each run to Weights & Biases.

Off unless ``ASSAY_TRACKERS`` names ``wandb`` (``ASSAY_TRACKERS=wandb``, or ``--visualizer wandb`` on
``assay eval`` / ``assay perf``). W&B's own variables say where and how (``WANDB_API_KEY``,
``WANDB_PROJECT`` (default ``assay``), ``WANDB_ENTITY``, ``WANDB_MODE=offline``, ``WANDB_DIR``: default
the run directory). wandb is imported only then (it is slow to import).
"""

from __future__ import annotations

import os

from assay_reportkit.trackers import TrackerHooks

__version__ = "0.1.0"


def _use_key(key: str) -> None:
    os.environ["WANDB_API_KEY"] = key


_hooks = TrackerHooks(
    "wandb",
    __name__ + ".tracker",
    "W&B key (never logged; prefer $WANDB_API_KEY); implies --visualizer wandb",
    _use_key,
)
assay_event, assay_options, assay_option_values = _hooks.assay_event, _hooks.assay_options, _hooks.assay_option_values
