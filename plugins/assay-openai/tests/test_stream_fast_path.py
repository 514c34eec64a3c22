"""EventStream.read's fast path (plain chunks checked by msgspec, no Python checks per chunk) gives exactly
what its general loop gives: the same texts, reasoning, tool calls, finish reason, usage, chunk times and
errors, for every kind of chunk, one event per read or several."""

from __future__ import annotations

import json
import re
import sys

import msgspec
import pytest
from assay.events import RequestTimed
from assay_openai import model, sse
from assay_openai.model import EventStream
from assay_openai.sse import ContentFrame, SSEParser


def _not_plain(data: bytes) -> None:
    raise msgspec.ValidationError("not plain")  # what the plain decoders raise for any other chunk


def _general(monkeypatch: pytest.MonkeyPatch) -> None:
    """The general loop only (the path before the plain decoders): every read falls back to it."""
    for name in ("decode_plain", "decode_plains", "decode_plain_text", "decode_plain_texts"):
        monkeypatch.setattr(model, name, _not_plain)


def _chat(delta: str, finish: str = "null", extra: str = "") -> bytes:
    return b'{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":%s,"finish_reason":%s}]%s}' % (
        delta.encode(),
        finish.encode(),
        extra.encode(),
    )


def _text(text: str, finish: str = "null") -> bytes:
    return b'{"id":"c","object":"text_completion","choices":[{"index":0,"text":%s,"finish_reason":%s}]}' % (
        text.encode(),
        finish.encode(),
    )


USAGE = b'{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":2}}}'
CHAT = {
    "content": [_chat('{"content":"a"}'), _chat('{"content":"b"}'), _chat('{"content":"c"}')],
    "finish": [_chat('{"content":"a"}'), _chat("{}", '"stop"'), USAGE],
    "finish with content": [_chat('{"content":"a"}', '"length"'), _chat('{"content":"b"}')],
    "empty and null content": [_chat('{"content":""}'), _chat('{"content":null}'), _chat('{"content":"x"}')],
    "role only": [_chat('{"role":"assistant"}'), _chat('{"content":"x"}')],
    "reasoning_content": [_chat('{"reasoning_content":"think"}'), _chat('{"content":"a"}')],
    "reasoning": [_chat('{"content":"a"}'), _chat('{"reasoning":"hmm","content":"b"}')],
    "empty reasoning": [_chat('{"reasoning_content":"","content":"a"}'), _chat('{"reasoning":null}')],
    "tool calls": [
        _chat('{"tool_calls":[{"index":0,"id":"t1","function":{"name":"f","arguments":"{\\"x\\""}}]}'),
        _chat('{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]}', '"tool_calls"'),
    ],
    "usage with choices": [_chat('{"content":"a"}', "null", ',"usage":{"completion_tokens":1}'), USAGE],
    "usage null": [_chat('{"content":"a"}', "null", ',"usage":null'), _chat('{"content":"b"}')],
    "two choices": [b'{"choices":[{"delta":{"content":"a"}},{"delta":{"content":"z"}}]}', _chat('{"content":"b"}')],
    "delta null": [_chat("null"), _chat('{"content":"b"}')],
    "no delta": [b'{"choices":[{"index":0,"finish_reason":"stop"}]}'],
    "error object": [_chat('{"content":"a"}'), b'{"error":{"message":"overloaded","code":503}}'],
    "error without message": [_chat('{"content":"a"}'), b'{"error":{"code":503}}'],
    "error string": [b'{"error":"boom"}'],
    "falsy error": [_chat('{"content":"a"}', "null", ',"error":""'), _chat('{"content":"b"}')],
    "message only": [_chat('{"content":"a"}'), b'{"message":"rate limited"}'],
    "choices null": [b'{"choices":null}'],
    "choices empty, no usage": [_chat('{"content":"a"}'), b'{"choices":[]}', _chat('{"content":"b"}')],
    "no choices": [b'{"id":"x"}'],
    "content not a string": [_chat('{"content":"a"}'), _chat('{"content":5}')],
    "a choice's message of the wrong type": [b'{"choices":[{"delta":{"content":"a"},"message":5}]}'],
    "a choice's text of the wrong type": [b'{"choices":[{"delta":{"content":"a"},"text":5}]}'],
    "finish_reason of the wrong type": [_chat('{"content":"a"}', "1")],
    "usage of the wrong type": [b'{"choices":[],"usage":{"prompt_tokens":"x"}}'],
    "not JSON": [_chat('{"content":"a"}'), b"{nope}"],
    "not an object": [_chat('{"content":"a"}'), b"[1]"],
}
TEXT = {
    "text": [_text('"a"'), _text('"b"'), _text('"c"', '"stop"'), USAGE],
    "empty and null text": [_text('""'), _text("null"), _text('"x"')],
    "text with a delta": [b'{"choices":[{"text":"a","delta":{"reasoning_content":"r"}}]}', _text('"b"')],
    "text with a delta of the wrong type": [b'{"choices":[{"text":"a","delta":5}]}'],
    "error object": [_text('"a"'), b'{"error":{"message":"overloaded"}}'],
    "message only": [b'{"message":"rate limited"}'],
    "text not a string": [_text("5")],
}


