"""Overhead of ``--executor ray`` against the local executor at the same concurrency (issue 17).

Against the loopback test server with zero latency (its own process), in this process:

1. ``assay eval`` on GSM8K (--limit samples, default 1000), --eval-batch-size 16, local vs ray
   (--workers actors, default 2): the whole run's wall time (Ray: actor start included, the
   connection to the cluster made once before) and the steady rate (samples/s between the 50th and
   the last ``Generated`` event, from the log's own timestamps).
2. ``assay perf`` closed loop, --parallel 16, --number N (default 2000), 16-token streamed answers:
   requests/s of the report, local vs ray (--workers load generators), and the local executor with
   --workers processes (assay_perf.workers).

Each figure is the median of --repeat runs (runs alternate local / ray). The cluster is the one at
--address, else a fresh one-node cluster (``ray start --head --num-cpus=2``) started here and stopped
by its process ids at the end. Usage:
    python benchmarks/bench_ray.py [--repeat 3] [--limit 1000] [--number 2000] [--workers 2] [--address HOST:PORT]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assay_testserver.testing import ray_start, serve, stop_trees

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("ASSAY_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))


def start_server() -> tuple[subprocess.Popen, str]:
    return serve("--no-record", uvloop=True, stderr=None)


def start_cluster(temp: Path, own_session: bool = False) -> tuple[list[subprocess.Popen], str]:
    """A one-node cluster. By default in this process's session: with the kernel's autogroup scheduling
    (``/proc/sys/kernel/sched_autogroup_enabled``) a session is one scheduling group, and a cluster in a
    session of its own (``own_session``, as ``ray start`` typed in another terminal) gets its own share of a
    busy host's CPU, so each server-to-actor hop waits for another group's turn while the local executor's
    worker processes share the server's group: on 2 busy cores that alone halved Ray's req/s."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # Ray's processes would compile every module at each start
    flags = ["--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"]
    flags += ["--object-store-memory=80000000", f"--temp-dir={temp}"]
    proc = ray_start(*flags, log=temp / "head.log", env=env, own_session=own_session)
    return [proc], f"127.0.0.1:{port}"


