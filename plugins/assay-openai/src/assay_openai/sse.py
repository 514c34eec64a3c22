"""Incremental SSE parsing and msgspec decoding of OpenAI stream chunks: the one hot path.

Shared by the eval backend (:mod:`assay_openai.model`) and the perf load generator
(``assay_perf.runner``). Pure bytes in, ``(event, data)`` out: no HTTP client, no per-chunk SDK
objects; it imports msgspec only, so a plugin can use it without importing the openai SDK.

Framing follows the WHATWG event-stream rules that OpenAI-compatible servers use: lines end in
LF, CRLF or CR; ``data:`` lines of one event join with newlines; a blank line ends the event;
lines starting with ``:`` are comments; an ``event:`` field names the event (``error`` for an
error event); ``id:`` and ``retry:`` carry nothing for us. A data-less event is dropped.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import msgspec

__all__ = [
    "ContentFrame",
    "SSEParser",
    "StreamChunk",
    "decode_chunk",
    "decode_chunks",
    "decode_plain",
    "decode_plains",
    "decode_plain_text",
    "decode_plain_texts",
    "error_text",
]

_DONE = b"data: [DONE]\n\n"
# feed_framed splits a read's framed events at the events' starts (not on the frame's separator) where the bytes to
# split on the separator are this many or more, and the separator this long or longer (CPython's fastsearch: from
# there each search preprocesses the needle)
SPLIT_SHORT_FROM, LONG_NEEDLE = 2500, 100
# Bytes are searched with find, not `in`: on Python 3.11 `needle in data` first tries the needle as an int, and
# the TypeError it formats and clears costs ~1,800 instructions a test (twice find's whole cost on a chunk)


class SSEParser:
    """Feed it the bytes of each network read; it returns the events completed by that read.

    Each event is ``(name, data)``: ``name`` is the ``event:`` field (``b""`` if none), ``data``
    the joined ``data:`` lines. The caller takes its timestamp before calling :meth:`feed`, so
    every event of one read shares the time that read arrived.
    """

    __slots__ = ("_buf", "_cr")

    def __init__(self) -> None:
        self._buf = b""
        self._cr = False  # the previous read ended in CR: a following LF belongs to it

    def feed(self, chunk: bytes) -> list[tuple[bytes, bytes]]:
        if self._cr:
            self._cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if not self._buf and chunk.startswith(b"data: ") and chunk.endswith(b"\n\n") and chunk.find(b"\r") < 0:
            # the common read: whole one-line events ("data: {...}\n\n", one or several); counted, not
            # looped over: every LF is in a blank-line separator and every separator opens a data line
            events = chunk[:-2].split(b"\n\n")
            n = len(events)
            if chunk.count(b"\n") == 2 * n and (n == 1 or chunk.count(b"\n\ndata: ") == n - 1):
                return [(b"", e[6:]) for e in events]
        buf = self._buf + chunk if self._buf else chunk
        if buf.find(b"\r") >= 0:
            if buf.endswith(b"\r"):
                self._cr = True  # a CRLF split across reads: drop the LF when it comes
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if buf.find(b"\n\n") < 0:
            self._buf = buf
            return []
        *raw, self._buf = buf.split(b"\n\n")
        out = []
        for ev in raw:
            if ev.startswith(b"data: ") and ev.find(b"\n") < 0:
                out.append((b"", ev[6:]))
                continue
            parsed = _event(ev)
            if parsed is not None:
                out.append(parsed)
        return out

    def feed_one(self, chunk: bytes) -> bytes | None:
        """The data of a read that is one whole one-line event with a JSON object as its data
        (``data: {...}\n\n``, a quiet stream's common read: one chunk per read), or None (then call
        :meth:`feed_array` or :meth:`feed` with the same bytes). The same data :meth:`feed` gives; the
        parser's state is left as it was (empty).
        """
        end = len(chunk) - 2  # the first LF is the last but one byte, and the last byte is LF: "\n\n"
        if (
            self._buf
            or self._cr
            or chunk.find(b"\n") != end
            or chunk[-1] != 10
            or chunk.find(b"\r") != -1
            or not chunk.startswith(b"data: {")
        ):
            return None
        return chunk[6:end]

    def feed_array(self, chunk: bytes) -> tuple[bytes, bool] | None:
        """The common read as one JSON array, or None (then call :meth:`feed` with the same bytes).

        The common read is whole one-line events whose data are JSON objects (``data: {...}\n\n``,
        one or several), possibly ending with ``data: [DONE]``: returned as ``(b"[{...},{...}]", done)``
        without a Python object per event, for one ``decode_chunks`` call; the same events, in the
        same order, as :meth:`feed` gives. Any other read (a partial event, CR line ends, comments,
        named events, a [DONE] not at the end) returns None and leaves the parser as it was.
        """
        if self._buf or self._cr or not chunk.startswith(b"data: {") or not chunk.endswith(b"\n\n"):
            return None
        done = chunk.endswith(_DONE)
        if done:
            chunk = chunk[:-14]
            if not chunk:
                return b"[]", True
            if not chunk.endswith(b"\n\n"):
                return None
        if chunk.find(b"\r") >= 0:
            return None
        array = chunk[6:-2].replace(b"\n\ndata: {", b",{")
        if array.find(b"\n") >= 0:  # an LF not in a blank line followed by a data line: not the common read
            return None
        return b"[" + array + b"]", done

    def feed_framed(self, chunk: bytes, frame: ContentFrame) -> tuple[list[str], int] | None:
        """The content strings of the whole events of ``frame`` that begin this read, and the offset of the
        bytes after them (give those to :meth:`feed_one`, :meth:`feed_array` or :meth:`feed`), or None
        (then give it the whole read): see :class:`ContentFrame`. The parser's state is left as it was."""
        if self._buf or self._cr or not chunk.startswith(frame.head):
            return None
        size = len(chunk)
        if size < frame.two and chunk.find(b"\n") == size - 2 and chunk.endswith(frame.tail) and chunk.find(b"\r") < 0:
            # one event (its only LFs end it), the common read of a stream whose chunks come apart (a model's
            # pace): its string decoded alone, without the split, join and array below. The string is what is
            # between the frame's head and tail: one JSON string, or not the frame's (a decode error). No CR:
            # SSE ends a line there, JSON takes it for blank space (as the LF checked below)
            try:
                return [_decode_string(chunk[len(frame.head) : size - len(frame.tail)])], size
            except msgspec.DecodeError:
                return None
        end = chunk.rfind(frame.tail)
        if end < len(frame.head):
            return None
        cut, keep = len(frame.head), len(frame.suffix)
        if end - cut < SPLIT_SHORT_FROM or len(frame.sep) < LONG_NEEDLE:  # (end - cut: the bytes split there)
            strings = chunk[cut:end].split(frame.sep)
            n = len(strings)
        else:
            # bytes.split searches again for each event, and for a needle of 100 bytes or more (a frame's often
            # is) in 2,500 bytes or more (CPython's fastsearch) each search preprocesses it anew (two-way search):
            # on a read of 100 events, twice the cost of the rest. So: split at each event's start (a short
            # needle) and take each event's string as the slice between the prefix's and the suffix's lengths;
            # then the separator joined between those strings must give back the bytes between the first
            # prefix and the last suffix (both checked above), byte for byte: the read is exactly the frame's
            # events around these strings. (A join and a compare, both memcpy-fast: a count of the separator,
            # which checked the same before, is a two-way search over every byte, ~5 instructions each.)
            body = chunk[6 : end + keep]  # the events' data, from the first prefix to the last suffix
            strings = list(map(itemgetter(slice(cut - 6, -keep)), body.split(b"\n\ndata: ")))
            n = len(strings)
            rebuilt = frame.sep.join(strings)
            if len(rebuilt) != end - cut or not chunk.startswith(rebuilt, cut):
                return None
        array = b",".join(strings)
        # an LF or CR would end an SSE line inside an event: that event is not the frame's (the general path's)
        if array.find(b"\n") >= 0 or array.find(b"\r") >= 0:
            return None
        try:
            texts = _decode_strings(b"[" + array + b"]")
        except msgspec.DecodeError:
            return None
        if len(texts) != n:  # an event's string was more than one string
            return None
        return texts, end + len(frame.tail)

    def pending(self) -> bytes:
        """The bytes of an event not yet ended by a blank line (after the stream ends: truncation)."""
        return self._buf

    def close(self) -> list[tuple[bytes, bytes]]:
        """At the end of the stream: an event the server ended with one newline only, if complete.

        Returns it (the spec drops it; servers that forget the last blank line are common enough);
        an event cut in the middle of a line is left in :meth:`pending`.
        """
        buf = self._buf
        if buf.endswith(b"\n") and buf.strip(b"\n"):
            self._buf = b""
            parsed = _event(buf.rstrip(b"\n"))
            return [parsed] if parsed is not None else []
        return []


