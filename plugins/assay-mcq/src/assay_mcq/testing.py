"""Moved: the test helpers live in :mod:`assay_testserver.testing` (one copy for every plugin's tests).

Kept so that older imports work; ``events`` here is that module's ``bodies`` (the bodies of one type).
"""

from __future__ import annotations

from assay_testserver.testing import bodies as events
from assay_testserver.testing import cli_eval, cli_eval_hub, fake_hf_cache, rows_by

__all__ = ["cli_eval", "cli_eval_hub", "events", "fake_hf_cache", "rows_by"]
