"""Where a benchmark's files come from.

Order: ``dataset_args.<name>.local_path``; then ``--dataset-dir`` / ``ASSAY_DATA_DIR``
(``<dir>/<name>`` or any of the benchmark's candidate folder names); then a hub
download (ModelScope by default, Hugging Face with ``dataset_hub: huggingface``).
Offline with no files: one error saying where it looked and how to point at files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .api import AssayError

if TYPE_CHECKING:
    from .api import BenchmarkArgs

# Fail fast when offline instead of retrying for tens of seconds.
_HUB_ENV = {
    "MODELSCOPE_API_MAX_RETRIES": "1",
    "MODELSCOPE_DOWNLOAD_MAX_RETRIES": "1",
    "MODELSCOPE_DOWNLOAD_TOTAL_TIMEOUT": "3",
    "MODELSCOPE_REPO_TREE_PAGE_MAX_ATTEMPTS": "1",
    "MODELSCOPE_API_CONNECT_TIMEOUT": "3",
    "HF_HUB_ETAG_TIMEOUT": "3",
    "HF_HUB_DOWNLOAD_TIMEOUT": "5",
}


def locate(args: BenchmarkArgs, *candidates: str, hub_id: str | None = None) -> Path:
    looked: list[str] = []
    if args.local_path:
        p = Path(args.local_path).expanduser()
        if p.exists():
            return p
        raise AssayError(f"{args.name}: dataset_args.{args.name}.local_path = {args.local_path!r} does not exist")
    names = [args.name, *candidates]
    for base in (args.dataset_dir, os.environ.get("ASSAY_DATA_DIR")):
        if not base:
            continue
        for n in names:
            p = Path(base).expanduser() / n
            looked.append(str(p))
            if p.exists():
                return p
    if hub_id:
        try:
            return download(hub_id, args.dataset_hub)
        except AssayError as exc:
            looked.append(str(exc))
    raise AssayError(
        f"{args.name}: no local files found and no download possible. Looked in: "
        + ("; ".join(looked) or "(no --dataset-dir / ASSAY_DATA_DIR given)")
        + f". Point assay at the files with --dataset-dir DIR (holding {args.name}/), "
        f'ASSAY_DATA_DIR, or --dataset-args \'{{"{args.name}": {{"local_path": "PATH"}}}}\'.'
    )


def download(hub_id: str, hub: str = "modelscope") -> Path:
    """Fetch a dataset snapshot from a hub; raise AssayError quickly when offline."""
    for k, v in _HUB_ENV.items():
        os.environ.setdefault(k, v)
    try:
        if hub == "huggingface":
            from huggingface_hub import snapshot_download as hf_snapshot

            return Path(hf_snapshot(repo_id=hub_id, repo_type="dataset"))
        from modelscope.hub.snapshot_download import snapshot_download

        return Path(snapshot_download(hub_id, repo_type="dataset"))
    except ImportError as exc:
        raise AssayError(f"{hub} download of {hub_id!r} needs {exc.name}: pip install {exc.name}") from None
    except Exception as exc:  # noqa: BLE001 - every hub failure reads the same to a user
        raise AssayError(f"{hub} download of {hub_id!r} failed ({type(exc).__name__}: {exc})") from None
