"""Harness overhead per judged sample: `simple_qa` with the `mock` model, judged vs. not judged.

Judged: the mock backend as the judge (zero latency, no network), so the difference is the kernel's judge
path (prompt templating, the Judged event, the concurrency limiter, aggregation, the split Generated /
Scored groups). Also with the judge behind the test server over HTTP (openai_api backend, zero ttft).
Median of RUNS runs of N samples each.

Usage: python benchmarks/bench_judge.py [N] [RUNS]   (default 2000 samples, 3 runs)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from assay import run_task

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def once(n: int, judge: dict | None, work: str) -> float:
    cfg = {
        "model": "mock",
        "model_args": {"answer": "Michio Sugeno"},
        "datasets": ["simple_qa"],
        "limit": n,
        "dataset_dir": str(DATA),
        "work_dir": work,
        "progress": False,
        "eval_batch_size": 8,
        "judge_worker_num": 8,
    }
    if judge is None:
        cfg["dataset_args"] = {"simple_qa": {"metric_list": ["exact_match"]}}
    else:
        cfg["judge_model_args"] = judge
    t0 = time.perf_counter()
    run_task(cfg)
    return time.perf_counter() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    from assay_testserver import TestServer

    with TestServer(default_answer="A") as srv, tempfile.TemporaryDirectory() as work:
        setups = {
            "not judged (exact_match)": None,
            "judged, mock judge": {"model_id": "mock", "model_args": {"answer": "A"}},
            "judged, test-server judge (HTTP)": {"model_id": "judge", "api_url": srv.url},
        }
        results = {}
        for name, judge in setups.items():
            times = [once(n, judge, work) for _ in range(runs)]
            results[name] = statistics.median(times) / n * 1e3
            print(f"{name:36s} {results[name]:.3f} ms/sample (median of {runs} x {n})")
        base = results["not judged (exact_match)"]
        for name in list(setups)[1:]:
            print(f"overhead per judged sample, {name}: {results[name] - base:.3f} ms")


if __name__ == "__main__":
    main()
