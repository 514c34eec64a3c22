"""``--ray-address auto|ray://HOST:PORT|HOST:PORT`` on ``assay eval`` and ``assay perf``: the shorthand of
``--executor ray --executor-args address=...``, against the real cluster the tests start."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest
from assay_testserver.testing import assay, events, run_dirs

pytestmark = [pytest.mark.ray, pytest.mark.xdist_group("ray")]
pytest.importorskip("assay_gsm8k")
pytest.importorskip("assay_perf")

ROOT = Path(__file__).resolve().parents[3]


def test_the_cluster_runs_this_checkout(ray_client):
    # Ray starts its workers with the interpreter that ran `ray start`: the actors must run the assay
    # being tested, not another installation's
    @ray_client.remote(num_cpus=0)
    def where() -> str:
        import assay

        return assay.__file__

    assert ray_client.get(where.remote()).startswith(str(ROOT))


def test_eval_with_ray_address(ray_client, ray_cluster, server_process, tmp_path, datasets_dir):
    url = server_process("--no-record")
    args = ["eval", "--model", "m", "--api-url", url, "--datasets", "gsm8k", "--limit", "12"]
    args += ["--eval-batch-size", "4", "--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path)]
    # the address merged with the other --executor-args
    assay(*args, "--no-progress", "--ray-address", ray_cluster.address, "--executor-args", "workers=2")
    (run_dir,) = run_dirs(tmp_path)
    evs = events(run_dir)
    assert [e["seq"] for e in evs] == list(range(len(evs)))
    started = evs[0]["body"]["config"]
    assert started["executor"] == "ray" and started["executor_args"] == {"workers": 2, "address": ray_cluster.address}
    # actors join as each is ready; a run done before the second joins does not wait for it
    assert sum(1 for e in evs if e["type"] == "WorkerJoined") in (1, 2)
    generated = collections.Counter(e["body"]["sample_id"] for e in evs if e["type"] == "Generated")
    assert len(generated) == 12 and set(generated.values()) == {1}
    assert evs[-1]["type"] == "RunFinished" and evs[-1]["body"].get("status", "completed") == "completed"


def test_perf_with_ray_address_and_a_warmup(ray_client, ray_cluster, server_process, tmp_path):
    url = server_process("--no-record")
    args = ["perf", "--url", f"{url}/chat/completions", "--model", "m", "--parallel", "4", "--number", "30"]
    args += ["--max-tokens", "8", "--stream", "--warmup-num", "6", "--workers", "2", "--work-dir", str(tmp_path)]
    res = assay(*args, "--quiet", "--ray-address", ray_cluster.address)
    assert "warning [executor ray]" not in res.stderr, res.stderr  # no worker started late
    (run_dir,) = run_dirs(tmp_path)
    evs = events(run_dir)
    assert [e["seq"] for e in evs] == list(range(len(evs)))
    started = evs[0]["body"]["config"]
    assert started["executor"] == "ray" and started["executor_args"] == {"address": ray_cluster.address}
    assert sum(1 for e in evs if e["type"] == "WorkerJoined") == 2
    timed = [e["body"] for e in evs if e["type"] == "RequestTimed"]
    warm = [t for t in timed if t.get("phase") == "warmup"]
    measured = [t for t in timed if t.get("phase", "measure") == "measure"]
    # the ids a single process gives, each once; every warm-up (3 a worker) ends before any measured request starts
    assert sorted(t["request_id"] for t in measured) == sorted(f"0-{i}" for i in range(30))
    assert sorted(t["request_id"] for t in warm) == sorted(f"0-w-{i}" for i in range(6))
    assert max(t["end"] for t in warm) <= min(t["scheduled"] for t in measured)
    point = json.loads((run_dir / "report.json").read_text())["sections"]["perf"]["points"][0]
    assert point["requests"] == point["succeeded"] == 30


@pytest.mark.parametrize(
    "flags, message",
    [
        (
            ["--ray-address", "head-node"],
            "error: the Ray address must be auto, ray://HOST:PORT or HOST:PORT (--ray-address), got 'head-node'",
        ),
        (
            ["--executor", "local", "--ray-address", "auto"],
            "error: --ray-address runs on the ray executor: it cannot go with --executor local",
        ),
        (
            ["--executor-args", "address=auto", "--ray-address", "127.0.0.1:6379"],
            "error: the Ray address is given twice (--ray-address and --executor-args address=...): give it once",
        ),
    ],
)
@pytest.mark.parametrize("command", ["eval", "perf"])
def test_a_bad_ray_address_is_an_error_before_the_run(command, flags, message, tmp_path, datasets_dir):
    if command == "eval":
        argv = ["eval", "--datasets", "gsm8k", "--limit", "2", "--dataset-dir", str(datasets_dir), "--no-progress"]
    else:
        argv = ["perf", "--url", "http://127.0.0.1:9/v1/chat/completions", "--model", "m", "--number", "2"]
    res = assay(*argv, "--work-dir", str(tmp_path / "w"), *flags, check=2, timeout=120)
    assert res.stderr.strip().splitlines()[-1] == message
    assert not (tmp_path / "w").exists()  # no run made
