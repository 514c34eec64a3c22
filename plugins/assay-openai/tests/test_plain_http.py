"""Non-streamed requests over plain http:// (the one lean client, assay_openai.lean, issue 18) against aiohttp's path:
the same answers, the same RequestTimed, the same errors with the same words, for every fault the
test server makes; and aiohttp is not imported by a backend that does not need it."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import anyio
import pytest
from assay.api import GenerateRequest, ModelConfig
from assay_openai.model import OpenAIModel


class Recorder:
    def __init__(self):
        self.events = []

    def emit(self, body):
        self.events.append(body)


def _ask(url, *, plain: bool, timeout=None, n=1):
    """n requests one after the other; (results or the exception, the RequestTimed events, the lean client
    chosen?, the lean client served to the end?)."""
    run = Recorder()

    async def go():
        m = OpenAIModel(ModelConfig(model="m", api_url=url, timeout=timeout), run)
        used = m._lean
        if not plain:
            m._lean = False  # aiohttp's session, as before issue 18
        out = []
        try:
            for i in range(n):
                try:
                    r = await m.generate(
                        GenerateRequest(sample_id=f"s/{i}", messages=[{"role": "user", "content": "x"}])
                    )
                    out.append((r.output, r.finish_reason, r.usage))
                except Exception as exc:  # noqa: BLE001
                    out.append((type(exc).__name__, getattr(exc, "kind", None), getattr(exc, "status", None), str(exc)))
        finally:
            served = bool(m._pools) and m._session is None
            await m.aclose()
        return out, used, served

    out, used, served = anyio.run(go)
    return out, run.events, used, served


def _facts(timed):
    return (timed.ok, timed.status, timed.error_kind, timed.error, timed.prompt_tokens, timed.output_tokens)


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (None, None),
        ("http_500", "http_5xx"),
        ("http_429", "http_429"),
        ("http_400", "http_4xx"),
        ("garbage", "malformed"),
        ("reset", "connection"),
        ("truncate_whole", "connection"),
        ("redirect", None),  # followed: the request is sent again (by aiohttp) and answered
        ("gzip_whole", None),  # decoded, as aiohttp decodes it (the lean client keeps serving)
        ("unknown_encoding_whole", None),  # handed to aiohttp, which gives the body as it is (JSON here)
    ],
)
def test_plain_http_is_aiohttp_to_the_word(test_server, fault, kind):
    results = {}
    for plain in (True, False):
        srv = test_server(faults={fault: [1]} if fault else {}, default_answer="one two three")
        out, events, used, served = _ask(srv.url, plain=plain, n=2)
        assert used  # a plain http:// URL, no proxy: the lean client is the backend's choice
        # a redirect, an unknown encoding: aiohttp from then on
        assert served == (plain and fault not in ("redirect", "unknown_encoding_whole"))
        assert out[1] == ("one two three", "stop", out[1][2])  # the connection after a fault serves again
        assert [e.error_kind for e in events][-1] is None
        assert events[0].error_kind == kind
        results[plain] = (out, [_facts(e) for e in events])
    assert results[True] == results[False]


def test_truncated_answer_is_told_as_aiohttp_tells_it(test_server):
    srv = test_server(faults={"truncate_whole": [1]})
    out, events, _, served = _ask(srv.url, plain=True)
    assert served
    ((name, kind, status, message),) = out
    assert (name, kind, status) == ("TransientError", "connection", None)
    got = re.fullmatch(
        r"ClientPayloadError: Response payload is not completed: <ContentLengthError: 400, message='Not enough "
        r"data to satisfy content length header \(received (\d+) of (\d+) bytes\)\.'>",
        message,
    )
    assert got and int(got[1]) == int(got[2]) // 2  # the server sent half of the answer
    assert (events[0].ok, events[0].status, events[0].error_kind, events[0].error) == (
        False,
        200,
        "connection",
        message,
    )


def test_read_timeout_as_aiohttp(test_server):
    results = {}
    for plain in (True, False):
        srv = test_server(faults={"hang": [1]}, hang_seconds=3)
        out, events, _, served = _ask(srv.url, plain=plain, timeout=0.3)
        assert served == plain
        results[plain] = (out, [_facts(e) for e in events])
    assert results[True] == results[False]
    assert results[True][0] == [
        ("TransientError", "timeout", None, "SocketTimeoutError: Timeout on reading data from socket")
    ]


def test_refused_connection_as_aiohttp():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    s.close()
    plain, aio = _ask(url, plain=True), _ask(url, plain=False)
    assert (
        plain[0]
        == aio[0]
        == [
            ("TransientError", "connection", None, "connection refused (is the server running, and is the port right?)")
        ]
    )
    assert [_facts(e) for e in plain[1]] == [_facts(e) for e in aio[1]]


def test_proxy_or_https_goes_through_aiohttp(monkeypatch):
    """The one choice of client, streamed or not."""

    def chosen(url, stream=False):
        return OpenAIModel(ModelConfig(model="m", api_url=url, stream=stream), Recorder())._lean

    assert chosen("http://127.0.0.1:1/v1") and not chosen("https://127.0.0.1:1/v1")
    assert chosen("http://127.0.0.1:1/v1", stream=True) and not chosen("https://127.0.0.1:1/v1", stream=True)
    assert not chosen("http://user:pw@127.0.0.1:1/v1")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert not chosen("http://127.0.0.1:1/v1") and not chosen("http://127.0.0.1:1/v1", stream=True)
    monkeypatch.delenv("HTTP_PROXY")
    monkeypatch.setenv("ASSAY_OPENAI_HTTP", "aiohttp")
    assert not chosen("http://127.0.0.1:1/v1") and not chosen("http://127.0.0.1:1/v1", stream=True)


def test_keep_alive_and_no_aiohttp_import(test_server):
    """Ten requests reuse one connection, and the process never imports aiohttp."""
    srv = test_server(default_answer="ok")
    code = f"""