def _run(chat: bool, reads: list[bytes]) -> tuple:
    """What one answer's reads give: every field the caller reads, or the error raised (and what was
    gathered until then)."""
    timed = RequestTimed(request_id="r", api="chat" if chat else "completions", url="u", sent=0.0, end=0.0, stream=True)
    calls: dict = {}
    events = EventStream(chat, timed, calls)
    error = None
    done = []
    for i, data in enumerate(reads):
        try:
            done.append(events.read(data, float(i + 1)))
        except Exception as exc:  # noqa: BLE001 - compared, type and words
            error = (type(exc).__name__, str(exc))
            break
    return (
        error,
        done,
        events.parts,
        events.reasoning_parts,
        events.finish,
        events.usage,
        calls,
        timed.chunk_times,
        timed.last_content,
        timed.first_byte,
    )


def _ways(payloads: list[bytes]) -> dict[str, list[bytes]]:
    """The same events read one per read, all in one read (with and without [DONE]), and in pairs."""
    events = [b"data: " + p + b"\n\n" for p in payloads]
    done = b"data: [DONE]\n\n"
    return {
        "one per read": [*events, done],
        "all in one read": [b"".join(events) + done],
        "all in one read, [DONE] next": [b"".join(events), done],
        "in pairs": [b"".join(events[i : i + 2]) for i in range(0, len(events), 2)] + [done],
    }


CASES = [(True, name, p) for name, p in CHAT.items()] + [(False, name, p) for name, p in TEXT.items()]


@pytest.mark.parametrize(
    ("chat", "name", "payloads"), CASES, ids=[f"{'chat' if c else 'text'}: {n}" for c, n, _ in CASES]
)
def test_the_fast_path_gives_what_the_general_loop_gives(chat, name, payloads, monkeypatch):
    ways = _ways(payloads)
    fast = {way: _run(chat, reads) for way, reads in ways.items()}
    _general(monkeypatch)
    for way, reads in ways.items():
        assert fast[way] == _run(chat, reads), (name, way)


def test_plain_reads_take_the_fast_path_and_others_do_not(monkeypatch):
    """The comparison above compares two different paths: plain chunks are decoded by the plain decoders
    (and the general decoders are not called), a chunk with reasoning falls back to the general decoder.
    Reads of one chunk: the first by the plain decoder, the rest through the frame learned from it."""
    calls = []
    for name in ("decode_plain", "decode_plains", "decode_chunk", "decode_chunks"):
        real = getattr(sse, name)
        monkeypatch.setattr(
            "assay_openai.model." + name, lambda data, real=real, name=name: calls.append(name) or real(data)
        )
    reads = _ways(CHAT["content"])
    _run(True, reads["one per read"])
    assert calls == ["decode_plain"]
    calls.clear()
    _run(True, reads["all in one read"])
    assert calls == ["decode_plains"]
    calls.clear()
    _run(True, _ways(CHAT["reasoning_content"])["all in one read"])
    assert calls == ["decode_plains", "decode_chunks"]
    calls.clear()
    # the last read of an answer: its last content, the finish and the usage chunk (no choices), decoded once
    _run(True, _ways(CHAT["finish"])["all in one read"])
    assert calls == ["decode_plains"]
    calls.clear()
    _run(True, _ways(CHAT["finish"])["one per read"])
    assert calls == ["decode_plain"] * 3


