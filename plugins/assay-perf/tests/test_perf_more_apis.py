"""`assay perf --api anthropic` (the Messages API) and `--api dashscope` (DashScope's text-generation
API, as EvalScope's dashscope plugin sends it), each against the test server's own implementation."""

from __future__ import annotations

import pytest

KEY = "sk-perf-SECRET-31337"


@pytest.mark.parametrize("stream", [True, False])
def test_anthropic_messages(test_server, perf, request_events, stream):
    srv = test_server(default_answer="a b c d e f g", itl=0.002, require_api_key=KEY, reasoning="hmm")
    flags = ["--url", srv.url, "--api", "anthropic", "--model", "claude", "--number", "4", "--max-tokens", "5"]
    flags += ["--min-prompt-length", "3", "--max-prompt-length", "3", "--temperature", "0.5", "--stop", "zz"]
    run_dir, rep = perf(*flags, "--api-key", KEY, "--stream" if stream else "--no-stream")
    body = srv.requests[0]
    expected = {"model", "max_tokens", "messages", "temperature", "stop_sequences"} | ({"stream"} if stream else set())
    assert set(body) == expected and body["max_tokens"] == 5 and body["stop_sequences"] == ["zz"]
    assert [m["role"] for m in body["messages"]] == ["user"] and len(body["messages"][0]["content"].split()) == 3
    (p,) = rep["points"]
    assert (p["succeeded"], p["failed"], p["usage_reported"]) == (4, 0, 4)
    assert p["output_tokens"]["mean"] == 5 and p["prompt_tokens"]["mean"] == 3  # the server's usage
    evs = request_events(run_dir)
    assert {e["api"] for e in evs} == {"anthropic"} and {e["url"] for e in evs} == {srv.url + "/messages"}
    # streamed: the thinking delta and one text delta per word are content chunks; whole: one chunk
    assert {len(e["chunk_times"]) for e in evs} == ({6} if stream else {1})
    assert KEY not in (run_dir / "events.jsonl").read_text()


def test_anthropic_faults(test_server, perf):
    srv = test_server(default_answer="a b c d e f", faults={"error_event": [1], "http_529": [2], "truncate": [3]})
    _, rep = perf("--url", srv.url, "--api", "anthropic", "--model", "c", "--number", "5", "--stream", "--api-key", "k")
    (p,) = rep["points"]
    assert p["failures"] == {"http_5xx": 1, "stream_error": 1, "truncated": 1} and p["succeeded"] == 2
    # no key given: the server asks for x-api-key (401), counted as auth failures
    srv = test_server(default_answer="a b")
    _, rep = perf("--url", srv.url + "/messages", "--api", "anthropic", "--model", "c", "--number", "2")
    assert rep["points"][0]["failures"] == {"auth": 2}


@pytest.mark.parametrize("stream", [True, False])
def test_dashscope(test_server, perf, request_events, stream):
    srv = test_server(default_answer="a b c d e f g", itl=0.002, require_api_key=KEY)
    flags = ["--url", srv.url, "--api", "dashscope", "--model", "qwen-plus", "--number", "4", "--max-tokens", "5"]
    flags += ["--min-prompt-length", "3", "--max-prompt-length", "3", "--temperature", "0.5", "--seed", "7"]
    run_dir, rep = perf(*flags, "--api-key", KEY, "--stream" if stream else "--no-stream")
    body = srv.requests[0]
    assert set(body) == {"model", "input", "parameters"} and body["model"] == "qwen-plus"
    (msg,) = body["input"]["messages"]
    assert msg["role"] == "user" and len(msg["content"].split()) == 3
    params = {"result_format": "message", "max_tokens": 5, "temperature": 0.5, "seed": 7}
    assert body["parameters"] == ({**params, "incremental_output": True} if stream else params)
    (p,) = rep["points"]
    assert (p["succeeded"], p["failed"], p["usage_reported"]) == (4, 0, 4)
    assert p["output_tokens"]["mean"] == 5 and p["prompt_tokens"]["mean"] == 3  # the server's usage
    evs = request_events(run_dir)
    url = srv.url + "/services/aigc/text-generation/generation"
    assert {e["api"] for e in evs} == {"dashscope"} and {e["url"] for e in evs} == {url}
    # streamed (the server streams only when X-DashScope-SSE: enable is sent): one event per word
    assert {len(e["chunk_times"]) for e in evs} == ({5} if stream else {1})
    assert (p["tpot_s"] is not None) == stream
    assert KEY not in (run_dir / "events.jsonl").read_text()


def test_dashscope_faults(test_server, perf):
    srv = test_server(default_answer="a b c d e f", faults={"error_event": [1], "http_500": [2], "truncate": [3]})
    url = srv.url.removesuffix("/v1") + "/api/v1/services/aigc/text-generation/generation"  # the full URL, as given
    _, rep = perf("--url", url, "--api", "dashscope", "--model", "q", "--number", "5", "--stream")
    (p,) = rep["points"]
    assert p["failures"] == {"http_5xx": 1, "stream_error": 1, "truncated": 1} and p["succeeded"] == 2
