"""assay: evaluate language models through an append-only event log and plugins."""

from __future__ import annotations

from typing import Any

from .hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["TaskConfig", "__version__", "hookimpl", "run_task"]


def run_task(config: Any) -> dict[str, Any]:
    """Run one evaluation from a TaskConfig, a dict, or a YAML/JSON path; return the report."""
    from .evaluate import run_eval

    return run_eval(config)


def __getattr__(name: str) -> Any:
    # TaskConfig lives with cattrs/attrs; import it only when asked for.
    if name == "TaskConfig":
        from .config import TaskConfig

        return TaskConfig
    raise AttributeError(f"module 'assay' has no attribute {name!r}")
