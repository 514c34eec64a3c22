"""Memory of an eval against the number of samples (issue: constant memory at any size).

Runs `assay eval --datasets gsm8k --repeats R` with the offline `mock` model for each R and reports the peak
RSS of the process (GNU time) and its growth per sample between the smallest and the largest run. With
`--baseline-kernel DIR` (the `kernel/` folder of another checkout) the same runs are made with that kernel
first, so both figures come from the same machine in the same session.

Usage: python benchmarks/bench_memory.py [--repeats-list 4 16] [--runs 3] [--baseline-kernel /tmp/base/kernel]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ASSAY_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))
GSM8K = 1319


def peak_rss_kib(repeats: int, kernel: str | None) -> int:
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    if kernel:
        env["PYTHONPATH"] = kernel + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as work, tempfile.NamedTemporaryFile(suffix=".rss") as rss:
        cmd = [
            "/usr/bin/time", "-f", "%M", "-o", rss.name,
            sys.executable, "-m", "assay", "eval", "--datasets", "gsm8k", "--repeats", str(repeats),
            "--dataset-dir", str(DATA), "--work-dir", work, "--no-progress", "--eval-batch-size", "16",
        ]  # fmt: skip
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return int(Path(rss.name).read_text().split()[-1])


def measure(label: str, repeats_list: list[int], runs: int, kernel: str | None) -> None:
    peaks = {}
    for r in repeats_list:
        peaks[r] = statistics.median(peak_rss_kib(r, kernel) for _ in range(runs))
        print(f"{label}: {r * GSM8K:>7} samples  peak RSS {peaks[r] / 1024:7.1f} MiB (median of {runs})", flush=True)
    lo, hi = min(repeats_list), max(repeats_list)
    per = (peaks[hi] - peaks[lo]) * 1024 / ((hi - lo) * GSM8K)
    print(f"{label}: growth {per:.0f} bytes per sample between {lo * GSM8K} and {hi * GSM8K} samples", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats-list", type=int, nargs="+", default=[4, 16])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baseline-kernel")
    args = ap.parse_args()
    if args.baseline_kernel:
        measure("baseline", args.repeats_list, args.runs, args.baseline_kernel)
    measure("this tree", args.repeats_list, args.runs, None)


if __name__ == "__main__":
    main()
