"""assay-transformers: local checkpoints and hub ids through transformers.

Registers the ``transformers`` model backend (``--eval-type llm_ckpt`` / ``checkpoint``,
or claimed for a local checkpoint directory / ``org/name`` hub id), the ``speed``
reporter and event type, and the ``assay speed-benchmark`` command.

Importing this module is cheap: torch and transformers are imported where used.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


def _model_factory(config: Any, run: Any) -> Any:
    from .backend import TransformersModel

    return TransformersModel(config, run)


def _claims(config: Any) -> bool:
    from .loading import claims

    return claims(config)


@hookimpl
def assay_models(register: Any) -> None:
    register(
        "transformers",
        _model_factory,
        description="local checkpoint or ModelScope/Hugging Face hub id, run with transformers (batched, log-likelihood)",
        eval_types=("llm_ckpt", "checkpoint"),
        claims=_claims,
    )


@hookimpl
def assay_event_types(register: Any) -> None:
    from .speed import SpeedMemory

    register("SpeedMemory", SpeedMemory)


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "speed",
        "assay_transformers.speed:REPORTER",
        kinds={"speed"},
        description="speed benchmark: tokens/s and peak accelerator memory per prompt length",
    )


@hookimpl
def assay_commands(cli: Any) -> None:
    from .speed import add_arguments, command

    handler = cli.command(
        "speed-benchmark",
        help="EvalScope-style speed benchmark of a local model (tokens/s, peak memory per prompt length)",
    )(command)
    handler.arguments(add_arguments)
