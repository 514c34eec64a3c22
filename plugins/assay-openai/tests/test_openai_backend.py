"""openai_api backend against the real test server: discovery, params, reasoning, errors."""

from __future__ import annotations

import anyio
import pytest
from assay.api import GenerateRequest, ModelConfig, TransientError
from assay_openai.model import OpenAIModel, request_params


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

    with pytest.raises(Exception) as info:
        anyio.run(go)
    assert not isinstance(info.value, TransientError)
    assert run.events[0].error_kind == "http_4xx" and run.events[0].status == 400
