"""assay perf: a light, exact load generator for OpenAI-compatible serving endpoints.

This module only registers things; aiohttp, numpy and transformers are imported when used.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


@hookimpl
def assay_commands(cli: Any) -> None:
    from .cli import register_command

    register_command(cli)


@hookimpl
def assay_perf_apis(register: Any) -> None:
    from .apis import (
        AnthropicMessages,
        DashScope,
        OpenAIAuto,
        OpenAIChat,
        OpenAICompletions,
        OpenAIEmbeddings,
        OpenAIResponses,
        Rerank,
    )

    register(
        "openai",
        OpenAIAuto,
        description="OpenAI chat completions (completions/embeddings/rerank/responses when --url says so)",
    )
    register("openai_chat", OpenAIChat, description="POST /v1/chat/completions, streamed or not")
    register("openai_completions", OpenAICompletions, description="POST /v1/completions, streamed or not")
    # EvalScope's names: openai_embedding / embedding, openai_rerank / rerank, openai_responses / responses
    for name in ("openai_embeddings", "openai_embedding", "embedding"):
        register(name, OpenAIEmbeddings, description="POST /v1/embeddings")
    for name in ("openai_rerank", "rerank"):
        register(name, Rerank, description="POST /v1/rerank (Cohere/Jina/vLLM format)")
    for name in ("anthropic", "anthropic_messages"):
        register(name, AnthropicMessages, description="POST /v1/messages (Anthropic Messages API), streamed or not")
    register("dashscope", DashScope, description="DashScope text-generation API (input/parameters; X-DashScope-SSE)")
    for name in ("openai_responses", "openai_response", "responses"):
        register(name, OpenAIResponses, description="POST /v1/responses (OpenAI Responses API), streamed or not")


@hookimpl
def assay_event_types(register: Any) -> None:
    from .events import ServerMetricsSampled

    register("ServerMetricsSampled", ServerMetricsSampled)


@hookimpl
def assay_perf_datasets(register: Any) -> None:
    from .datasets import BUILTIN

    for name, (factory, description) in BUILTIN.items():
        register(name, factory, description=description)


@hookimpl
def assay_reporters(register: Any) -> None:
    from .metrics import EvalLatencyReporter, PerfReporter

    register("perf", PerfReporter(), description="serving metrics folded from RequestTimed events")
    register(
        "eval_latency",
        EvalLatencyReporter(),
        description="an eval's request latency: TTFT, end-to-end latency, output tokens/s (EvalScope's collect_perf)",
        # its section is empty for an eval that timed no request: `assay view` skips reading such a log for it
        events={"RequestTimed", "ServerMetricsSampled"},
    )
