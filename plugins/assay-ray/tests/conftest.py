"""A real local Ray cluster for assay-ray's tests: a head (2 CPUs) and a second node holding a
custom resource, both on this host, started once per session with ``ray start --block`` and
stopped at the end (by their process ids). Never ``local_mode``."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from assay_testserver.testing import ray_start, server_processes, stop_trees  # noqa: E402
from ray_helpers import SECOND_RESOURCE  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "ray: tests that start a real local Ray cluster (select with -m ray)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, address: str, temp: Path, procs: list[subprocess.Popen]) -> None:
        self.address = address
        self.temp = temp
        self.procs = procs


@pytest.fixture(scope="session")
def ray_cluster():
    reuse = os.environ.get("ASSAY_RAY_TEST_ADDRESS")  # a cluster of the same shape already running (development)
    if reuse:
        yield Cluster(reuse, Path(tempfile.gettempdir()), [])
        return
    temp = Path(tempfile.mkdtemp(prefix="aray", dir="/tmp"))  # short: Ray's unix sockets live under it
    port = _free_port()
    address = f"127.0.0.1:{port}"
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    # Ray's processes import hundreds of modules each: without bytecode caches (PYTHONDONTWRITEBYTECODE)
    # every agent and worker compiles them again, and on a loaded host the raylet's agent misses its deadline
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    common = ["--disable-usage-stats", "--object-store-memory=80000000"]
    procs: list[subprocess.Popen] = []
    try:
        head = ["--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false", f"--temp-dir={temp}"]
        procs.append(_start_node([*head, *common], temp / "head.log", env))
        second = [f"--address={address}", "--num-cpus=0", f"--resources={json.dumps({SECOND_RESOURCE: 4})}"]
        procs.append(_start_node([*second, *common], temp / "second.log", env))
        yield Cluster(address, temp, procs)
    finally:
        try:
            import ray

            if ray.is_initialized():
                ray.shutdown()
        except ImportError:
            pass
        stop_trees(procs)
        shutil.rmtree(temp, ignore_errors=True)


def _start_node(flags: list[str], log: Path, env: dict[str, str], attempts: int = 3) -> subprocess.Popen:
    """``ray start --block FLAGS``, once more when it fails: on an overloaded host the raylet gives up when its
    dashboard agent takes more than Ray's fixed ~15 s to start (it crashes, and `ray start` exits)."""
    for attempt in range(1, attempts + 1):
        try:
            return ray_start(*flags, log=log, env=env)
        except RuntimeError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def ray_client(ray_cluster):
    """This test process connected to the cluster (to kill actors, read nodes); both nodes alive."""
    import ray

    if not ray.is_initialized():
        ray.init(address=ray_cluster.address, namespace="assay", log_to_driver=False, logging_level="ERROR")
    deadline = time.monotonic() + 60
    while sum(1 for n in ray.nodes() if n["Alive"]) < 2:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the second Ray node did not join: {ray.nodes()}")
        time.sleep(0.5)
    return ray


@pytest.fixture
def server_process():
    """The OpenAI-compatible test server in its own process: ``url = server_process("--ttft", "0.05")``."""
    with server_processes() as start:
        yield start
