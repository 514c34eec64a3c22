"""The eval backend and the perf load generator parse a stream alike: one parser, same chunks, same times."""

from __future__ import annotations

import types

import anyio
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


def _perf(parts):
    rec = Record(keep_text=True)
    resp = types.SimpleNamespace(content=types.SimpleNamespace(iter_any=lambda: _reads(parts)))
    load = types.SimpleNamespace(api=OpenAIChat())
    anyio.run(_Load._read_sse, load, resp, rec, _Clock(), 0.0)
    return rec


def _eval(parts):
    timed = RequestTimed(request_id="r", api="chat", url="u", sent=0.0, end=0.0, stream=True)
    out = anyio.run(read_events, _reads(parts), _Clock(), True, timed)
    return out, timed


def test_both_paths_give_the_same_chunks_and_times_at_every_split():
    for i in range(len(STREAM) + 1):
        for j in range(i, len(STREAM) + 1, 31):
            parts = [p for p in (STREAM[:i], STREAM[i:j], STREAM[j:]) if p]
            rec = _perf(parts)
            (texts, reasoning, finish, usage), timed = _eval(parts)
            assert texts == rec.texts == WORDS, (i, j)
            assert timed.chunk_times == rec.chunk_times, (i, j)
            assert len(timed.chunk_times) == 6 and timed.last_content == rec.chunk_times[-1]
            assert rec.done and rec.finished and rec.error_kind is None
            assert (finish, usage.completion_tokens, rec.output_tokens, rec.prompt_tokens) == ("stop", 6, 6, 9)
            assert reasoning == []


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
