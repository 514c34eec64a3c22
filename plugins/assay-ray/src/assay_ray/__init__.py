"""assay-ray: run ``assay eval`` and ``assay perf`` on a Ray cluster (``--executor ray``, or
``--ray-address ADDRESS``: its shorthand, which this plugin adds to both commands).

This module only registers things; ray is imported when the executor runs.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"
COMMANDS = frozenset({"eval", "perf"})  # the commands that take --ray-address


@hookimpl
def assay_executors(register: Any) -> None:
    register(
        "ray",
        "assay_ray.executor:RayExecutor",
        description="Ray actors: eval shards (API clients or model replicas), perf load generators",
    )


@hookimpl
def assay_event_types(register: Any) -> None:
    from .events import WorkerJoined, WorkerLost

    register("WorkerJoined", WorkerJoined)
    register("WorkerLost", WorkerLost)


@hookimpl
def assay_options(command: str, parser: Any) -> None:
    if command in COMMANDS:
        parser.add_argument(
            "--ray-address",
            metavar="auto|ray://HOST:PORT|HOST:PORT",
            help="run on the Ray cluster at this address (assay-ray): implies --executor ray",
        )


@hookimpl
def assay_option_values(command: str, args: Any, config: dict[str, Any]) -> dict[str, Any] | None:
    """``--ray-address``: the shorthand of ``--executor ray --executor-args address=...``, merged into the
    other executor args (the flag's, else those of ``config``)."""
    address = getattr(args, "ray_address", None) if command in COMMANDS else None
    if address is None:
        return None
    from assay.api import AssayError
    from assay.config import parse_json_arg

    if args.executor not in (None, "ray"):
        raise AssayError(f"--ray-address runs on the ray executor: it cannot go with --executor {args.executor}")
    given = parse_json_arg(args.executor_args, "--executor-args") or None
    if given and "address" in given and given["address"] != address:
        raise AssayError("the Ray address is given twice (--ray-address and --executor-args address=...): give it once")
    return {"executor": "ray", "executor_args": {**(given or config.get("executor_args") or {}), "address": address}}
