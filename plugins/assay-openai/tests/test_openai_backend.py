"""openai_api backend against the real test server: discovery, params, reasoning, errors."""

from __future__ import annotations

import anyio
import pytest
from assay.api import FatalError, GenerateRequest, ModelConfig, TransientError
from assay_openai.model import OpenAIModel, request_params, served_models


class Recorder:
    def __init__(self):
        self.events = []

    def emit(self, body):
        self.events.append(body)


def test_discovery_contract(plugin_host):
    entry = plugin_host.models()["openai_api"]
    assert entry.distribution == "assay-openai"
    assert "service" in entry.options["eval_types"]


def test_generation_config_split():
    params, extra = request_params({"max_new_tokens": 5, "temperature": 0, "top_k": 3, "do_sample": False})
    assert params == {"max_tokens": 5, "temperature": 0} and extra == {"top_k": 3}
    assert request_params({"stop_seqs": ["\n\n"]}) == ({"stop": ["\n\n"]}, {})  # EvalScope's name of stop


@pytest.mark.parametrize("stream", [False, True])
def test_chat_completion_records_reasoning_usage_and_timing(test_server, stream):
    srv = test_server(default_answer="four words are here", reasoning="thinking hard")
    run = Recorder()

    async def go():
        model = OpenAIModel(ModelConfig(model="m", api_url=srv.url, api_key="k", stream=stream), run)
        try:
            return await model.generate(
                GenerateRequest(
                    sample_id="s/1",
                    messages=[{"role": "user", "content": "hi"}],
                    generation_config={"max_tokens": 3, "top_k": 2},
                )
            )
        finally:
            await model.aclose()

    result = anyio.run(go)
    assert result.output == "four words are "  # the server cut at max_tokens=3
    assert result.reasoning == "thinking hard" and result.finish_reason == "length"
    assert result.usage.completion_tokens == 3
    (timed,) = run.events
    assert timed.ok and timed.status == 200 and timed.sent <= timed.first_byte <= timed.end
    assert len(timed.chunk_times) == (3 if stream else 1)
    assert srv.requests[0]["top_k"] == 2  # extra_body reached the server


@pytest.mark.parametrize("stream", [False, True])
def test_tools_are_sent_and_tool_calls_returned(test_server, stream):
    # tools ride in the generation config (a benchmark puts them in SampleLoaded.metadata.generation_config);
    # the server's rule answers with two calls, streamed as OpenAI does: name first, arguments in fragments
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    calls = [
        {"name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}},
        {"name": "get_time", "arguments": '{"tz": "CET"'},  # raw text as the server gave it (broken JSON)
    ]
    srv = test_server(rules=[{"match": "weather", "answer": "", "tool_calls": calls}])
    run = Recorder()

    async def go(text):
        model = OpenAIModel(ModelConfig(model="m", api_url=srv.url, api_key="k", stream=stream), run)
        try:
            return await model.generate(
                GenerateRequest(
                    sample_id="s/1",
                    messages=[{"role": "user", "content": text}],
                    generation_config={"tools": tools, "tool_choice": "auto"},
                )
            )
        finally:
            await model.aclose()

    result = anyio.run(go, "weather in Paris?")
    assert srv.requests[0]["tools"] == tools and srv.requests[0]["tool_choice"] == "auto"
    assert result.finish_reason == "tool_calls" and result.output == ""
    assert [(c["name"], c["arguments"]) for c in result.tool_calls] == [
        ("get_weather", '{"city": "Paris", "unit": "C"}'),
        ("get_time", '{"tz": "CET"'),
    ]
    assert result.tool_calls[0]["id"] == "call_1_0"
    plain = anyio.run(go, "hello")
    assert plain.tool_calls is None and plain.finish_reason == "stop"


def test_completions_api_for_prompt_samples(test_server):
    srv = test_server(default_answer="ok")
    run = Recorder()

    async def go():
        model = OpenAIModel(ModelConfig(model="m", api_url=srv.url + "/completions"), run)
        try:
            return await model.generate(GenerateRequest(sample_id="s/1", prompt="Q: 1+1\nA:"))
        finally:
            await model.aclose()

    assert anyio.run(go).output == "ok"
    assert srv.requests[0]["prompt"] == "Q: 1+1\nA:"


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("http_500", "http_5xx"), ("http_429", "http_429"), ("garbage", "malformed"), ("reset", "connection")],
)
def test_transient_faults_raise_transient_error(test_server, fault, kind):
    srv = test_server(faults={fault: [1]})
    run = Recorder()

    async def go():
        model = OpenAIModel(ModelConfig(model="m", api_url=srv.url), run)
        try:
            await model.generate(GenerateRequest(sample_id="s/1", messages=[{"role": "user", "content": "x"}]))
        finally:
            await model.aclose()

    with pytest.raises(TransientError):
        anyio.run(go)
    assert run.events[0].error_kind == kind and not run.events[0].ok


