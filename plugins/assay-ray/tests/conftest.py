"""A real local Ray cluster for assay-ray's tests: a head (2 CPUs) and a second node holding a
custom resource, both on this host, started once per session with ``ray start --block`` and
stopped at the end (by their process ids). Never ``local_mode``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from assay_testserver.testing import server_processes  # noqa: E402
from ray_helpers import SECOND_RESOURCE  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "ray: tests that start a real local Ray cluster (select with -m ray)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_cli() -> list[str]:
    """``ray`` run by this interpreter: Ray starts its workers with the interpreter that ran ``ray start``,
    so the actors import assay from this checkout (a ``ray`` script of another Python would run that
    Python's assay in the actors)."""
    return [sys.executable, "-m", "ray.scripts.scripts"]


class Cluster:
    def __init__(self, address: str, temp: Path, procs: list[subprocess.Popen]) -> None:
        self.address = address
        self.temp = temp
        self.procs = procs


def _stop(procs: list[subprocess.Popen]) -> None:
    try:
        import psutil
    except ImportError:  # installed alone: each `ray start` leads a process group of its own
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            p.wait(30)
        return
    family: list[psutil.Process] = []
    for p in procs:
        try:
            root = psutil.Process(p.pid)
            family += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    for p in reversed(procs):  # the second node first; `ray start --block` cleans up on SIGTERM
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
    _gone, alive = psutil.wait_procs(family, timeout=5)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


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
    common = ["--block", "--disable-usage-stats", "--object-store-memory=80000000"]
    procs: list[subprocess.Popen] = []
    try:
        head = [*_ray_cli(), "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false"]
        procs.append(_start_node(head + [f"--temp-dir={temp}", *common], temp / "head.log", env))
        second = [*_ray_cli(), "start", f"--address={address}", "--num-cpus=0"]
        second += [f"--resources={json.dumps({SECOND_RESOURCE: 4})}", *common]
        procs.append(_start_node(second, temp / "second.log", env))
        yield Cluster(address, temp, procs)
    finally:
        try:
            import ray

            if ray.is_initialized():
                ray.shutdown()
        except ImportError:
            pass
        _stop(procs)
        shutil.rmtree(temp, ignore_errors=True)


def _start_node(argv: list[str], log: Path, env: dict[str, str], attempts: int = 3) -> subprocess.Popen:
    """``ray start --block``, once more when it fails: on an overloaded host the raylet gives up when its
    dashboard agent takes more than Ray's fixed ~15 s to start (it crashes, and `ray start` exits)."""
    for attempt in range(1, attempts + 1):
        with open(log, "w") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            _wait_for(log, "Ray runtime started", proc, 120)
            return proc
        except RuntimeError:
            _stop([proc])
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def _wait_for(log: Path, text: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"ray start exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    raise RuntimeError(f"ray start did not come up in {timeout} s: {log.read_text(errors='replace')[-2000:]}")


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
