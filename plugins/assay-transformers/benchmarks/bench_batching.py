"""samples/s of ``assay eval`` on the tiny local Llama at --eval-batch-size 1 vs 8 (CPU by default).

    OMP_NUM_THREADS=1 python plugins/assay-transformers/benchmarks/bench_batching.py \
        --dataset-dir ../shared/datasets [--limit 32] [--max-new-tokens 32] [--repeats 3]

Each setting runs ``run_eval`` on gsm8k (real files) ``--repeats`` times; the figure is
the median of samples / wall time of the whole eval (model load of the tiny checkpoint
included: well under a second). Greedy decoding with ``min_new_tokens = max_new_tokens``
so every sample generates the same number of tokens at both batch sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset-dir", required=True)
    p.add_argument("--limit", type=int, default=32)
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    args = p.parse_args()

    import torch
    from assay.evaluate import run_eval
    from assay_transformers.testing import build_tiny_llama

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    tmp = Path(tempfile.mkdtemp(prefix="assay-tf-bench-"))
    ckpt = build_tiny_llama(tmp / "ckpt")
    results = {}
    for bs in args.batch_sizes:
        rates = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            report = run_eval(
                {
                    "model": str(ckpt),
                    "datasets": ["gsm8k"],
                    "limit": args.limit,
                    "dataset_dir": args.dataset_dir,
                    "eval_batch_size": bs,
                    "work_dir": str(tmp / "runs"),
                    "generation_config": {
                        "max_new_tokens": args.max_new_tokens,
                        "min_new_tokens": args.max_new_tokens,
                        "temperature": 0,
                    },
                    "progress": False,
                }
            )
            took = time.perf_counter() - t0
            n = sum(r["num"] for r in report["rows"] if r["subset"] != "OVERALL (macro)" and not r.get("average"))
            rates.append(n / took)
        results[bs] = {"median_samples_per_s": statistics.median(rates), "runs": [round(r, 3) for r in rates]}
        print(
            f"batch {bs}: median {results[bs]['median_samples_per_s']:.2f} samples/s (runs: {results[bs]['runs']})",
            file=sys.stderr,
        )
    print(
        json.dumps(
            {
                "model": "tiny Llama (hidden 64, 2 layers, 4 heads, vocab 512), float32",
                "device": "cuda" if torch.cuda.is_available() else f"cpu, {torch.get_num_threads()} thread(s)",
                "limit": args.limit,
                "max_new_tokens": args.max_new_tokens,
                "results": results,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
