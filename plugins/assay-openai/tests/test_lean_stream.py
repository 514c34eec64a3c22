"""The streamed eval path on the lean client (assay_openai.lean) against the real test server: the
same answers, events and failures as on aiohttp (ASSAY_OPENAI_HTTP=aiohttp), fault by fault."""

from __future__ import annotations

import re

import anyio
import pytest
from assay.api import GenerateRequest, ModelConfig


class Recorder:
    def __init__(self):
        self.events = []

    def emit(self, body):
        self.events.append(body)


def _ask(url, client, monkeypatch, *, timeout=None, api_url_suffix="", prompt=None):
    """One streamed request; (result or exception, the RequestTimed, whether the lean client served it)."""
    from assay_openai.model import OpenAIModel

    if client == "aiohttp":
        monkeypatch.setenv("ASSAY_OPENAI_HTTP", "aiohttp")
    else:
        monkeypatch.delenv("ASSAY_OPENAI_HTTP", raising=False)
    run = Recorder()
    out = {}

    async def go():
        m = OpenAIModel(ModelConfig(model="m", api_url=url + api_url_suffix, stream=True, timeout=timeout), run)
        try:
            if prompt is not None:
                request = GenerateRequest(sample_id="s/1", prompt=prompt)
            else:
                request = GenerateRequest(sample_id="s/1", messages=[{"role": "user", "content": "x"}])
            out["result"] = await m.generate(request)
        except Exception as exc:  # noqa: BLE001 - compared between the two clients
            out["result"] = exc
        finally:
            out["lean"] = bool(m._pools) and m._session is None
            await m.aclose()

    anyio.run(go)
    (timed,) = run.events
    return out["result"], timed, out["lean"]


def _failure(exc):
    return (type(exc).__name__, exc.kind, exc.status, str(exc), getattr(exc, "retry_after", None))


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("http_500", ("TransientError", "http_5xx", 500, "HTTP 500: injected server error", None)),
        ("http_429", ("TransientError", "http_429", 429, "HTTP 429: injected rate limit", 0.0)),
        ("http_400", ("FatalError", "http_4xx", 400, "HTTP 400: injected bad request", None)),
        (
            "error_event",
            (
                "TransientError",
                "stream_error",
                None,
                "StreamError: error event in the stream: injected error event",
                None,
            ),
        ),
        ("stream_error", ("TransientError", "stream_error", None, "APIError: injected stream error", None)),
        (
            "empty_stream",
            (
                "TransientError",
                "stream_error",
                None,
                "StreamError: the event stream ended with no content and no finish_reason",
                None,
            ),
        ),
        ("reset", ("TransientError", "connection", None, "ServerDisconnectedError: Server disconnected", None)),
        (
            "garbage",
            (
                "TransientError",
                "stream_error",
                None,
                "StreamError: a 200 response that is not an event stream (Content-Type: 'application/json; charset=utf-8'): b'<html>this is not JSON'",
                None,
            ),
        ),
        ("not_event_stream", ("TransientError", "stream_error", None, None, None)),
    ],
)
def test_a_fault_fails_alike_on_both_clients(test_server, monkeypatch, fault, expected):
    srv = test_server(faults={fault: [1, 2]}, default_answer="one two three")
    seen = {}
    for client in ("lean", "aiohttp"):
        exc, timed, lean = _ask(srv.url, client, monkeypatch)
        assert lean == (client == "lean")
        got = _failure(exc)
        # (the answer's id names the request: chatcmpl-1, chatcmpl-2)
        seen[client] = re.sub(
            r"chatcmpl-\d+", "chatcmpl-N", repr((got, (timed.ok, timed.status, timed.error_kind, timed.error)))
        )
        name, kind, status, message, retry_after = expected
        assert got[:3] == (name, kind, status) and got[4] == retry_after, (client, got)
        if message is not None:
            assert got[3] == message, (client, got)
        assert timed.ok is False and timed.error_kind == kind and timed.error == got[3]
    assert seen["lean"] == seen["aiohttp"]


def test_a_cut_stream_is_a_connection_failure_on_both_clients(test_server, monkeypatch):
    srv = test_server(faults={"truncate": [1, 2]}, default_answer="one two three four")
    for client in ("lean", "aiohttp"):
        exc, timed, lean = _ask(srv.url, client, monkeypatch)
        assert lean == (client == "lean")
        assert (type(exc).__name__, exc.kind, timed.status, timed.error_kind) == (
            "TransientError",
            "connection",
            200,
            "connection",
        )
        assert str(exc).startswith("ClientPayloadError: ")
        assert len(timed.chunk_times) == 2  # the chunks before the cut were timed