def eval_once(url: str, work: Path, limit: int, executor: str, args: dict) -> dict:
    from assay.evaluate import run_eval

    cfg = {
        "model": "m",
        "api_url": url,
        "datasets": ["gsm8k"],
        "limit": limit,
        "eval_batch_size": 16,
        "dataset_dir": str(DATA),
        "work_dir": str(work),
        "progress": False,
        "executor": executor,
        "executor_args": args,
    }
    t0 = time.perf_counter()
    run_eval(cfg)
    wall = time.perf_counter() - t0
    (run,) = [p for p in work.iterdir() if (p / "events.jsonl").exists()]
    evs = [json.loads(line) for line in open(run / "events.jsonl")]
    ts = [e["ts"] for e in evs if e["type"] == "Generated"]
    assert len(ts) == limit, len(ts)
    skip = min(50, limit // 4)
    out = {"wall_s": wall, "steady_samples_per_s": (len(ts) - skip) / (ts[-1] - ts[skip])}
    out["first_generated_s"] = ts[0] - evs[0]["ts"]  # start-up: run start to the first answer
    joined = [e["ts"] for e in evs if e["type"] == "WorkerJoined"]
    if joined:  # actor processes started, the model backend imported and opened in each
        out["actor_start_s"] = max(joined) - evs[0]["ts"]
        out["first_actor_s"] = min(joined) - evs[0]["ts"]
        out["actors_joined"] = len(joined)
    return out


def perf_once(url: str, work: Path, number: int, executor: str, workers: int, args: dict) -> dict:
    from assay.plugins import PluginHost
    from assay_perf.runner import PerfOptions, run_perf

    opts = PerfOptions(
        url=f"{url}/chat/completions",
        model="m",
        parallel=[16],
        number=[number],
        max_tokens=16,
        stream=True,
        work_dir=str(work),
        executor=executor,
        workers=workers,
        executor_args=args,
    )
    _, report = run_perf(opts, PluginHost())
    point = report["sections"]["perf"]["points"][0]
    assert point["succeeded"] == number, point
    # client CPU inside the point: this process's, its worker processes' or its Ray actors' (and the driver's)
    return {"requests_per_s": point["request_throughput"], "cpu_ms_per_request": 1000 * opts.points_cpu_s / number}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--number", type=int, default=2000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--address")
    p.add_argument("--only", choices=["eval", "perf"], help="measure one of the two (default both)")
    p.add_argument("--own-session", action="store_true", help="start the cluster in a session of its own")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "ray_results.json"))
    a = p.parse_args()
    temp = Path(tempfile.mkdtemp(prefix="bray", dir="/tmp"))
    cluster: list[subprocess.Popen] = []
    server, url = start_server()
    try:
        address = a.address
        if not address:
            cluster, address = start_cluster(temp, a.own_session)
        import ray

        ray.init(address=address, namespace="assay", log_to_driver=False, logging_level="ERROR")
        rargs = {"address": address, "workers": a.workers}
        runs: dict[str, list[dict]] = {
            "eval_local": [],
            "eval_ray": [],
            "perf_local": [],
            "perf_ray": [],
            "perf_local_workers": [],  # the local executor with --workers processes (assay_perf.workers)
        }
        for i in range(a.repeat):
            for ex in ("local", "ray"):
                if a.only != "perf":
                    work = temp / f"eval-{ex}-{i}"
                    runs[f"eval_{ex}"].append(eval_once(url, work, a.limit, ex, rargs if ex == "ray" else {}))
                if a.only == "eval":
                    continue
                work = temp / f"perf-{ex}-{i}"
                runs[f"perf_{ex}"].append(
                    perf_once(
                        url,
                        work,
                        a.number,
                        ex,
                        a.workers if ex == "ray" else 1,
                        {"address": address} if ex == "ray" else {},
                    )
                )
                print(ex, i, runs[f"eval_{ex}"][-1:], runs[f"perf_{ex}"][-1:], file=sys.stderr)
            if a.only == "eval":
                continue
            runs["perf_local_workers"].append(perf_once(url, temp / f"perf-lw-{i}", a.number, "local", a.workers, {}))
            print("local --workers", i, runs["perf_local_workers"][-1], file=sys.stderr)

        def med(key: str, field: str) -> float | None:
            return statistics.median(r[field] for r in runs[key]) if runs[key] else None

        def ratio(x: float | None, y: float | None) -> float | None:
            return x / y if x is not None and y else None

        result = {
            "command": "python benchmarks/bench_ray.py " + " ".join(sys.argv[1:]),
            "host": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "settings": {"limit": a.limit, "eval_batch_size": 16, "perf_parallel": 16, "perf_number": a.number}
            | {"workers": a.workers, "repeat": a.repeat},
            "eval_wall_s": {"local": med("eval_local", "wall_s"), "ray": med("eval_ray", "wall_s")},
            "eval_steady_samples_per_s": {
                "local": med("eval_local", "steady_samples_per_s"),
                "ray": med("eval_ray", "steady_samples_per_s"),
            },
            "eval_ray_actor_start_s": med("eval_ray", "actor_start_s"),
            "eval_ray_first_actor_s": med("eval_ray", "first_actor_s"),
            "eval_first_generated_s": {
                "local": med("eval_local", "first_generated_s"),
                "ray": med("eval_ray", "first_generated_s"),
            },
            "perf_requests_per_s": {
                "local": med("perf_local", "requests_per_s"),
                "ray": med("perf_ray", "requests_per_s"),
                "local_workers": med("perf_local_workers", "requests_per_s"),
            },
            "perf_cpu_ms_per_request": {
                "local": med("perf_local", "cpu_ms_per_request"),
                "ray": med("perf_ray", "cpu_ms_per_request"),
                "local_workers": med("perf_local_workers", "cpu_ms_per_request"),
            },
            "runs": runs,
        }
        result["ratios_ray_over_local"] = {
            "eval_wall": ratio(result["eval_wall_s"]["ray"], result["eval_wall_s"]["local"]),
            "eval_steady_rate": ratio(
                result["eval_steady_samples_per_s"]["ray"], result["eval_steady_samples_per_s"]["local"]
            ),
            "perf_rate": ratio(result["perf_requests_per_s"]["ray"], result["perf_requests_per_s"]["local"]),
            "perf_rate_over_local_workers": ratio(
                result["perf_requests_per_s"]["ray"], result["perf_requests_per_s"]["local_workers"]
            ),
        }
        result["load_average"] = os.getloadavg()
        Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    finally:
        try:
            import ray

            ray.shutdown()
        except ImportError:
            pass
        server.terminate()
        stop_trees(cluster)
        import shutil

        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
