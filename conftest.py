"""Fixtures shared by the kernel's and every plugin's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Nothing in the tests may reach a hub; torch on two cores stalls with two threads.
for _k, _v in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "MODELSCOPE_API_MAX_RETRIES": "1",
    "MODELSCOPE_DOWNLOAD_MAX_RETRIES": "1",
    "MODELSCOPE_DOWNLOAD_TOTAL_TIMEOUT": "3",
    "MODELSCOPE_REPO_TREE_PAGE_MAX_ATTEMPTS": "1",
    "MODELSCOPE_API_CONNECT_TIMEOUT": "3",
    "OMP_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_k, _v)

REPO = Path(__file__).resolve().parent


def _shared_datasets() -> Path:
    env = os.environ.get("ASSAY_SHARED_DATASETS")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "datasets", REPO / "shared" / "datasets"]:
        if cand.is_dir():
            return cand
    raise RuntimeError("../shared/datasets not found; set ASSAY_SHARED_DATASETS")


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The real benchmark files (../shared/datasets)."""
    return _shared_datasets()


@pytest.fixture
def test_server():
    """Factory: ``srv = test_server(rules=[...], ttft=0.01)``; stopped after the test."""
    from assay_testserver import TestServer

    started = []

    def start(**settings):
        srv = TestServer(**settings).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture
def plugin_host():
    """A fresh plugin host (entry points discovered again)."""
    from assay.plugins import PluginHost

    return PluginHost()
