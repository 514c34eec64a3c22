"""ContentFrame (issue 18): a read of chunks written alike but for their content string is decoded from its
strings alone, and gives exactly what the general loop gives (texts, finish, usage, chunk times, errors),
whatever chunk comes between and wherever the reads split the stream."""

from __future__ import annotations

import json
import re

import pytest
from assay.events import RequestTimed
from assay_openai import model, sse
from assay_openai.model import EventStream
from assay_openai.sse import ContentFrame, SSEParser

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


def _text(text: str) -> bytes:
    return json.dumps(
        {"id": "t", "object": "text_completion", "choices": [{"text": text, "finish_reason": None}]}
    ).encode()


FINISH = b'{"id":"chatcmpl-7","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}'
USAGE = b'{"id":"chatcmpl-7","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}'
ROLE = b'{"id":"chatcmpl-7","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}'
WORDS = ["The", " answer", " is", ' "42"', " \\ back", ',"},{', " caf\u00e9", " \u2603", "\n"]

CHAT = {
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
    "each chunk its own id": [_vllm(w).replace(b"chatcmpl-7", f"c-{i}".encode()) for i, w in enumerate(WORDS)],
}
TEXT = {
    "completions": [*map(_text, WORDS), b'{"choices":[{"text":"","finish_reason":"stop"}]}', USAGE],
    "completions, a delta between": [
        *map(_text, WORDS[:4]),
        b'{"id":"t","object":"text_completion","choices":[{"text":"d","delta":{"reasoning_content":"r"}}]}',
        *map(_text, WORDS[4:]),
    ],
}


def _run(chat: bool, reads: list[bytes]) -> tuple:
    timed = RequestTimed(request_id="r", api="chat" if chat else "completions", url="u", sent=0.0, end=0.0, stream=True)
    events = EventStream(chat, timed, {})
    error = None
    done = []
    for i, data in enumerate(reads):
        try:
            done.append(events.read(data, float(i + 1)))
        except Exception as exc:  # noqa: BLE001 - compared, type and words
            # (a malformed chunk's "(byte N)" counts within the JSON array decoded, which starts after the
            # framed chunks on the frame's path: an offset in no file the user has, not compared)
            error = (type(exc).__name__, re.sub(r" \(byte \d+\)$", "", str(exc)))
            break
    return error, done, events.parts, events.reasoning_parts, events.finish, events.usage, timed.chunk_times


def _general(monkeypatch: pytest.MonkeyPatch) -> None:
    """The general loop only: no plain decoder (so no frame is learned either)."""

    def not_plain(data: bytes) -> None:
        raise sse.msgspec.ValidationError("not plain")

    for name in ("decode_plain", "decode_plains", "decode_plain_text", "decode_plain_texts"):
        monkeypatch.setattr(model, name, not_plain)


def _splits(payloads: list[bytes]) -> list[list[bytes]]:
    """The stream's bytes read in many ways: events in groups of 2, 3 and 4 (several reads framed after the
    first), and the first three events in one read (the frame learned) with the rest split at every byte."""
    events = [b"data: " + p + b"\n\n" for p in payloads] + [b"data: [DONE]\n\n"]
    ways = [[b"".join(events[i : i + k]) for i in range(0, len(events), k)] for k in (2, 3, 4)]
    head, rest = b"".join(events[:3]), b"".join(events[3:])
    ways += [[head, rest[:i], rest[i:]] for i in range(1, len(rest))]
    return ways


CASES = [(True, n, p) for n, p in CHAT.items()] + [(False, n, p) for n, p in TEXT.items()]


@pytest.mark.parametrize(("chat", "name", "payloads"), CASES, ids=[n for _, n, _ in CASES])
def test_framed_reads_give_what_the_general_loop_gives(chat, name, payloads, monkeypatch):
    ways = _splits(payloads)
    fast = [_run(chat, reads) for reads in ways]
    _general(monkeypatch)
    for reads, got in zip(ways, fast, strict=True):
        assert got == _run(chat, reads), (name, reads)


def test_a_long_answer_is_decoded_from_its_strings_after_the_first_read(monkeypatch):
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
    error, done, parts, _, finish, _, times = _run(True, reads)
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
        (_text("a"), False),
    ],
)
def test_a_frame_is_learned_from_a_plain_chunk(payload, chat):
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
    ],
)
def test_no_frame_from_other_chunks(payload):
    assert ContentFrame.learn(payload, True) is None


def test_a_read_the_frame_does_not_cover_is_left_to_the_other_paths():
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
