"""assay-datasets: where a benchmark's files come from and how they are read (a shared library, no entry point).

- :mod:`assay_datasets.sources`: :func:`locate` (``local_path``, ``--dataset-dir`` / ``ASSAY_DATA_DIR``, then a
  hub download) and :func:`download`;
- :mod:`assay_datasets.files`: the streaming readers (:func:`read_jsonl`, :func:`read_csv`, ... and
  :func:`read_parquet` / :func:`read_arrow_stream` for the hubs' Arrow files) whose errors are a
  :class:`DataError` naming ``file:line``;
- :mod:`assay_datasets.hub`: the ModelScope / Hugging Face settings and snapshot download (also used by model
  plugins that fetch a checkpoint).

These were the kernel's ``assay.data`` and ``assay.hub`` (issue 11); ``BenchmarkArgs.data_path(...)`` is now
``assay_datasets.locate(args, ...)``.
"""

from __future__ import annotations

from .files import (
    DataError,
    read_arrow_stream,
    read_csv,
    read_csv_dicts,
    read_json,
    read_jsonl,
    read_lines,
    read_parquet,
    read_text,
)
from .sources import HubId, download, hub_ids, locate

__all__ = [
    "DataError",
    "HubId",
    "download",
    "hub_ids",
    "locate",
    "read_arrow_stream",
    "read_csv",
    "read_csv_dicts",
    "read_json",
    "read_jsonl",
    "read_lines",
    "read_parquet",
    "read_text",
]