@pytest.mark.parametrize(
    ("server", "chunks", "earliest"),
    [
        ({"faults": {"hang": [1, 2]}}, 0, 0.3),  # no answer at all
        # chunks 0.1 s apart for 0.4 s (longer than the 0.3 s timeout, so its first check finds a recent read and
        # waits again), then nothing for 5 s: fails if a check that finds a recent read does not schedule the next
        # one (the stream then waits out the stall); the timeout strikes 0.3 s after the last read, at 0.7 s
        ({"default_answer": "a b c d e f g h i j", "itl": 0.1, "faults": {"stall": [1, 2]}}, 5, 0.7),
    ],
    ids=["hang", "stall after 5 chunks"],
)
def test_a_read_timeout_is_a_timeout_on_both_clients(test_server, monkeypatch, server, chunks, earliest):
    srv = test_server(hang_seconds=5, **server)
    for client in ("lean", "aiohttp"):
        exc, timed, _ = _ask(srv.url, client, monkeypatch, timeout=0.3)
        assert (type(exc).__name__, exc.kind, str(exc)) == (
            "TransientError",
            "timeout",
            "SocketTimeoutError: Timeout on reading data from socket",
        ), client
        assert timed.error_kind == "timeout" and len(timed.chunk_times) == chunks  # the chunks before it, timed
        assert earliest <= timed.end - timed.sent < 3


def test_answers_and_times_are_the_same_on_both_clients(test_server, monkeypatch):
    itl = 0.3  # the server writes content chunk i at itl * i after the request came (absolute deadlines)
    srv = test_server(default_answer="alpha beta gamma delta", reasoning="hmm", itl=itl)
    got = {}
    for client in ("lean", "aiohttp"):
        result, timed, lean = _ask(srv.url, client, monkeypatch)
        assert lean == (client == "lean")
        assert (result.output, result.reasoning, result.finish_reason) == ("alpha beta gamma delta", "hmm", "stop")
        assert (result.usage.completion_tokens, timed.output_tokens, timed.usage_reported) == (4, 4, True)
        assert len(timed.chunk_times) == 4 and timed.last_content == timed.chunk_times[-1]
        assert timed.sent <= timed.first_byte <= timed.chunk_times[0] <= timed.end
        assert timed.chunk_times == sorted(timed.chunk_times)
        # not about how fast this (maybe loaded) host is, but what cannot happen on any host: a chunk timed
        # before the server wrote it (chunk i: >= itl * i after sent), and, one read per chunk, the first chunk
        # timed only once the last was written (a client that reads the whole answer before timing its
        # chunks: >= 3 * itl after sent; 0.9 s for a round trip on this machine's loopback)
        since = [t - timed.sent for t in timed.chunk_times]
        assert all(s >= itl * i - 0.001 for i, s in enumerate(since)), (client, since)
        assert since[0] < 3 * itl, (client, since)
        got[client] = (result.output, result.reasoning, result.usage, timed.status, timed.api, timed.url)
    assert got["lean"] == got["aiohttp"]
    srv = test_server(default_answer="alpha beta gamma delta")  # (no pacing: the answer only)
    completions, timed, lean = _ask(srv.url, "lean", monkeypatch, prompt="Q")
    assert lean and completions.output == "alpha beta gamma delta" and timed.api == "completions"


def test_a_redirect_hands_the_stream_to_aiohttp(test_server, monkeypatch):
    srv = test_server(faults={"redirect": [1]}, default_answer="one two")
    result, timed, lean = _ask(srv.url, "lean", monkeypatch)
    assert result.output == "one two" and timed.ok and timed.status == 200 and not lean
    assert srv.server.fault_counts == {"redirect": 1} and len(srv.requests) == 2


def test_a_proxy_from_the_environment_keeps_aiohttp(test_server, monkeypatch):
    srv = test_server(default_answer="one")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens: only no_proxy lets it through
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    result, _, lean = _ask(srv.url, "lean", monkeypatch)
    assert result.output == "one" and lean
    monkeypatch.setenv("NO_PROXY", "example.org")
    exc, timed, lean = _ask(srv.url, "lean", monkeypatch)
    assert not lean and timed.error_kind == "connection"  # aiohttp went to the (dead) proxy, as the user asked


@pytest.mark.parametrize("stream", [True, False])
def test_requests_leave_no_cycles_for_the_collector(test_server, monkeypatch, stream):
    """A request on the lean client is freed by reference counting: its timeout timer's callback named itself
    in its body (a cell of its own closure), so that every request left a cycle, with the future and the
    callback's other cells, to the cyclic collector, whose passes were ~4% of a streamed c=512 eval's CPU."""
    import gc

    from assay_openai.model import OpenAIModel

    monkeypatch.delenv("ASSAY_OPENAI_HTTP", raising=False)
    srv = test_server(default_answer="one two three")

    async def go():
        m = OpenAIModel(ModelConfig(model="m", api_url=srv.url, stream=stream, timeout=30), Recorder())
        request = GenerateRequest(sample_id="s/1", messages=[{"role": "user", "content": "x"}])
        await m.generate(request)  # (the connection and what the first request sets up once)
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            for _ in range(20):
                assert (await m.generate(request)).output == "one two three"
            gc.collect()
            left = [type(o).__qualname__ + ":" + getattr(o, "__qualname__", "") for o in gc.garbage]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            await m.aclose()
        return left

    left = anyio.run(go)
    assert not [name for name in left if "_wait" in name or name.startswith(("TimerHandle", "Future", "cell"))], left
