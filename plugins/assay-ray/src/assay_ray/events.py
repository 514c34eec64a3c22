"""Event types of assay-ray: which workers a run had, their clocks, and the ones it lost."""

from __future__ import annotations

from typing import Any

import msgspec
from assay.events import Body


class WorkerJoined(Body, kw_only=True):
    """One Ray actor that worked for the run (a replacement of a lost one joins too)."""

    executor: str = "ray"
    worker: str  # the actor's name in the run
    role: str  # eval | perf
    node_id: str = ""
    host: str = ""
    pid: int | None = None
    options: dict[str, Any] = msgspec.field(default_factory=dict)  # num_cpus, num_gpus, resources
    clock_offset: float = 0.0  # worker wall clock minus the driver's (s), from the fastest of the pings
    clock_rtt: float = 0.0  # the round trip of that ping (s): the offset is known within +- rtt / 2
    nice: int | None = None  # the actor's nice value as it joined (Ray's default for workers is 15)


class WorkerLost(Body, kw_only=True):
    """An actor died with work in hand: its unfinished shard went back to the queue."""

    executor: str = "ray"
    worker: str
    error: str
    requeued: int = 0  # samples handed out again
    attempt: int = 1  # how many times that shard was lost so far
