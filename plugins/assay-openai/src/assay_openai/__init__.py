"""OpenAI-compatible model backend for assay, and the Anthropic Messages API backend."""

from __future__ import annotations

from typing import Any

from assay import hookimpl


def _factory(config: Any, run: Any) -> Any:
    from .model import OpenAIModel  # aiohttp is imported when the model is used

    return OpenAIModel(config, run)


def _anthropic_factory(config: Any, run: Any) -> Any:
    from .anthropic import AnthropicModel

    return AnthropicModel(config, run)


def _served_models(api_url: str, api_key: str | None = None, timeout: float | None = None) -> list[str]:
    from .model import served_models

    return served_models(api_url, api_key, timeout)


@hookimpl
def assay_models(register: Any) -> None:
    register(
        "openai_api",
        _factory,
        description="OpenAI-compatible chat/completions API (--api-url)",
        eval_types=("openai_api", "service", "openai"),
        served_models=_served_models,
    )
    register(
        "anthropic_api",
        _anthropic_factory,
        description="Anthropic Messages API (POST /v1/messages; --api-url, x-api-key)",
        eval_types=("anthropic_api", "anthropic"),
    )