import sys, anyio
from assay.api import GenerateRequest, ModelConfig
from assay_openai.model import OpenAIModel
class R:
    def emit(self, e): pass
async def go():
    m = OpenAIModel(ModelConfig(model="m", api_url={srv.url!r}), R())
    for i in range(10):
        assert (await m.generate(GenerateRequest(sample_id="s", prompt="x"))).output == "ok"
    (pool,) = m._pools.values()
    n = len(pool.all)
    await m.aclose()
    return n
print(anyio.run(go), "aiohttp" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["1", "False"]


def test_one_model_in_two_event_loops(test_server):
    """A backend used from one event loop and then another (two anyio.run) connects again in the second."""
    srv = test_server(default_answer="ok")
    m = OpenAIModel(ModelConfig(model="m", api_url=srv.url), Recorder())

    async def ask():
        return (await m.generate(GenerateRequest(sample_id="s", prompt="x"))).output

    assert anyio.run(ask) == "ok"
    assert anyio.run(ask) == "ok"
    (pool,) = m._pools.values()
    assert len(pool.all) == 1  # the first loop's connection was dropped, one made in the second
    pool.close()


@pytest.mark.parametrize("stream", [False, True])
def test_an_answer_that_is_not_http_fails_alike_on_both_clients(test_server, monkeypatch, stream):
    """Bytes that are not an HTTP answer: aiohttp's ClientResponseError (kind connection) on both clients,
    streamed or not, and the next request is served (the lean client in its own words, aiohttp in its)."""
    got = {}
    for lean in (True, False):
        if lean:
            monkeypatch.delenv("ASSAY_OPENAI_HTTP", raising=False)
        else:
            monkeypatch.setenv("ASSAY_OPENAI_HTTP", "aiohttp")
        srv = test_server(faults={"bad_http": [1]}, default_answer="one two")
        run = Recorder()

        async def go(url, run, lean):
            m = OpenAIModel(ModelConfig(model="m", api_url=url, stream=stream), run)
            assert m._lean == lean
            out = []
            for i in range(2):
                try:
                    out.append((await m.generate(GenerateRequest(sample_id=f"s/{i}", prompt="x"))).output)
                except Exception as exc:  # noqa: BLE001
                    out.append((type(exc).__name__, exc.kind, exc.status, str(exc)))
            await m.aclose()
            return out

        (name, kind, status, message), second = anyio.run(go, srv.url, run, lean)
        assert (name, kind, status, second) == ("TransientError", "connection", None, "one two")
        assert message.startswith("ClientResponseError: 400, message=")
        assert [(e.ok, e.status, e.error_kind, e.error) for e in run.events] == [
            (False, None, "connection", message),
            (True, 200, None, None),
        ]
        got[lean] = message
    assert got[True] == "ClientResponseError: 400, message='Invalid status code'"