class ContentFrame:
    """The bytes a server writes around the content string of each plain chunk of one answer.

    Servers write every content chunk of an answer alike but for its text (the id, creation time, model and
    the rest fixed: vLLM, SGLang, llama.cpp's server, the test server): ``{"id":...,"delta":{"content":`` S
    ``},"finish_reason":null}]}``. Learned from one chunk (:meth:`learn`), the frame turns a read of such
    events into its content strings with one split and one decode of a JSON array of strings, where the
    plain decoders make a chunk, a choice and a delta object for each: a long streamed answer's parse costs
    less than half (issue 18).

    Exact, not a guess: an event ``data: P S X`` whose S is one JSON string is the learned chunk with
    that string as its content, byte for byte the same elsewhere, so it decodes to what the learned chunk
    decodes to, with S as its content: no finish reason, no usage, no reasoning, no tool call. A piece
    that is anything else (another chunk between, two strings, a line break, not JSON) makes the array's
    decode fail or its length differ, and the read goes the plain or general path instead.
    """

    __slots__ = ("head", "sep", "suffix", "tail", "two")

    def __init__(self, prefix: bytes, suffix: bytes) -> None:
        self.suffix = suffix
        self.head = b"data: " + prefix
        self.sep = suffix + b"\n\ndata: " + prefix  # between two events of the frame
        self.tail = suffix + b"\n\n"
        self.two = 2 * (len(self.head) + len(self.tail))  # a read this long or longer may hold two of its events

    @classmethod
    def learn(cls, payload: bytes, chat: bool) -> ContentFrame | None:
        """The frame of ``payload`` (one event's data: a plain chunk with one content string, or text for
        the completions API, and no finish reason or usage), or None if it has none."""
        if payload.find(b"\n") >= 0 or payload.find(b"\r") >= 0:  # one line of an event (feed_framed relies on it)
            return None
        key = b'"content":' if chat else b'"text":'
        start = payload.rfind(key) + len(key)
        if start < len(key):
            return None
        while payload[start : start + 1] in (b" ", b"\t"):  # `"content": "..."`, as Python's json.dumps writes it
            start += 1
        if payload[start : start + 1] != b'"':
            return None
        end = start + 1  # the string's closing quote: the first one not escaped by a backslash
        while True:
            end = payload.find(b'"', end)
            if end < 0:
                return None
            before = end - 1  # the backslashes just before it, counted back (linear in the string's length)
            while payload[before] == 92:  # "\\"
                before -= 1
            if (end - 1 - before) % 2 == 0:
                break
            end += 1
        prefix, suffix = payload[:start], payload[end + 1 :]
        decode = decode_plain if chat else decode_plain_text
        try:  # the string found is the one that sets the content, and the chunk has nothing else to tell
            probe = decode(prefix + b'"#"' + suffix)
        except msgspec.DecodeError:
            return None
        if probe.usage is not None or not probe.choices:
            return None
        choice = probe.choices[0]
        text = (choice.delta.content if choice.delta is not None else None) if chat else choice.text
        if text != "#" or choice.finish_reason is not None:
            return None
        return cls(prefix, suffix)


