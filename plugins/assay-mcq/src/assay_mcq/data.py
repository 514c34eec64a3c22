"""The kernel's readers under the names this package has always exported (see :mod:`assay.data`)."""

from __future__ import annotations

from assay.data import DataError as MCQDataError
from assay.data import read_csv, read_csv_dicts, read_jsonl

__all__ = ["MCQDataError", "read_csv", "read_csv_dicts", "read_jsonl"]
