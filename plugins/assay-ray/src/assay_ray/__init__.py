"""assay-ray: run ``assay eval`` and ``assay perf`` on a Ray cluster (``--executor ray``).

This module only registers things; ray is imported when the executor runs.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


@hookimpl
def assay_executors(register: Any) -> None:
    register(
        "ray",
        "assay_ray.executor:RayExecutor",
        description="Ray actors: eval shards (API clients or model replicas), perf load generators",
    )


@hookimpl
def assay_event_types(register: Any) -> None:
    from .events import WorkerJoined, WorkerLost

    register("WorkerJoined", WorkerJoined)
    register("WorkerLost", WorkerLost)