def test_bad_request_is_not_retried(test_server):
    srv = test_server(faults={"http_400": [1]})
    run = Recorder()

    async def go():
        model = OpenAIModel(ModelConfig(model="m", api_url=srv.url), run)
        try:
            await model.generate(GenerateRequest(sample_id="s/1", messages=[{"role": "user", "content": "x"}]))
        finally:
            await model.aclose()

    with pytest.raises(FatalError) as info:
        anyio.run(go)
    assert info.value.kind == "http_4xx" and info.value.status == 400
    assert str(info.value) == "HTTP 400: injected bad request"
    assert run.events[0].error_kind == "http_4xx" and run.events[0].status == 400


def _ask(srv_url, run, *, model="m", key=None, stream=False, deadline=None):
    async def go():
        m = OpenAIModel(ModelConfig(model=model, api_url=srv_url, api_key=key, stream=stream), run)
        try:
            request = GenerateRequest(sample_id="s/1", messages=[{"role": "user", "content": "x"}])
            if deadline is None:
                return await m.generate(request)
            with anyio.fail_after(deadline):
                return await m.generate(request)
        finally:
            await m.aclose()

    return anyio.run(go)


@pytest.mark.parametrize(
    ("settings", "model", "kind", "status", "message"),
    [
        ({"require_api_key": "right"}, "m", "auth", 401, "HTTP 401: Incorrect API key provided."),
        (
            {"served_models": ["qwen"]},
            "m",
            "not_found",
            404,
            "HTTP 404: The model `m` does not exist. (the server serves: 'qwen')",
        ),
    ],
)
def test_wrong_key_or_model_is_fatal(test_server, settings, model, kind, status, message):
    srv = test_server(**settings)
    run = Recorder()
    with pytest.raises(FatalError) as info:
        _ask(srv.url, run, model=model, key="wrong")
    assert (info.value.kind, info.value.status, str(info.value)) == (kind, status, message)
    assert info.value.url == srv.url + "/chat/completions"
    (timed,) = run.events
    assert (timed.error_kind, timed.status, timed.error, timed.ok) == (kind, status, message, False)


def test_refused_connection_says_so():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    s.close()
    run = Recorder()
    with pytest.raises(TransientError) as info:
        _ask(url, run)
    assert info.value.kind == "connection"
    assert str(info.value) == "connection refused (is the server running, and is the port right?)"
    assert run.events[0].error_kind == "connection" and "timed out" not in run.events[0].error
    with pytest.raises(FatalError) as info:
        served_models(url)
    assert str(info.value) == (f"GET {url}/models: connection refused (is the server running, and is the port right?)")


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("not_event_stream", "StreamError: a 200 response that is not an event stream"),
        ("empty_stream", "StreamError: the event stream ended with no content and no finish_reason"),
        ("error_event", "StreamError: error event in the stream: injected error event"),
        ("stream_error", "APIError: injected stream error"),
    ],
)
def test_stream_faults_are_transient(test_server, fault, message):
    srv = test_server(faults={fault: [1]}, default_answer="one two three")
    run = Recorder()
    with pytest.raises(TransientError) as info:
        _ask(srv.url, run, stream=True)
    assert info.value.kind == "stream_error" and str(info.value).startswith(message)
    assert run.events[0].error_kind == "stream_error" and not run.events[0].ok and run.events[0].status == 200
    assert _ask(srv.url, run, stream=True).output == "one two three"  # the next request is served


def test_deadline_is_timeout_and_cancellation_is_cancelled(test_server):
    srv = test_server(faults={"hang": [1, 2]}, hang_seconds=30)
    run = Recorder()
    with pytest.raises(TimeoutError):
        _ask(srv.url, run, deadline=0.3)
    assert run.events[0].error_kind == "timeout" and run.events[0].error.startswith("timed out after 0.")

    async def cancelled():
        m = OpenAIModel(ModelConfig(model="m", api_url=srv.url), run)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(m.generate, GenerateRequest(sample_id="s/2", prompt="x"))
                await anyio.sleep(0.3)
                tg.cancel_scope.cancel()
        finally:
            await m.aclose()

    anyio.run(cancelled)
    assert run.events[1].error_kind == "cancelled"


def test_served_models(test_server):
    srv = test_server(served_models=["a", "b"], require_api_key="k")
    assert served_models(srv.url + "/chat/completions", "k") == ["a", "b"]
    with pytest.raises(FatalError) as info:
        served_models(srv.url, "wrong")
    assert (
        info.value.kind == "auth" and str(info.value) == f"GET {srv.url}/models: HTTP 401: Incorrect API key provided."
    )


def test_no_sdk_on_the_request_path():
    """One HTTP client (aiohttp, assay_openai.http) for eval and perf: the backend imports no openai
    SDK module, private or public (issue 11's private `openai._base_client` import is gone)."""
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).parents[1] / "src" / "assay_openai"
    for f in src.glob("*.py"):
        text = f.read_text(encoding="utf-8")
        assert "import openai" not in text and "from openai" not in text, f.name
    code = "import sys, assay_openai.model, assay_perf.runner; print('openai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
