"""assay-general-mcq: your own multiple-choice questions (EvalScope's ``general_mcq``).

``dataset_args.general_mcq.local_path`` (required) is a folder or one file:

* a folder holding ``<subset>_val.csv`` / ``<subset>_val.jsonl`` (scored; ``eval_split:
  test`` reads ``<subset>_test.*``) and optionally ``<subset>_dev.*`` (few-shot examples);
  every subset found is evaluated unless ``subset_list`` picks some;
* one ``.csv`` / ``.jsonl`` file: its name (less a ``_val``/``_test`` suffix) is the subset.

Rows: ``id`` (optional; ``line<N>``, N the file line, otherwise), ``question``, option columns ``A``,
``B``, ``C``... (as many as the header has, at least two; a row may leave trailing options
empty), ``answer`` (the letter). CSV needs a header; JSONL holds one object a line with the
same keys. Errors name the file and line.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl
from assay.plugins import lazy_attributes

__version__ = "0.1.0"


# the implementation lives in .benchmark, imported on first use so `assay plugins` stays fast
__getattr__ = lazy_attributes(__name__, "benchmark")


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "general_mcq",
        "assay_general_mcq.benchmark:GeneralMCQ",
        description="your own multiple-choice CSV/JSONL (id, question, A, B, ..., answer); local_path required",
    )
