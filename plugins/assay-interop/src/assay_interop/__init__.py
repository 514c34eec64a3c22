"""assay-interop: other harnesses' outputs in and out of assay's event log.

``assay import evalscope|lm-eval|inspect PATH`` turns an EvalScope output tree, lm-eval's
``--log_samples`` files or an inspect_ai log into an assay run (SampleLoaded / Generated / Scored, with
the source recorded in RunStarted), so report, compare, view and rescore work on it;
``assay export RUN --to evalscope DIR`` writes EvalScope's layout (predictions/, reviews/, reports/).
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


@hookimpl
def assay_commands(cli: Any) -> None:
    from .cli import register_commands

    register_commands(cli)
