"""`assay compare` on two large eval logs (written by the kernel's LogWriter): time and peak RSS.

Usage: python benchmarks/bench_compare.py [SAMPLES]   (default 300000: 900k events, ~147 MB per log)
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from assay_compare.compare import compare
from assay.events import Generated, RunFinished, RunStarted, SampleLoaded, Scored
from assay.log import LogWriter


def write(path: Path, name: str, n: int, p_right: float, seed: int) -> None:
    rnd = random.Random(seed)
    with LogWriter(path / "events.jsonl", name) as w:
        w.append(RunStarted(resolved={"model": name}))
        batch: list = []
        for i in range(n):
            sid = f"gsm8k/main/{i}"
            value = float(rnd.random() < p_right)
            batch += [
                SampleLoaded(sample_id=sid, benchmark="gsm8k", subset="main"),
                Generated(sample_id=sid, model=name, output="x"),
                Scored(sample_id=sid, scorer="acc", metric="acc", value=value, benchmark="gsm8k", subset="main"),
            ]
            if len(batch) > 3000:
                w.append_many(batch)
                batch = []
        w.append_many(batch)
        w.append(RunFinished())


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        write(base / "a", "a", n, 0.62, 1)
        write(base / "b", "b", n, 0.64, 2)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        result = compare([str(base / "a"), str(base / "b")])
        took = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    row = result["comparisons"][0]["rows"][0]
    print(
        f"compare: {n} samples per run, {3 * n + 2} events per log: {took:.1f} s, "
        f"peak RSS {before / 1024:.0f} -> {after / 1024:.0f} MiB; diff {row['diff']:+.4f} "
        f"[{row['ci_low']:+.4f}, {row['ci_high']:+.4f}], p {row['p_value']:.3g}"
    )


if __name__ == "__main__":
    main()