def _event(ev: bytes) -> tuple[bytes, bytes] | None:
    """One event's lines (already split on blank lines) as ``(name, data)``; None if no data."""
    name = b""
    data: list[bytes] = []
    for line in ev.split(b"\n"):
        if not line or line.startswith(b":"):
            continue  # a comment (keep-alive)
        field, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if field == b"data":
            data.append(value)
        elif field == b"event":
            name = value
        # id:, retry: and unknown fields carry nothing here
    if not data:
        return None
    return name, b"\n".join(data)


# ---- wire types: only the fields read are decoded; msgspec skips the rest ----------


class Delta(msgspec.Struct, gc=False):
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    tool_calls: list[Any] | None = None  # function-call fragments, merged by index (model.merge_tool_deltas)


class Message(msgspec.Struct, gc=False):
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None


class Choice(msgspec.Struct, gc=False):
    delta: Delta | None = None
    message: Message | None = None
    text: str | None = None
    finish_reason: str | None = None


class Details(msgspec.Struct, gc=False):
    reasoning_tokens: int | None = None


class ChunkUsage(msgspec.Struct, gc=False):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    completion_tokens_details: Details | None = None


class StreamChunk(msgspec.Struct, gc=False):
    """A ``chat.completion.chunk`` / ``text_completion`` chunk, or an error object."""

    choices: list[Choice] | None = None
    usage: ChunkUsage | None = None
    error: Any = None
    message: Any = None  # some servers send {"message": ...} as the error event's data


