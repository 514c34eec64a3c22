"""The shared SSE parser: the same events however the bytes are split across reads."""

from __future__ import annotations

import itertools

import pytest
from assay_openai.sse import SSEParser, decode_chunk

STREAM_LF = (
    b": keep-alive comment\n\n"
    b'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n'
    b'data: {"choices":[{"delta":{"reasoning_content":"think"}}]}\n\n'
    b"id: 7\nretry: 10\n"
    b'data: {"choices":[{"delta":\n'
    b'data: {"content":"lo"}}]}\n\n'
    b"event: error\n"
    b'data: {"message":"overloaded"}\n\n'
    b"event: ping\n\n"
    b"data:[DONE]\n\n"
)
EXPECTED = [
    (b"", b'{"choices":[{"delta":{"content":"Hel"}}]}'),
    (b"", b'{"choices":[{"delta":{"reasoning_content":"think"}}]}'),
    (b"", b'{"choices":[{"delta":\n{"content":"lo"}}]}'),
    (b"error", b'{"message":"overloaded"}'),
    (b"", b"[DONE]"),
]


def _feed(reads):
    parser = SSEParser()
    out = []
    for r in reads:
        out.extend(parser.feed(r))
    out.extend(parser.close())
    return out, parser.pending()


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_one_read(ending):
    stream = STREAM_LF.replace(b"\n", ending)
    assert _feed([stream]) == (EXPECTED, b"")


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_every_split_into_two_and_three_reads(ending):
    stream = STREAM_LF.replace(b"\n", ending)
    n = len(stream)
    for i in range(n + 1):
        assert _feed([stream[:i], stream[i:]]) == (EXPECTED, b""), (ending, i)
    for i, j in itertools.combinations(range(0, n + 1, 3), 2):
        assert _feed([stream[:i], stream[i:j], stream[j:]]) == (EXPECTED, b""), (ending, i, j)


def test_byte_by_byte_crlf():
    stream = STREAM_LF.replace(b"\n", b"\r\n")
    assert _feed([stream[i : i + 1] for i in range(len(stream))]) == (EXPECTED, b"")


def test_several_events_in_one_read_take_the_fast_path_and_keep_order():
    events = [b'data: {"choices":[{"text":"%d"}]}\n\n' % i for i in range(5)]
    parser = SSEParser()
    assert parser.feed(b"".join(events)) == [(b"", b'{"choices":[{"text":"%d"}]}' % i) for i in range(5)]
    # a read of whole events after a partial one joins the partial one first
    assert parser.feed(b'data: {"a"') == []
    assert parser.feed(b":1}\n\ndata: x\n\n") == [(b"", b'{"a":1}'), (b"", b"x")]


def test_an_event_cut_by_the_end_of_the_stream_is_pending_not_returned():
    parser = SSEParser()
    assert parser.feed(b'data: {"ok":1}\n\ndata: {"choi') == [(b"", b'{"ok":1}')]
    assert parser.close() == []
    assert parser.pending() == b'data: {"choi'
    # a last event ended by one newline only (no blank line) is taken at close
    parser = SSEParser()
    assert parser.feed(b"data: [DONE]\n") == []
    assert parser.close() == [(b"", b"[DONE]")] and parser.pending() == b""


def test_chunk_decoding_keeps_reasoning_apart_and_reads_usage():
    c = decode_chunk(b'{"choices":[{"delta":{"content":"a","reasoning_content":"r"},"finish_reason":null}]}')
    assert (c.choices[0].delta.content, c.choices[0].delta.reasoning_content) == ("a", "r")
    u = decode_chunk(
        b'{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"completion_tokens_details":'
        b'{"reasoning_tokens":2}}}'
    ).usage
    assert (u.prompt_tokens, u.completion_tokens, u.completion_tokens_details.reasoning_tokens) == (3, 5, 2)
    assert decode_chunk(b'{"error":{"message":"boom"}}').error == {"message": "boom"}


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        (b'data: {"a":1}\n\n', (b'[{"a":1}]', False)),
        (b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n', (b'[{"a":1},{"b":2}]', True)),
        (b"data: [DONE]\n\n", None),  # (no JSON object first: feed() says it)
        (b'data: {"a":1}\ndata: {"b":2}\n\n', None),  # one event of two data lines
        (b'data: {"a":1}\n\n\n\ndata: {"b":2}\n\n', None),  # an empty line more
        (b'data: {"a":1}\r\n\r\n', None),
        (b'data: {"a":1}\n\n: ping\n\n', None),
        (b'data: {"a":1}\n\nevent: error\ndata: {"b":2}\n\n', None),
        (b'data: {"a":1}\n\ndata: [DONE]\n\ndata: {"b":2}\n\n', None),
        (b'data: {"a":1}\n\ndata: {"b"', None),  # a read that ends inside an event
    ],
)
def test_feed_array_takes_the_common_read_only(read, expected):
    parser = SSEParser()
    assert parser.feed_array(read) == expected
    if expected is None:  # the parser is untouched: feed() gives the events
        assert [p for _, p in parser.feed(read)] == [p for _, p in SSEParser().feed(read)]
    else:
        array, done = expected
        events = [p for _, p in SSEParser().feed(read)]
        assert array == b"[" + b",".join(e for e in events if e != b"[DONE]") + b"]"
        assert done == (events[-1] == b"[DONE]")
    after = SSEParser()
    after.feed(b'data: {"a"')  # a partial event waiting: never the fast path
    assert after.feed_array(b'data: {"a":1}\n\n') is None


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        (b'data: {"a":1}\n\n', b'{"a":1}'),
        (b'data: {"a":"x\\ny"}\n\n', b'{"a":"x\\ny"}'),  # an escaped newline inside the JSON is no line end
        (b'data: {"a":1}\n\ndata: {"b":2}\n\n', None),  # two events: feed_array's
        (b'data: {"a":1}\n\ndata: [DONE]\n\n', None),
        (b"data: [DONE]\n\n", None),
        (b'data: {"a":1}\ndata: {"b":2}\n\n', None),  # one event of two data lines
        (b'data: {"a":1}\n\n\n', None),  # an empty line more
        (b'data: {"a":1}\r\n\r\n', None),
        (b'data: {"a":1}\n', None),  # not ended yet
        (b'data: {"a":1}\r\n', None),
        (b": ping\n\n", None),
        (b'event: error\ndata: {"b":2}\n\n', None),
        (b'data:{"a":1}\n\n', None),  # no space after the colon: left to feed()
        (b'data: {"a":1}\r\n\n', None),
        (b"", None),
        (b"\n", None),
        (b"\n\n", None),
    ],
)
def test_feed_one_takes_one_whole_event_only(read, expected):
    parser = SSEParser()
    assert parser.feed_one(read) == expected
    assert parser.pending() == b""  # untouched either way
    if expected is not None:
        assert SSEParser().feed(read) == [(b"", expected)]
    after = SSEParser()
    after.feed(b'data: {"a"')  # a partial event waiting: never the fast path
    assert after.feed_one(b'data: {"a":1}\n\n') is None
    cr = SSEParser()
    cr.feed(b'data: {"a":1}\r\n\r')  # a CRLF split across reads: the LF that follows is the old event's
    assert cr.feed_one(b'\ndata: {"a":1}\n\n') is None
