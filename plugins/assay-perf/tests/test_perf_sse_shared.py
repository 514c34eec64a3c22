"""The eval backend and the perf load generator parse a stream alike: one parser, same chunks, same times."""

from __future__ import annotations

import types

import pytest
from assay.events import RequestTimed
from assay_openai.model import read_events
from assay_perf.apis import OpenAIChat, Record
from assay_perf.runner import _Load

WORDS = ["The", " answer", " is", " 4", "2", "."]
STREAM = (
    b": keep-alive\r\n\r\n"
    + b"".join(b'data: {"choices":[{"index":0,"delta":{"content":"%s"}}]}\r\n\r\n' % w.encode() for w in WORDS)
    + b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\r\n\r\n'
    + b'data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":6}}\r\n\r\n'
    + b"data: [DONE]\r\n\r\n"
)


class _Clock:
    """1.0, 2.0, ... : one tick per read, so a chunk's time names the read that completed it."""

    def __init__(self) -> None:
        self.n = 0.0

    def __call__(self) -> float:
        self.n += 1.0
        return self.n


async def _reads(parts):
    for p in parts:
        yield p


STREAM_LF = STREAM.replace(b"\r\n", b"\n")  # the common framing: the eval backend's one-decode-per-read path


def _run(coro):
    """Drive a coroutine that never waits (the reads are all there): no event loop per case."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the coroutine waited")


def _perf(parts):
    rec = Record(keep_text=True)
    resp = types.SimpleNamespace(content=types.SimpleNamespace(iter_any=lambda: _reads(parts)))
    load = types.SimpleNamespace(api=OpenAIChat())
    _run(_Load._read_sse(load, resp, rec, _Clock(), 0.0))
    return rec


def _eval(parts):
    timed = RequestTimed(request_id="r", api="chat", url="u", sent=0.0, end=0.0, stream=True)
    out = _run(read_events(_reads(parts), _Clock(), True, timed))
    return out, timed


def _splits(stream):
    """Every way of cutting the stream once, every read size (all boundaries of one size at once), and
    every pair of cuts up to 32 bytes apart (an event cut at both ends)."""
    n = len(stream)
    for i in range(n + 1):
        yield [p for p in (stream[:i], stream[i:]) if p]
    for k in range(1, n + 1):
        yield [stream[i : i + k] for i in range(0, n, k)]
    for i in range(n + 1):
        for j in range(i + 1, min(n, i + 32) + 1):
            yield [p for p in (stream[:i], stream[i:j], stream[j:]) if p]


def _check_same(rec, out, timed, parts):
    texts, reasoning, finish, usage = out
    assert texts == rec.texts == WORDS, parts
    assert timed.chunk_times == rec.chunk_times, parts
    assert len(timed.chunk_times) == 6 and timed.last_content == rec.chunk_times[-1]
    assert timed.first_byte == 1.0  # the first read's time
    assert rec.done and rec.finished and rec.error_kind is None
    assert (finish, usage.completion_tokens, rec.output_tokens, rec.prompt_tokens) == ("stop", 6, 6, 9)
    assert reasoning == []


@pytest.mark.parametrize("stream", [STREAM, STREAM_LF], ids=["crlf", "lf"])
def test_both_paths_give_the_same_chunks_and_times_at_every_split(stream):
    cases = 0
    for parts in _splits(stream):
        rec = _perf(parts)
        out, timed = _eval(parts)
        _check_same(rec, out, timed, parts)
        cases += 1
    assert cases > 3 * len(stream)


def _http(stream):
    """The stream as a server sends it: chunked transfer encoding, one HTTP chunk per event."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    sep = b"\r\n\r\n" if b"\r\n" in stream else b"\n\n"
    events = [e + sep for e in stream.split(sep) if e]
    return head + b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"


class _Transport:
    def write(self, data):
        pass

    def is_closing(self):
        return False

    def close(self):
        pass


def _lean(parts, eval_side, monkeypatch):
    """The response's bytes through the lean client's connection (assay_openai.lean) as a socket
    would give them: perf's way (SSE events to the API's on_event) or the eval backend's (each read
    to EventStream.read); one clock tick per read (and one for the request's write)."""
    import asyncio

    from assay_openai import lean
    from assay_openai.model import EventStream, _lean_body, _lean_read, _LeanRecord
    from assay_perf.runner import sse_tail

    monkeypatch.setattr(lean, "time", types.SimpleNamespace(perf_counter=_Clock()))

    async def go():
        api = OpenAIChat()
        pool = lean.Pool(
            "h",
            80,
            b"",
            stream=True,
            on_event=api.on_event,
            on_body=_lean_body if eval_side else api.on_body,
            on_read=_lean_read if eval_side else None,
            on_tail=None if eval_side else sse_tail,
            off=0.0,
            connect_timeout=None,
            read_timeout=None,
            total_timeout=None,
        )
        conn = lean._Conn(pool)
        conn.connection_made(_Transport())
        if eval_side:
            timed = RequestTimed(request_id="r", api="chat", url="u", sent=0.0, end=0.0, stream=True)
            events = EventStream(True, timed, {})
            rec = _LeanRecord(events)
        else:
            rec = Record(keep_text=True)
        fut = conn.begin(b"", rec)
        for p in parts:
            conn.data_received(p)
        assert fut.done() and rec.error_kind is None, rec.error
        if eval_side:
            return (events.parts, events.reasoning_parts, events.finish, events.usage), timed
        return rec

    return asyncio.run(go())


@pytest.mark.parametrize("stream", [STREAM, STREAM_LF], ids=["crlf", "lf"])
def test_the_lean_client_gives_both_paths_the_same_chunks_and_times_at_every_split(stream, monkeypatch):
    wire = _http(stream)
    n = len(wire)
    for parts in [
        *([wire[:i], wire[i:]] for i in range(1, n)),
        *([wire[i : i + k] for i in range(0, n, k)] for k in range(1, n + 1)),
    ]:
        rec = _lean(parts, False, monkeypatch)
        out, timed = _lean(parts, True, monkeypatch)
        texts, reasoning, finish, usage = out
        assert texts == rec.texts == WORDS, parts
        assert timed.chunk_times == rec.chunk_times and len(rec.chunk_times) == 6, parts
        assert rec.done and rec.finished and finish == "stop" and usage.completion_tokens == rec.output_tokens == 6


def test_one_read_per_event_times_each_chunk_by_its_read():
    events = [e + b"\r\n\r\n" for e in STREAM.split(b"\r\n\r\n") if e]
    rec = _perf(events)
    _, timed = _eval(events)
    # read 1 is the comment; reads 2..7 carry the six words
    assert rec.chunk_times == timed.chunk_times == [2.0, 3.0, 4.0, 5.0, 6.0, 7.0]


def test_an_error_event_is_a_stream_error_in_perf():
    parts = [STREAM[: STREAM.index(b"data: {", 30)], b'event: error\ndata: {"message":"overloaded"}\n\n']
    rec = _perf(parts)
    assert rec.error_kind == "stream_error" and rec.error == 'error event: {"message":"overloaded"}'
