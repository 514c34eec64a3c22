"""Where a benchmark's files come from.

Order: ``dataset_args.<name>.local_path``; then ``--dataset-dir`` / ``ASSAY_DATA_DIR``
(``<dir>/<name>`` or any of the benchmark's candidate folder names); then a hub
download (ModelScope by default, Hugging Face with ``dataset_hub: huggingface``).
Offline with no files: one error saying where it looked and how to point at files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assay.api import AssayError
from assay.redact import visible

from . import hub as hub_module
from .hub import HUBS

if TYPE_CHECKING:
    from assay.api import BenchmarkArgs

HubId = str | dict[str, str]


def hub_ids(hub_id: HubId | None) -> dict[str, str]:
    """A benchmark's dataset id on each hub: one string (the same id on both, as EvalScope's
    ``dataset_id``) or ``{"modelscope": ..., "huggingface": ...}``."""
    if not hub_id:
        return {}
    if isinstance(hub_id, str):
        return dict.fromkeys(HUBS, hub_id)
    return {k: v for k, v in hub_id.items() if v}


def locate(
    args: BenchmarkArgs, *candidates: str, hub_id: HubId | None = None, hub_files: Sequence[str] | None = None
) -> Path:
    """Where a benchmark's files are: ``local_path``; then ``--dataset-dir`` / ``ASSAY_DATA_DIR``;
    then a download of the benchmark's dataset id on ``--dataset-hub`` (``hub_files``: glob patterns
    of the files to fetch, all when not given) into the hub's cache, read by the same loader."""
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
    if not looked:
        looked.append("no --dataset-dir / ASSAY_DATA_DIR given")
    ids = hub_ids(hub_id)
    hub = args.dataset_hub
    if not ids:
        looked.append(f"no hub download ({args.name} names no hub dataset)")
    elif hub not in ids:
        other = ", ".join(f"{h} {i!r}" for h, i in ids.items())
        looked.append(f"no {hub} id for {args.name} (it has {other}: pass --dataset-hub {next(iter(ids))})")
    else:
        try:
            return download(ids[hub], hub, allow_patterns=hub_files)
        except AssayError as exc:
            looked.append(str(exc))
    raise AssayError(
        f"{args.name}: no local files, and no download. Looked in: "
        + "; ".join(looked)
        + f". Point assay at the files with --dataset-dir DIR (holding {args.name}/), "
        f'ASSAY_DATA_DIR, or --dataset-args \'{{"{args.name}": {{"local_path": "PATH"}}}}\'.'
    )


def download(hub_id: str, hub: str = "modelscope", *, allow_patterns: Sequence[str] | None = None) -> Path:
    """Fetch a dataset snapshot from a hub into its cache (:func:`assay_datasets.hub.snapshot`, the hubs' settings
    and mirrors); raise AssayError quickly when offline. On ModelScope a snapshot downloaded before still
    serves when the hub is unreachable."""
    label = hub_module.LABELS.get(hub, hub)
    try:
        return hub_module.snapshot(hub_id, hub, repo_type="dataset", allow_patterns=allow_patterns)
    except ImportError as exc:
        raise AssayError(f"{label} dataset {hub_id!r}: downloading needs {exc.name}: pip install {exc.name}") from None
    except Exception as exc:  # noqa: BLE001 - every hub failure reads the same to a user
        why = hub_module.why(exc)
        if hub == "modelscope":  # unreachable: a snapshot downloaded before still serves
            try:
                cached = hub_module.snapshot(hub_id, hub, repo_type="dataset", local_files_only=True)
            except Exception:  # noqa: BLE001 - not cached either: the first error says why
                pass
            else:
                print(f"{label} unreachable ({why}); using the cached {visible(str(cached))}", file=sys.stderr)
                return cached
        raise AssayError(f"{label} dataset {hub_id!r} (cache {hub_module.cache_dir(hub)}): {why}") from None
