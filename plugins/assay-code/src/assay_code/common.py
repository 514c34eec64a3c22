"""What the code benchmarks share: reading their files and the execution spec each sample carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay.api import AssayError, BenchmarkArgs

# dataset_args.<name> keys every code benchmark understands (besides the kernel's)
SPEC_KEYS = ("sandbox", "sandbox_options", "timeout", "limits")


def find_file(root: Path, names: tuple[str, ...], label: str) -> Path:
    if root.is_file():
        return root
    for name in names:
        for cand in (root / name, root / "data" / name):
            if cand.is_file():
                return cand
    raise AssayError(f"{label}: none of {', '.join(names)} under {root}")


def require(row: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if k not in row]
    if missing:
        raise AssayError(f"{where}: missing keys {', '.join(missing)}")


def spec(args: BenchmarkArgs, kind: str, default_timeout: float, **fields: Any) -> dict[str, Any]:
    """The execution spec stored in SampleLoaded.metadata['code']: what the scorer runs, where, with which limits."""
    extra = args.extra  # its keys were checked against the benchmark's extra_args before the run
    out: dict[str, Any] = {
        "kind": kind,
        "timeout": float(extra.get("timeout", default_timeout)),
        "sandbox": str(extra.get("sandbox", "auto")),
    }
    if extra.get("sandbox_options"):
        out["sandbox_options"] = dict(extra["sandbox_options"])
    if extra.get("limits"):
        out["limits"] = dict(extra["limits"])
    out.update(fields)
    return out
