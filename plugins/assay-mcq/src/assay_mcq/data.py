"""assay-datasets' readers under the names this package has always exported (see :mod:`assay_datasets`)."""

from __future__ import annotations

from assay_datasets import DataError as MCQDataError
from assay_datasets import read_csv, read_csv_dicts, read_jsonl

__all__ = ["MCQDataError", "read_csv", "read_csv_dicts", "read_jsonl"]
