"""assay-mlflow: an ``assay_event`` observer that logs each run to MLflow.

Off unless ``ASSAY_TRACKERS`` names ``mlflow`` (``ASSAY_TRACKERS=mlflow``, or ``--visualizer mlflow`` on
``assay eval`` / ``assay perf``); MLflow's own variables say
where (``MLFLOW_TRACKING_URI``: a server, ``sqlite:///mlflow.db``, or a local ``file:`` store) and which
experiment (``MLFLOW_EXPERIMENT_NAME``, default ``assay``). mlflow is imported only then.
"""

from __future__ import annotations

import sys
from typing import Any

from assay import hookimpl
from assay_reportkit.trackers import COMMANDS, add_options, enabled, switch_on

__version__ = "0.1.0"
_TRACKER = __name__ + ".tracker"


@hookimpl
def assay_event(event: Any, run: Any) -> None:
    if event.type in ("RunStarted", "RunResumed"):
        if not enabled("mlflow"):
            return
    elif _TRACKER not in sys.modules:
        return  # no run is tracked: the tracker module is imported when a tracked run starts (issue 18)
    from .tracker import observe

    observe(event, run)


@hookimpl
def assay_options(command: str, parser: Any) -> None:
    if command in COMMANDS:
        add_options(parser, "mlflow")


@hookimpl
def assay_option_values(command: str, args: Any) -> None:
    if command in COMMANDS:
        switch_on(args)  # --visualizer mlflow: $ASSAY_TRACKERS names mlflow