decode_chunk = msgspec.json.Decoder(StreamChunk).decode
decode_chunks = msgspec.json.Decoder(list[StreamChunk]).decode  # SSEParser.feed_array's arrays


# ---- the plain chunks: content (or text), finish_reason and usage only, checked by msgspec while decoding ----
# A read whose chunks all decode as these needs few per-chunk checks in Python (EventStream.read's fast
# path): no error, a list of choices (empty only in the usage chunk that ends a stream: EventStream._plain
# treats an empty list as the general loop does), and for chat a delta with no reasoning and no tool calls.
# Every field of StreamChunk is declared here with a type at least as strict, so a chunk that decodes
# here decodes as a StreamChunk too, to the same content, text and finish_reason; any other chunk raises
# msgspec.ValidationError and the read is decoded again as StreamChunks (the general path).


class PlainDelta(msgspec.Struct, gc=False):
    content: str | None = None
    reasoning_content: None = None
    reasoning: None = None
    tool_calls: None = None


class PlainChoice(msgspec.Struct, gc=False):
    delta: PlainDelta  # required, not null
    message: Message | None = None
    text: str | None = None
    finish_reason: str | None = None


class PlainTextChoice(msgspec.Struct, gc=False):
    delta: Delta | None = None
    message: Message | None = None
    text: str | None = None
    finish_reason: str | None = None


class PlainChunk(msgspec.Struct, gc=False):
    choices: list[PlainChoice]  # required, not null
    usage: ChunkUsage | None = None
    error: None = None
    message: Any = None


class PlainTextChunk(msgspec.Struct, gc=False):
    choices: list[PlainTextChoice]
    usage: ChunkUsage | None = None
    error: None = None
    message: Any = None


decode_plain = msgspec.json.Decoder(PlainChunk).decode  # chat
decode_plains = msgspec.json.Decoder(list[PlainChunk]).decode
decode_plain_text = msgspec.json.Decoder(PlainTextChunk).decode  # completions
decode_plain_texts = msgspec.json.Decoder(list[PlainTextChunk]).decode
_decode_strings = msgspec.json.Decoder(list[str]).decode  # ContentFrame's content strings
_decode_string = msgspec.json.Decoder(str).decode  # the content string of a read of one event (feed_framed)


def error_text(err: Any) -> str:
    if isinstance(err, dict):
        return str(err.get("message") or err)
    return str(err)
