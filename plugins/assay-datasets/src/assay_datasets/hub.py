"""The hubs (ModelScope, Hugging Face): one place for their settings and their snapshot download.

Used by the dataset download (:func:`assay_datasets.sources.download`) and by model plugins that fetch a
checkpoint (assay-transformers). Hugging Face honours ``HF_ENDPOINT`` (a mirror), ``HF_HUB_OFFLINE``
and ``HF_HUB_CACHE``; ModelScope honours ``MODELSCOPE_DOMAIN`` (``http://host:port`` for a mirror)
and ``MODELSCOPE_CACHE``. Both are set to fail within seconds when offline (:data:`HUB_ENV`, each
value only where the environment does not set it already).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["HUBS", "HUB_ENV", "LABELS", "cache_dir", "snapshot", "why"]

HUBS = ("modelscope", "huggingface")
LABELS = {"modelscope": "ModelScope", "huggingface": "Hugging Face"}

# Fail within seconds when offline instead of retrying for tens of seconds.
HUB_ENV = {
    "MODELSCOPE_API_MAX_RETRIES": "1",
    "MODELSCOPE_DOWNLOAD_MAX_RETRIES": "1",
    "MODELSCOPE_DOWNLOAD_TOTAL_TIMEOUT": "3",
    # modelscope >= 1.40 lists files through modelscope_hub, which retries 4 times (1+2+4 s)
    "MODELSCOPE_REPO_TREE_PAGE_MAX_ATTEMPTS": "1",
    "MODELSCOPE_API_CONNECT_TIMEOUT": "3",
    "HF_HUB_ETAG_TIMEOUT": "3",
    "HF_HUB_DOWNLOAD_TIMEOUT": "5",
}


def snapshot(
    repo_id: str,
    hub: str,
    *,
    repo_type: str,
    revision: str | None = None,
    allow_patterns: Sequence[str] | None = None,
    local_files_only: bool = False,
) -> Path:
    """A snapshot of ``repo_id`` (``repo_type`` "dataset" or "model") from ``hub``, downloaded into the
    hub's cache or found there. The hub client's own exceptions propagate (ImportError when the client
    is not installed): the caller words them (:func:`why`)."""
    if hub not in HUBS:
        raise ValueError(f"hub must be one of {', '.join(HUBS)}, got {hub!r}")
    for k, v in HUB_ENV.items():
        os.environ.setdefault(k, v)
    kwargs: dict[str, Any] = {"repo_type": repo_type}
    if revision:
        kwargs["revision"] = revision
    if local_files_only:
        kwargs["local_files_only"] = True
    elif allow_patterns:
        kwargs["allow_patterns"] = list(allow_patterns)
    if hub == "huggingface":
        from huggingface_hub import snapshot_download as hf_snapshot

        return Path(hf_snapshot(repo_id=repo_id, **kwargs))
    from modelscope.hub.snapshot_download import snapshot_download

    for name in ("modelscope", "modelscope_hub"):  # after the import that configures them: no INFO lines
        logging.getLogger(name).setLevel(logging.WARNING)
    endpoint = os.environ.get("MODELSCOPE_DOMAIN")
    if endpoint and endpoint.startswith("http://") and not local_files_only:
        kwargs["endpoint"] = endpoint
    return Path(snapshot_download(repo_id, **kwargs))


def cache_dir(hub: str, repo_type: str = "dataset") -> str:
    """Where ``hub`` keeps its snapshots of ``repo_type`` (for messages)."""
    if hub == "huggingface":
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    cache = os.environ.get("MODELSCOPE_CACHE") or str(Path.home() / ".cache" / "modelscope" / "hub")
    return str(Path(cache) / ("datasets" if repo_type == "dataset" else "models"))


def why(exc: BaseException, what: str = "dataset") -> str:
    """One line of a hub client's error: its type and first line, short (``what``: a dataset or a model)."""
    full = str(exc)
    text = " ".join(full.split("\n")[0].split())
    host = re.search(r"host='([^']+)', port=(\d+)", full)
    if "outgoing traffic has been disabled" in full:
        text = "offline (HF_HUB_OFFLINE) and not in the cache"
    elif host and ("Connection" in full or "NameResolution" in full):
        text = f"cannot connect to {host[1]}:{host[2]} (offline, or the hub is unreachable)"
    elif "RepositoryNotFound" in type(exc).__name__:
        text = f"no {what} of that id there (404)"
    return f"{type(exc).__name__}: {text[:300]}"
