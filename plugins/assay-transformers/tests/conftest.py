"""Fixtures for assay-transformers: a tiny Llama checkpoint built locally, once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer Llama (hidden 64, 4 heads) with a byte-level BPE tokenizer (512 tokens)
    trained here on a few KB of text, a Jinja chat template, and pad/eos tokens."""
    from assay_transformers.testing import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama") / "ckpt")


@pytest.fixture(scope="session")
def tiny_loaded(tiny_model_dir: Path):
    """(model, tokenizer, device) loaded once through the backend's own loader."""
    import torch
    from assay_transformers import loading

    torch.set_num_threads(1)
    return loading.load(str(tiny_model_dir), {})


@pytest.fixture(scope="session")
def sub_env() -> dict[str, str]:
    """Environment for CLI subprocesses: one thread, hubs offline."""
    env = dict(os.environ)
    env.update(
        OMP_NUM_THREADS="1",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    return env
