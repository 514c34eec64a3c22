"""assay-mlflow: an ``assay_event`` observer that logs each run to MLflow.

Off unless ``ASSAY_TRACKERS`` names ``mlflow`` (``ASSAY_TRACKERS=mlflow``); MLflow's own variables say
where (``MLFLOW_TRACKING_URI``: a server, ``sqlite:///mlflow.db``, or a local ``file:`` store) and which
experiment (``MLFLOW_EXPERIMENT_NAME``, default ``assay``). mlflow is imported only then.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from assay import hookimpl

__version__ = "0.1.0"
_TRACKER = __name__ + ".tracker"


def enabled() -> bool:
    return "mlflow" in {t.strip().lower() for t in os.environ.get("ASSAY_TRACKERS", "").split(",")}


@hookimpl
def assay_event(event: Any, run: Any) -> None:
    if event.type in ("RunStarted", "RunResumed"):
        if not enabled():
            return
    elif _TRACKER not in sys.modules:
        return  # no run is tracked: the tracker module is imported when a tracked run starts (issue 18)
    from .tracker import observe

    observe(event, run)
