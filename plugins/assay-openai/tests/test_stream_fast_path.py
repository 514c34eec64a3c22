"""EventStream.read's fast path (plain chunks checked by msgspec, no Python checks per chunk) gives exactly
what its general loop gives: the same texts, reasoning, tool calls, finish reason, usage, chunk times and
errors, for every kind of chunk, one event per read or several."""

from __future__ import annotations

import msgspec
import pytest
from assay.events import RequestTimed
from assay_openai import model, sse
from assay_openai.model import EventStream


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
    (and the general decoders are not called), a chunk with reasoning falls back to the general decoder."""
    calls = []
    for name in ("decode_plain", "decode_plains", "decode_chunk", "decode_chunks"):
        real = getattr(sse, name)
        monkeypatch.setattr(
            "assay_openai.model." + name, lambda data, real=real, name=name: calls.append(name) or real(data)
        )
    reads = _ways(CHAT["content"])
    _run(True, reads["one per read"])
    assert calls == ["decode_plain"] * 3
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
