"""The load generator's lean HTTP/1.1 client: :mod:`assay_openai.lean`, shared with the eval backend.

Kept under this name for the load generator (``assay_perf.runner``) and its callers.
"""

from __future__ import annotations

from assay_openai.lean import REDIRECTS, LeanUnsupported, Pool, lean_target

__all__ = ["REDIRECTS", "LeanUnsupported", "Pool", "lean_target"]
