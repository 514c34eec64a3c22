"""OpenAI-compatible model backend for assay."""

from __future__ import annotations

from typing import Any

from assay import hookimpl


def _factory(config: Any, run: Any) -> Any:
    from .model import OpenAIModel  # the openai SDK takes ~1 s to import: only when used

    return OpenAIModel(config, run)


@hookimpl
def assay_models(register: Any) -> None:
    register(
        "openai_api",
        _factory,
        description="OpenAI-compatible chat/completions API (--api-url)",
        eval_types=("openai_api", "service", "openai"),
    )
