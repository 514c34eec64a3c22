"""``assay eval --executor ray`` on a real local cluster: a killed actor, a killed driver, a starved cluster."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from assay_testserver.testing import events
from ray_helpers import SECOND_RESOURCE

# one cluster per session, so every test that uses it runs in the same pytest-xdist worker
pytestmark = [pytest.mark.ray, pytest.mark.xdist_group("ray")]
pytest.importorskip("assay_gsm8k")  # what these tests run (installed with the dev install)

N = 40  # gsm8k samples


def _eval_argv(url: str, work: Path, address: str, datasets: Path, *, batch: int = 4, **executor: object) -> list[str]:
    return [
        sys.executable,
        "-m",
        "assay",
        "eval",
        "--model",
        "m",
        "--api-url",
        url,
        "--api-key",
        "sk-ray-SECRET-4242",
        "--datasets",
        "gsm8k",
        "--limit",
        str(N),
        "--eval-batch-size",
        str(batch),
        "--dataset-dir",
        str(datasets),
        "--work-dir",
        str(work),
        "--no-progress",
        "--executor",
        "ray",
        "--executor-args",
        json.dumps({"address": address, **executor}),
    ]


def _run_dir(work: Path, timeout: float = 120) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [p for p in work.iterdir() if (p / "events.jsonl").exists()] if work.exists() else []
        if runs:
            return runs[0]
        time.sleep(0.2)
    raise AssertionError(f"no run directory under {work}")


def _wait_for(run_dir: Path, kind: str, count: int, proc: subprocess.Popen, timeout: float = 180) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [e for e in events(run_dir) if e["type"] == kind]
        if len(got) >= count:
            return got
        if proc.poll() is not None:
            raise AssertionError(f"assay exited with {proc.returncode}: {proc.stderr.read()}")
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} {kind} events in {timeout} s")


def _check_exactly_once(run_dir: Path) -> list[dict]:
    evs = events(run_dir)
    assert [e["seq"] for e in evs] == list(range(len(evs)))  # one dense log
    loaded = collections.Counter(e["body"]["sample_id"] for e in evs if e["type"] == "SampleLoaded")
    generated = collections.Counter(e["body"]["sample_id"] for e in evs if e["type"] == "Generated")
    scored = collections.Counter(e["body"]["sample_id"] for e in evs if e["type"] == "Scored")
    assert len(loaded) == N and set(loaded.values()) == {1}
    assert generated == loaded and scored == loaded  # every sample exactly once
    assert evs[-1]["type"] == "RunFinished" and evs[-1]["body"].get("status", "completed") == "completed"
    assert "SECRET-4242" not in (run_dir / "events.jsonl").read_text()
    return evs


def test_a_killed_actor_loses_nothing_and_doubles_nothing(
    ray_client, ray_cluster, server_process, tmp_path, datasets_dir
):
    ray = ray_client
    url = server_process("--ttft", "0.3", "--no-record")
    second = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and SECOND_RESOURCE in n["Resources"])
    argv = _eval_argv(url, tmp_path, ray_cluster.address, datasets_dir, workers=2, resources={SECOND_RESOURCE: 1})
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_dir = _run_dir(tmp_path)
    joined = _wait_for(run_dir, "WorkerJoined", 2, proc)
    # pinned by the custom resource: both actors on the second node; API clients hold no CPU
    assert [j["body"]["node_id"] for j in joined] == [second, second]
    assert all(j["body"]["options"] == {"num_cpus": 0, "resources": {SECOND_RESOURCE: 1}} for j in joined)
    # Ray starts its workers at nice 15: the actors run at the driver's priority where the host allows it (root)
    assert [j["body"]["nice"] for j in joined] == [os.nice(0) if os.geteuid() == 0 else 15] * 2
    _wait_for(run_dir, "Generated", 4, proc)
    ray.kill(ray.get_actor(joined[0]["body"]["worker"], namespace="assay"))
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    evs = _check_exactly_once(run_dir)
    lost = [e["body"] for e in evs if e["type"] == "WorkerLost"]
    assert len(lost) >= 1 and lost[0]["worker"] == joined[0]["body"]["worker"] and lost[0]["requeued"] >= 1
    replacement = [e["body"] for e in evs if e["type"] == "WorkerJoined"][2:]
    assert len(replacement) == 1 and replacement[0]["node_id"] == second
    assert f"worker {joined[0]['body']['worker']} lost" in err
    assert "SECRET-4242" not in out + err


def test_a_killed_driver_resumes_with_ray_and_without(ray_client, ray_cluster, server_process, tmp_path, datasets_dir):
    url = server_process("--ttft", "0.3", "--no-record")
    work = tmp_path / "a"
    proc = subprocess.Popen(
        _eval_argv(url, work, ray_cluster.address, datasets_dir, workers=1),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_dir = _run_dir(work)
    _wait_for(run_dir, "Generated", 6, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    before = collections.Counter(e["type"] for e in events(run_dir))
    assert 6 <= before["Generated"] < N and before["RunFinished"] == 0
    # with Ray: the run's own executor (from its log); the key is asked for again, never logged
    env = {**os.environ, "ASSAY_API_KEY": "sk-ray-SECRET-4242"}
    res = subprocess.run(
        [sys.executable, "-m", "assay", "resume", str(run_dir)], capture_output=True, text=True, env=env, timeout=240
    )
    assert res.returncode == 0, res.stderr
    assert f"{N - before['Generated']} to generate" in res.stderr
    evs = _check_exactly_once(run_dir)
    assert sum(1 for e in evs if e["type"] == "WorkerJoined") == 2  # one from each process

    # without Ray: the same kind of run killed, then finished by the local executor
    work = tmp_path / "b"
    proc = subprocess.Popen(
        _eval_argv(url, work, ray_cluster.address, datasets_dir, workers=1),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_dir = _run_dir(work)
    _wait_for(run_dir, "Generated", 6, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    res = subprocess.run(
        [sys.executable, "-m", "assay", "resume", str(run_dir), "--executor", "local"],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert res.returncode == 0, res.stderr
    evs = _check_exactly_once(run_dir)
    assert sum(1 for e in evs if e["type"] == "WorkerJoined") == 1  # only the killed driver's


def test_a_starved_cluster_is_an_error_not_a_hang(ray_client, ray_cluster, tmp_path, datasets_dir):
    # model replicas (the offline mock model is not a served one) sized from --executor-args: 3 CPUs
    # each, on a cluster of 2
    t0 = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "assay", "eval", "--datasets", "gsm8k", "--limit", "4", "--no-progress"]
        + ["--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path), "--executor", "ray", "--executor-args"]
        + [json.dumps({"address": ray_cluster.address, "workers": 1, "num_cpus": 3, "start_timeout": 3})],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert time.monotonic() - t0 < 60
    assert res.returncode == 2, res.stderr
    assert (
        "error: the Ray cluster did not start 1 eval worker(s) needing num_cpus=3 each within 3 s "
        "(started 0; available now: CPU=2" in res.stderr
    )
    assert "lower --executor-args num_cpus / num_gpus / workers" in res.stderr
    evs = events(_run_dir(tmp_path))
    assert evs[-1]["type"] == "RunFinished" and evs[-1]["body"]["status"] == "failed"
    assert not [e for e in evs if e["type"] == "Generated"]
