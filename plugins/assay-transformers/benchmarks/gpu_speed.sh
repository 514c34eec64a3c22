#!/usr/bin/env bash
# Speed benchmark on one GPU: a ~0.5B-parameter Llama (Qwen2.5-0.5B's shape, random weights, bf16)
# built on the machine, EvalScope's prompt lengths 1 6144 14336 30720, 256 new tokens.
# Needs the kernel and this plugin installed (pip install -e . -e plugins/assay-transformers) and
# writes the table and the run directory under $OUT. NOT YET RUN: no GPU was lent to this task.
set -euo pipefail
OUT=${OUT:-./gpu-speed-out}
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
python3 -c "
import torch
from assay_transformers.testing import build_tiny_llama
build_tiny_llama('/tmp/llama-0.5b', hidden_size=896, layers=24, heads=14, kv_heads=2, intermediate_size=4864,
                 model_vocab=151936, max_positions=32768, dtype=torch.bfloat16)
"
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"
assay speed-benchmark --model /tmp/llama-0.5b --max-tokens "${MAX_TOKENS:-256}" --work-dir "$OUT" --name speed \
    --model-args '{"precision": "bfloat16"}' | tee "$OUT/table.txt"
