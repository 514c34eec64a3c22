"""Sandbox overhead and the wall time of HumanEval's canonical solutions in the bwrap sandbox.

    python benchmarks/bench_sandbox.py --dataset-dir ../shared/datasets [--n 40] [--workers N]

1. Overhead per execution: the median wall time of ``n`` bwrap executions of ``pass`` minus the median
   of ``n`` bare runs of the same interpreter (``python3 -c pass`` in a subprocess), one at a time.
2. The 164 canonical HumanEval solutions scored by ``code_pass`` through the execution pool
   (``workers`` threads, default the number of cores), each a sandboxed program, pass count and wall time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset-dir", default=os.environ.get("ASSAY_DATA_DIR", "../shared/datasets"))
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    opts = ap.parse_args()

    from assay.api import BenchmarkArgs
    from assay.events import Generated, SampleLoaded
    from assay_code.humaneval import HumanEval
    from assay_code.scorer import SCORER
    from assay_sandbox.core import Limits, get_sandbox

    sandbox = get_sandbox("bwrap")
    bare, boxed = [], []
    for _ in range(opts.n):
        t = time.perf_counter()
        subprocess.run([sandbox.python, "-c", "pass"], check=True, env={})
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        r = sandbox.execute_python("pass", limits=Limits(timeout=10))
        boxed.append(time.perf_counter() - t)
        assert r.passed, r
    overhead = statistics.median(boxed) - statistics.median(bare)

    args = BenchmarkArgs(name="humaneval", dataset_dir=opts.dataset_dir)
    samples = list(HumanEval(args).load(args))
    with gzip.open(Path(opts.dataset_dir) / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as f:
        canon = {r["task_id"]: r["canonical_solution"] for r in map(json.loads, f)}

    def one(s):
        sl = SampleLoaded(sample_id=f"humaneval/x/{s.id}", benchmark="humaneval", metadata=s.metadata)
        out = SCORER.score(sl, Generated(sample_id=sl.sample_id, model="canonical", output=canon[s.target]))
        return [o for o in out if getattr(o, "metric", None) == "pass"][0].value

    t = time.perf_counter()
    with ThreadPoolExecutor(opts.workers) as ex:
        values = list(ex.map(one, samples))
    wall = time.perf_counter() - t
    result = {
        "executions": opts.n,
        "bare_python_median_s": round(statistics.median(bare), 4),
        "bwrap_median_s": round(statistics.median(boxed), 4),
        "overhead_per_execution_ms": round(overhead * 1000, 1),
        "humaneval_canonical": {"problems": len(values), "passed": int(sum(values)), "wall_s": round(wall, 2)},
        "workers": opts.workers,
        "cores": os.cpu_count(),
    }
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
