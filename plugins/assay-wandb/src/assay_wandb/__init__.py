"""assay-wandb: an ``assay_event`` observer that logs each run to Weights & Biases.

Off unless ``ASSAY_TRACKERS`` names ``wandb`` (``ASSAY_TRACKERS=wandb``, or ``--visualizer wandb`` on
``assay eval`` / ``assay perf``). W&B's own variables say where and how (``WANDB_API_KEY``,
``WANDB_PROJECT`` (default ``assay``), ``WANDB_ENTITY``, ``WANDB_MODE=offline``, ``WANDB_DIR``: default
the run directory). wandb is imported only then (it is slow to import).
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
        if not enabled("wandb"):
            return
    elif _TRACKER not in sys.modules:
        return  # no run is tracked: the tracker module is imported when a tracked run starts (issue 18)
    from .tracker import observe

    observe(event, run)


@hookimpl
def assay_options(command: str, parser: Any) -> None:
    if command in COMMANDS:
        add_options(parser, "wandb", "W&B key (never logged; prefer $WANDB_API_KEY); implies --visualizer wandb")


@hookimpl
def assay_option_values(command: str, args: Any) -> None:
    """``--visualizer wandb`` or ``--wandb-api-key``: ``$ASSAY_TRACKERS`` names wandb; the key is ``$WANDB_API_KEY``."""
    if command not in COMMANDS:
        return
    key = getattr(args, "wandb_api_key", None)
    if key:
        from assay.redact import remember

        remember({"wandb_api_key": key})
        os.environ["WANDB_API_KEY"] = key
    switch_on(args)