def test_the_fast_path_times_each_chunk_by_its_read():
    payloads = [_chat(f'{{"content":"{i}"}}') for i in range(5)]
    events = [b"data: " + p + b"\n\n" for p in payloads]
    reads = [events[0], b"".join(events[1:4]), events[4] + b"data: [DONE]\n\n"]
    error, done, parts, _, _, _, _, times, last, first = _run(True, reads)
    assert (error, done, parts) == (None, [False, False, True], ["0", "1", "2", "3", "4"])
    assert (times, last, first) == ([1.0, 2.0, 2.0, 2.0, 3.0], 3.0, 1.0)


# ---- ContentFrame (issue 18): a read of chunks written alike but for their content string is decoded from its
# strings alone, and gives exactly what the general loop gives, whatever chunk comes between and wherever the
# reads split the stream

VLLM = (
    '{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1796230079,"model":"m",'
    '"choices":[{"index":0,"delta":{"content":%s},"logprobs":null,"finish_reason":null}]}'
)


def _vllm(text: str | None) -> bytes:
    return (VLLM % json.dumps(text)).encode()


def _dumps(text: str) -> bytes:  # a server that writes JSON as Python's json.dumps does: spaces after , and :
    return json.dumps(
        {"id": "c", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    ).encode()


def _text_chunk(text: str) -> bytes:
    return json.dumps(
        {"id": "t", "object": "text_completion", "choices": [{"text": text, "finish_reason": None}]}
    ).encode()


def _spaced(text: str) -> bytes:
    return b'{"id": "c", "choices": [{"delta": {"content": %s }}]}' % json.dumps(text).encode()


FINISH = b'{"id":"chatcmpl-7","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}'
USAGE = b'{"id":"chatcmpl-7","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}'
ROLE = b'{"id":"chatcmpl-7","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}'
WORDS = ["The", " answer", " is", ' "42"', " \\ back", ',"},{', " caf\u00e9", " \u2603", "\n"]

FRAMED_CHAT = {
    "vllm": [ROLE, *map(_vllm, WORDS), FINISH, USAGE],
    "empty and null content among": [*map(_vllm, WORDS[:3]), _vllm(""), _vllm(None), *map(_vllm, WORDS[3:]), FINISH],
    "json.dumps spacing": [*map(_dumps, WORDS), FINISH, USAGE],
    "escaped unicode": [_vllm("a"), VLLM.replace("%s", '"\\u00e9\\"x"').encode(), _vllm("b"), _vllm("c"), FINISH],
    "reasoning between": [
        *map(_vllm, WORDS[:4]),
        b'{"id":"chatcmpl-7","choices":[{"index":0,"delta":{"reasoning_content":"hm"},"finish_reason":null}]}',
        *map(_vllm, WORDS[4:]),
        FINISH,
    ],
    "another id between": [
        *map(_vllm, WORDS[:4]),
        _vllm("x").replace(b"chatcmpl-7", b"chatcmpl-8"),
        *map(_vllm, WORDS[4:]),
    ],
    "finish between": [*map(_vllm, WORDS[:4]), _vllm("y").replace(b'"finish_reason":null', b'"finish_reason":"length"')]
    + [*map(_vllm, WORDS[4:]), USAGE],
    "usage on a content chunk": [*map(_vllm, WORDS[:4]), _vllm("u")[:-1] + b',"usage":{"completion_tokens":5}}']
    + list(map(_vllm, WORDS[4:])),
    "an error between": [*map(_vllm, WORDS[:5]), b'{"error":{"message":"overloaded"}}', *map(_vllm, WORDS[5:])],
    "not JSON between": [*map(_vllm, WORDS[:5]), b"{nope}", *map(_vllm, WORDS[5:])],
    "content not a string between": [*map(_vllm, WORDS[:5]), VLLM.replace("%s", "5").encode(), _vllm("z")],
    # an LF after the string ends the SSE line: the event's data is cut there (malformed), not the frame's
    "a line break after a string": [*map(_vllm, WORDS[:5]), VLLM.replace("%s", '"a"\n').encode(), _vllm("z")],
    # a CR ends an SSE line too (JSON would take it for blank space)
    "a carriage return after a string": [*map(_vllm, WORDS[:5]), VLLM.replace("%s", '"a"\r').encode(), _vllm("z")],
    "each chunk its own id": [_vllm(w).replace(b"chatcmpl-7", f"c-{i}".encode()) for i, w in enumerate(WORDS)],
    # events as long as the frame's with other bytes around the string: another key, a finish as long as null
    "another key of the same length": [*map(_vllm, WORDS[:4]), _vllm("r").replace(b'"content":', b'"refusal":')]
    + list(map(_vllm, WORDS[4:])),
    "a finish as long as null": [
        *map(_vllm, WORDS[:4]),
        _vllm("f").replace(b'"finish_reason":null', b'"finish_reason":"ab"'),
    ]
    + list(map(_vllm, WORDS[4:])),
    # a comment line between two events that ends as the frame's chunks do: the bytes around the next event's
    # start are the frame's, but the event before holds a line break
    "a comment ending like the frame": [
        *map(_vllm, WORDS[:4]),
        _vllm("q") + b"\n\n: keep-alive" + VLLM.split("%s")[1].encode(),
        *map(_vllm, WORDS[4:]),
    ],
    # a frame whose prefix ends and suffix begins with a space, and an event that is the two overlapping there
    "spaced frame, an event its prefix and suffix overlapped": [
        *map(_spaced, WORDS[:4]),
        _spaced("").replace(b'"" ', b""),
        *map(_spaced, WORDS[4:]),
    ],
}
FRAMED_TEXT = {
    "completions": [*map(_text_chunk, WORDS), b'{"choices":[{"text":"","finish_reason":"stop"}]}', USAGE],
    "completions, a delta between": [
        *map(_text_chunk, WORDS[:4]),
        b'{"id":"t","object":"text_completion","choices":[{"text":"d","delta":{"reasoning_content":"r"}}]}',
        *map(_text_chunk, WORDS[4:]),
    ],
}


def _splits(payloads: list[bytes]) -> list[list[bytes]]:
    """The stream's bytes read in many ways: events one a read and in groups of 2, 3 and 4 (the frame learned
    from the first read, the reads after it framed), and the first three events in one read with the rest one
    event a read or split at every byte."""
    events = [b"data: " + p + b"\n\n" for p in payloads] + [b"data: [DONE]\n\n"]
    ways = [[b"".join(events[i : i + k]) for i in range(0, len(events), k)] for k in (1, 2, 3, 4)]
    head, rest = b"".join(events[:3]), b"".join(events[3:])
    ways.append([head, *events[3:]])
    ways += [[head, rest[:i], rest[i:]] for i in range(1, len(rest))]
    return ways


FRAME_CASES = [(True, n, p) for n, p in FRAMED_CHAT.items()] + [(False, n, p) for n, p in FRAMED_TEXT.items()]


def _offsetless(result: tuple) -> tuple:
    """A malformed chunk's "(byte N)" counts within the JSON array decoded, which starts after the framed
    chunks on the frame's path: an offset in no file the user has, not compared."""
    error = result[0]
    return (error and (error[0], re.sub(r" \(byte \d+\)$", "", error[1])), *result[1:])


@pytest.fixture(params=["split on the separator", "split at the events' starts"])
def split(request, monkeypatch):
    """feed_framed's two ways to cut a read into strings (by the read's size), each made the only one."""
    if request.param == "split on the separator":
        monkeypatch.setattr(sse, "SPLIT_SHORT_FROM", sys.maxsize)
    else:
        monkeypatch.setattr(sse, "SPLIT_SHORT_FROM", 0)
        monkeypatch.setattr(sse, "LONG_NEEDLE", 0)
    return request.param


@pytest.mark.parametrize(("chat", "name", "payloads"), FRAME_CASES, ids=[n for _, n, _ in FRAME_CASES])
def test_framed_reads_give_what_the_general_loop_gives(chat, name, payloads, split, monkeypatch):
    ways = _splits(payloads)
    fast = [_offsetless(_run(chat, reads)) for reads in ways]
    _general(monkeypatch)
    for reads, got in zip(ways, fast, strict=True):
        assert got == _offsetless(_run(chat, reads)), (name, reads)


def test_a_long_answer_is_decoded_from_its_strings_after_the_first_read(split, monkeypatch):
    """The comparison above compares two paths: after the read the frame is learned from, every read of
    content chunks goes through the frame (the plain decoder sees only the first read and the last one's
    finish and usage)."""
    calls = []
    real = sse.decode_plains
    monkeypatch.setattr(model, "decode_plains", lambda data: calls.append(data) or real(data))
    framed = []
    real_framed = SSEParser.feed_framed
    monkeypatch.setattr(SSEParser, "feed_framed", lambda self, *a: framed.append(real_framed(self, *a)) or framed[-1])
    words = [f" w{i}" for i in range(40)]
    events = [b"data: " + _vllm(w) + b"\n\n" for w in words] + [b"data: " + FINISH + b"\n\n", b"data: [DONE]\n\n"]
    reads = [b"".join(events[i : i + 5]) for i in range(0, len(events), 5)]
    error, done, parts, _, finish, _, _, times, _, _ = _run(True, reads)
    assert (error, parts, finish, done[-1]) == (None, words, "stop", True)
    assert times == [float(1 + i // 5) for i in range(40)]
    assert len(calls) == 2 and calls[1].startswith(b'[{"id":"chatcmpl-7","choices":[{"index":0,"delta":{}')
    assert [f and len(f[0]) for f in framed] == [5] * 7 + [None]  # (the last read begins with the finish)


@pytest.mark.parametrize(
    ("payload", "chat"),
    [
        (_vllm("a"), True),
        (_vllm(""), True),
        (_vllm('x"\\'), True),
        (_dumps("a"), True),
        (ROLE, True),
        (_text_chunk("a"), False),
    ],
)
def test_a_frame_is_learned_from_a_plain_chunk(payload, chat, split):
    frame = ContentFrame.learn(payload, chat)
    assert frame is not None
    # the frame is the chunk's bytes around its content string
    texts, end = SSEParser().feed_framed(b"data: " + payload + b"\n\n" + b"data: " + payload + b"\n\n", frame)
    assert end == 2 * len(payload) + 16
    expected = json.loads(payload)["choices"][0]
    assert texts == [expected["delta"]["content"] if chat else expected["text"]] * 2


@pytest.mark.parametrize(
    "payload",
    [
        FINISH,  # no content, and a finish reason
        _vllm("a").replace(b'"finish_reason":null', b'"finish_reason":"stop"'),
        _vllm("a")[:-1] + b',"usage":{"completion_tokens":1}}',
        _vllm(None),  # content null: no string to frame
        b'{"choices":[{"delta":{"content":"a"}}],"x":{"content":"b"}}',  # the last "content" is not the delta's
        b'{"choices":[{"delta":{"content":"a"}},{"delta":{"content":"z"}}]}',  # nor is the second choice's
        b'{"choices":[{"delta":{"content":"a}',  # cut short
        b'{"choices":[{"delta":{"content":"a\\"}}]}',  # the quote escaped: the string never ends
        _vllm("a").replace(b',"logprobs"', b',\n"logprobs"'),  # two lines: not one event's data
    ],
)
def test_no_frame_from_other_chunks(payload):
    assert ContentFrame.learn(payload, True) is None


def test_a_read_the_frame_does_not_cover_is_left_to_the_other_paths(split):
    frame = ContentFrame.learn(_vllm("a"), True)
    parser = SSEParser()
    one = b"data: " + _vllm("a") + b"\n\n"
    assert parser.feed_framed(b"data: " + FINISH + b"\n\n" + one, frame) is None  # does not begin with it
    assert parser.feed_framed(one[:-1], frame) is None  # no event of it ends in the read
    # an LF inside what would be the string: SSE ends the line there (the event is not the frame's)
    assert parser.feed_framed(one.replace(b'"a"', b'"a"\n') + one, frame) is None
    assert parser.feed_framed(one.replace(b'"a"', b'"a","b"') + one, frame) is None  # two strings
    assert parser.feed_framed(one + b"data: " + _vllm("b") + b"\n\n", frame) == (["a", "b"], 2 * len(one))
    parser.feed(b"data: {")  # inside an event: the parser's state is not the frame's business
    assert parser.feed_framed(one + one, frame) is None


@pytest.mark.parametrize("error", [b'{"error":{"message":"overloaded"}}', b'{"message":"rate limited"}'])
def test_content_before_an_error_in_its_read_is_the_last_content(error):
    """The general loop raised before it set ``last_content``, leaving the time of the read before while
    ``chunk_times`` had this read's: both are this read's now (the frame's path does the same)."""
    events = [b"data: " + p + b"\n\n" for p in (_chat('{"content":"a"}'), _chat('{"content":"b"}'), error)]
    result = _run(True, [events[0], events[1] + events[2]])
    assert result[0][0] in ("APIError", "StreamError") and result[2] == ["a", "b"]
    assert (result[7], result[8]) == ([1.0, 2.0], 2.0)
