"""assay-mlflow: an ``assay_event`` observer that logs each run to MLflow.

Off unless ``ASSAY_TRACKERS`` names ``mlflow`` (``ASSAY_TRACKERS=mlflow``, or ``--visualizer mlflow`` on
``assay eval`` / ``assay perf``); MLflow's own variables say
where (``MLFLOW_TRACKING_URI``: a server, ``sqlite:///mlflow.db``, or a local ``file:`` store) and which
experiment (``MLFLOW_EXPERIMENT_NAME``, default ``assay``). mlflow is imported only then.
"""

from __future__ import annotations

from assay_reportkit.trackers import TrackerHooks

__version__ = "0.1.0"

_hooks = TrackerHooks("mlflow", __name__ + ".tracker")  # --visualizer mlflow: $ASSAY_TRACKERS names mlflow
assay_event, assay_options, assay_option_values = _hooks.assay_event, _hooks.assay_options, _hooks.assay_option_values
