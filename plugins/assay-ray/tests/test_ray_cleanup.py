"""The tests' Ray cluster never outlives the test run: a run killed while its session-wide cluster is up (an
xdist worker killed, a CI timeout, SIGTERM) leaves no raylet behind; ``ray_start``'s reaper stops each node's
session, and only it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from assay_testserver.testing import session_members

pytestmark = [pytest.mark.ray, pytest.mark.xdist_group("ray")]

ROOT = Path(__file__).resolve().parents[3]
HOLD = "ASSAY_RAY_HOLD_FILE"  # set by the test below for the pytest run it starts (and kills)


@pytest.mark.skipif(not os.environ.get(HOLD), reason="the inner run of test_a_killed_test_run_leaves_no_ray_node")
def test_hold_the_cluster(ray_cluster):
    hold = Path(os.environ[HOLD])
    held = {"leaders": [p.pid for p in ray_cluster.procs], "temp": str(ray_cluster.temp)}
    hold.with_suffix(".tmp").write_text(json.dumps(held))
    os.replace(hold.with_suffix(".tmp"), hold)  # (whole when it appears)
    time.sleep(600)


def _cmdlines(pids: list[int]) -> list[str]:
    out = []
    for pid in pids:
        try:
            out.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            pass
    return out


def test_a_killed_test_run_leaves_no_ray_node(tmp_path):
    hold = tmp_path / "hold.json"
    env = {**os.environ, HOLD: str(hold)}
    env.pop("ASSAY_RAY_TEST_ADDRESS", None)  # (a cluster of the inner run's own)
    log = tmp_path / "pytest.log"
    with open(log, "wb") as out:
        inner = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-n", "0", f"{__file__}::test_hold_the_cluster"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    leaders: list[int] = []
    try:
        deadline = time.monotonic() + 300
        while not hold.exists():
            assert inner.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the inner run's cluster did not come up in 300 s"
            time.sleep(0.5)
        held = json.loads(hold.read_text())
        leaders = held["leaders"]
        assert len(leaders) == 2  # the head and the second node, each `ray start --block` leading a session
        for leader in leaders:  # both nodes are up: each session holds its raylet
            assert any("/raylet " in c for c in _cmdlines(session_members(leader))), leader
        inner.send_signal(signal.SIGTERM)  # (pytest has no handler: the process ends at once, no teardown)
        assert inner.wait(30) == -signal.SIGTERM
        deadline = time.monotonic() + 60
        while (left := {leader: session_members(leader) for leader in leaders if session_members(leader)}) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.5)
        assert left == {}, {leader: _cmdlines(pids) for leader, pids in left.items()}
    finally:
        if inner.poll() is None:
            inner.kill()
            inner.wait()
        for leader in leaders:  # (when the test fails: what is left of the inner run's nodes, only them)
            for pid in session_members(leader):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if hold.exists():
            shutil.rmtree(json.loads(hold.read_text())["temp"], ignore_errors=True)
