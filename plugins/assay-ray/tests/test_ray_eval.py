"""``assay eval --executor ray`` on a real local cluster: a killed actor, a killed driver, a starved cluster."""

from __future__ import annotations

import collections
import json
import os
import signal
import time
from pathlib import Path

import pytest
from assay_testserver.testing import assay, assay_popen, events, run_dirs, wait_for_events
from ray_helpers import SECOND_RESOURCE

# one cluster per session, so every test that uses it runs in the same pytest-xdist worker
pytestmark = [pytest.mark.ray, pytest.mark.xdist_group("ray")]
pytest.importorskip("assay_gsm8k")  # what these tests run (installed with the dev install)

N = 40  # gsm8k samples


def _eval_args(url: str, work: Path, address: str, datasets: Path, *, batch: int = 4, **executor: object) -> list[str]:
    args = ["eval", "--model", "m", "--api-url", url, "--api-key", "sk-ray-SECRET-4242", "--datasets", "gsm8k"]
    args += ["--limit", str(N), "--eval-batch-size", str(batch), "--dataset-dir", str(datasets)]
    args += ["--work-dir", str(work), "--no-progress", "--executor", "ray"]
    return args + ["--executor-args", json.dumps({"address": address, **executor})]


def _killed_driver(url: str, work: Path, address: str, datasets: Path) -> Path:
    """An eval on one actor, killed (SIGKILL) once it generated 6 samples: its run directory."""
    proc = assay_popen(*_eval_args(url, work, address, datasets, workers=1))
    run_dir, _ = wait_for_events(work, "Generated", 6, proc, timeout=180)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    return run_dir


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
    args = _eval_args(url, tmp_path, ray_cluster.address, datasets_dir, workers=2, resources={SECOND_RESOURCE: 1})
    proc = assay_popen(*args)
    run_dir, joined = wait_for_events(tmp_path, "WorkerJoined", 2, proc, timeout=180)
    # pinned by the custom resource: both actors on the second node; API clients hold no CPU
    assert [j["body"]["node_id"] for j in joined] == [second, second]
    assert all(j["body"]["options"] == {"num_cpus": 0, "resources": {SECOND_RESOURCE: 1}} for j in joined)
    # Ray starts its workers at nice 15: the actors run at the driver's priority where the host allows it (root)
    assert [j["body"]["nice"] for j in joined] == [os.nice(0) if os.geteuid() == 0 else 15] * 2
    wait_for_events(tmp_path, "Generated", 4, proc, timeout=180)
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
    run_dir = _killed_driver(url, tmp_path / "a", ray_cluster.address, datasets_dir)
    before = collections.Counter(e["type"] for e in events(run_dir))
    assert 6 <= before["Generated"] < N and before["RunFinished"] == 0
    # with Ray: the run's own executor (from its log); the key is asked for again, never logged
    env = {"ASSAY_API_KEY": "sk-ray-SECRET-4242"}
    res = assay("resume", str(run_dir), env=env, timeout=240)
    assert f"{N - before['Generated']} to generate" in res.stderr
    evs = _check_exactly_once(run_dir)
    assert sum(1 for e in evs if e["type"] == "WorkerJoined") == 2  # one from each process

    # without Ray: the same kind of run killed, then finished by the local executor
    run_dir = _killed_driver(url, tmp_path / "b", ray_cluster.address, datasets_dir)
    assay("resume", str(run_dir), "--executor", "local", env=env, timeout=240)
    evs = _check_exactly_once(run_dir)
    assert sum(1 for e in evs if e["type"] == "WorkerJoined") == 1  # only the killed driver's


def test_a_starved_cluster_is_an_error_not_a_hang(ray_client, ray_cluster, tmp_path, datasets_dir):
    # model replicas (the offline mock model is not a served one) sized from --executor-args: 3 CPUs
    # each, on a cluster of 2
    t0 = time.monotonic()
    res = assay(
        *["eval", "--datasets", "gsm8k", "--limit", "4", "--no-progress", "--dataset-dir", str(datasets_dir)],
        *["--work-dir", str(tmp_path), "--executor", "ray", "--executor-args"],
        json.dumps({"address": ray_cluster.address, "workers": 1, "num_cpus": 3, "start_timeout": 3}),
        check=2,
        timeout=120,
    )
    assert time.monotonic() - t0 < 60
    assert (
        "error: the Ray cluster did not start 1 eval worker(s) needing num_cpus=3 each within 3 s "
        "(started 0; available now: CPU=2" in res.stderr
    )
    assert "lower --executor-args num_cpus / num_gpus / workers" in res.stderr
    (run_dir,) = run_dirs(tmp_path)
    evs = events(run_dir, whole=True)
    assert evs[-1]["type"] == "RunFinished" and evs[-1]["body"]["status"] == "failed"
    assert not [e for e in evs if e["type"] == "Generated"]
