"""What the code benchmarks share: reading their files and the execution spec each sample carries."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assay.api import AssayError, BenchmarkArgs

# dataset_args.<name> keys every code benchmark understands (besides the kernel's)
SPEC_KEYS = ("sandbox", "sandbox_options", "timeout", "limits")


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) per non-empty line of a .jsonl or .jsonl.gz file."""
    if not path.is_file():
        raise AssayError(f"file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AssayError(f"{path}:{i}: invalid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(row, dict):
                raise AssayError(f"{path}:{i}: expected a JSON object")
            yield i, row


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
    extra = args.extra
    unknown = set(extra) - set(SPEC_KEYS) - set(fields.pop("_allowed", ()))
    if unknown:
        raise AssayError(
            f"dataset_args.{args.name}: unknown keys {', '.join(sorted(unknown))}; code benchmarks also take "
            + ", ".join(SPEC_KEYS)
        )
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
