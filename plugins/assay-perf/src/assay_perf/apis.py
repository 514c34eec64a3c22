"""Perf API plugins: how a prompt becomes a request body and how a response becomes raw timings.

An API object (registered through ``assay_perf_apis``) has:

- ``path``: the endpoint path appended when ``--url`` is a base URL ending in ``/v1``;
- ``streams``: whether it can stream (embeddings cannot);
- ``body(prompt, options) -> dict``: the JSON body for one prompt (a string or a message list);
- ``on_event(payload: bytes, t: float, rec: Record)``: one SSE ``data:`` payload (not ``[DONE]``),
  which arrived at wall time ``t``;
- ``on_body(body: bytes, t: float, rec: Record)``: a whole non-streamed response body.

The handlers only fill the :class:`Record`: content chunk times, usage, finish, errors.
The load generator does the HTTP, SSE framing, timestamps and error classes.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Record:
    """What a response parser fills in for one request (mutable, cheap)."""

    __slots__ = (
        "cached_tokens",
        "chunk_times",
        "done",
        "error",
        "error_kind",
        "events",
        "finished",
        "keep_text",
        "output_tokens",
        "prompt_tokens",
        "sent",
        "texts",
    )

    def __init__(self, keep_text: bool = False) -> None:
        self.chunk_times: list[float] = []
        self.texts: list[str] = []
        self.keep_text = keep_text
        self.prompt_tokens: int | None = None
        self.output_tokens: int | None = None  # from usage only
        self.cached_tokens: int | None = None  # usage.prompt_tokens_details.cached_tokens (prefix cache)
        self.finished = False  # a finish_reason was seen
        self.done = False  # [DONE] seen (set by the framer)
        self.events = 0  # decoded data payloads
        self.error_kind: str | None = None
        self.error: str | None = None
        self.sent: float | None = None  # set by the load generator when the request bytes are written

    def fail(self, kind: str, message: str) -> None:
        if self.error_kind is None:  # the first failure is the one counted
            self.error_kind = kind
            self.error = message[:300]


# ---- wire types: only the fields read are decoded; msgspec skips the rest ----------


class _Delta(msgspec.Struct):
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None


class _Message(msgspec.Struct):
    content: str | None = None
    reasoning_content: str | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None
    message: _Message | None = None
    text: str | None = None
    finish_reason: str | None = None


class _PromptDetails(msgspec.Struct):
    cached_tokens: int | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: _PromptDetails | None = None


class _Chunk(msgspec.Struct):
    choices: list[_Choice] | None = None
    usage: _Usage | None = None
    error: Any = None


class _EmbeddingsBody(msgspec.Struct):
    data: list[Any] | None = None
    usage: _Usage | None = None
    error: Any = None


_decode_chunk = msgspec.json.Decoder(_Chunk).decode
_decode_embeddings = msgspec.json.Decoder(_EmbeddingsBody).decode


def _error_text(err: Any) -> str:
    if isinstance(err, dict):
        return str(err.get("message") or err)
    return str(err)


def _text_of(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    return "\n".join(str(m.get("content", "")) for m in prompt)


def _common(options: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": options.model}
    if options.max_tokens is not None:
        body["max_tokens"] = options.max_tokens
    if options.min_tokens is not None:
        body["min_tokens"] = options.min_tokens
    if options.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    sampling = getattr(options, "sampling", None)
    if sampling:
        body.update(sampling)
    return body


class OpenAIChat:
    """``POST /v1/chat/completions``; content and reasoning deltas both count as output."""

    name = "openai"
    path = "/chat/completions"
    streams = True

    def body(self, prompt: Any, options: Any) -> dict[str, Any]:
        body = _common(options)
        body["messages"] = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        return body

    def on_event(self, payload: bytes, t: float, rec: Record) -> None:
        try:
            chunk = _decode_chunk(payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            rec.fail("malformed", f"undecodable SSE data: {exc}: {payload[:80]!r}")
            return
        rec.events += 1
        if chunk.error is not None:
            rec.fail("stream_error", _error_text(chunk.error))
            return
        if chunk.choices:
            for ch in chunk.choices:
                d = ch.delta
                if d is not None:
                    text = d.content or d.reasoning_content or d.reasoning
                    if text:
                        rec.chunk_times.append(t)
                        if rec.keep_text:
                            rec.texts.append(text)
                elif ch.text:  # a completions-style chunk on a chat URL
                    rec.chunk_times.append(t)
                    if rec.keep_text:
                        rec.texts.append(ch.text)
                if ch.finish_reason:
                    rec.finished = True
        if chunk.usage is not None:
            u = chunk.usage
            if u.completion_tokens is not None:
                rec.output_tokens = u.completion_tokens
            if u.prompt_tokens is not None:
                rec.prompt_tokens = u.prompt_tokens
            if u.prompt_tokens_details is not None:
                rec.cached_tokens = u.prompt_tokens_details.cached_tokens

    def on_body(self, body: bytes, t: float, rec: Record) -> None:
        obj = _whole_body(_decode_chunk, body, rec)
        if obj is None:
            return
        if not obj.choices:
            rec.fail("malformed", f"response has no choices: {body[:80]!r}")
            return
        ch = obj.choices[0]
        text = (ch.message.content or ch.message.reasoning_content) if ch.message is not None else ch.text
        rec.chunk_times.append(t)  # the whole answer arrives at once
        if rec.keep_text and text:
            rec.texts.append(text)
        rec.finished = True
        if obj.usage is not None:
            rec.output_tokens = obj.usage.completion_tokens
            rec.prompt_tokens = obj.usage.prompt_tokens
            if obj.usage.prompt_tokens_details is not None:
                rec.cached_tokens = obj.usage.prompt_tokens_details.cached_tokens


def _whole_body(decode: Any, body: bytes, rec: Record) -> Any:
    """Decode a non-streamed answer; record a failure (and return None) if it is not one."""
    try:
        obj = decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        rec.fail("malformed", f"response is not JSON: {exc}: {body[:80]!r}")
        return None
    rec.events += 1
    if obj.error is not None:
        rec.fail("stream_error", _error_text(obj.error))
        return None
    return obj


class OpenAICompletions(OpenAIChat):
    """``POST /v1/completions`` (``prompt`` instead of ``messages``)."""

    name = "openai_completions"
    path = "/completions"

    def body(self, prompt: Any, options: Any) -> dict[str, Any]:
        body = _common(options)
        # token ids (--tokenize-prompt) go as they are: the server does not tokenize again
        body["prompt"] = (
            prompt if isinstance(prompt, list) and prompt and isinstance(prompt[0], int) else _text_of(prompt)
        )
        if body.get("logprobs") is True:  # the completions API takes a count of alternatives
            body["logprobs"] = body.pop("top_logprobs", None) or 1
        return body


class _WholeList:
    """An API answered with one whole body (never streamed; latency is the only timing) that must hold a
    non-empty list ``items``: the one ``on_body`` of embeddings and rerank."""

    streams = False
    what = ""  # "embeddings": the API's name in failure messages
    items = ""  # the body's list: "data"
    decode: Any = None

    def on_event(self, payload: bytes, t: float, rec: Record) -> None:  # pragma: no cover - not streamed
        rec.fail("malformed", f"{self.what} responses are not streamed")

    def on_body(self, body: bytes, t: float, rec: Record) -> None:
        obj = _whole_body(self.decode, body, rec)
        if obj is None:
            return
        if not getattr(obj, self.items):
            rec.fail("malformed", f"{self.what} response has no {self.items}: {body[:80]!r}")
            return
        rec.chunk_times.append(t)
        rec.finished = True
        rec.output_tokens = 0
        if obj.usage is not None:
            rec.prompt_tokens = self.prompt_tokens(obj.usage)

    @staticmethod
    def prompt_tokens(usage: Any) -> int | None:
        return usage.prompt_tokens


class OpenAIEmbeddings(_WholeList):
    """``POST /v1/embeddings``: never streamed; latency is the only timing."""

    name = "openai_embeddings"
    path = "/embeddings"
    what, items, decode = "embeddings", "data", staticmethod(_decode_embeddings)

    def body(self, prompt: Any, options: Any) -> dict[str, Any]:
        return {"model": options.model, "input": _text_of(prompt)}


class _RerankUsage(msgspec.Struct):
    prompt_tokens: int | None = None
    total_tokens: int | None = None


class _RerankBody(msgspec.Struct):
    results: list[Any] | None = None
    usage: _RerankUsage | None = None
    meta: Any = None
    error: Any = None


_decode_rerank = msgspec.json.Decoder(_RerankBody).decode


class Rerank(_WholeList):
    """``POST /v1/rerank`` (the Cohere / Jina / vLLM format): never streamed; latency is the only timing.

    The body: ``query`` = the prompt's text, ``documents`` = its words cut into ``documents`` parts (4), so
    the work scales with ``--min/max-prompt-length``; a ``custom`` prompt that is an object with ``query``
    and ``documents`` is sent as it is."""

    name = "openai_rerank"
    path = "/rerank"
    what, items, decode = "rerank", "results", staticmethod(_decode_rerank)
    documents = 4

    def body(self, prompt: Any, options: Any) -> dict[str, Any]:
        if isinstance(prompt, dict) and "query" in prompt:
            return {"model": options.model, **prompt}
        words = _text_of(prompt).split()
        k = self.documents
        size = max(1, -(-len(words) // k))
        docs = [" ".join(words[i : i + size]) for i in range(0, len(words), size)] or [""]
        return {"model": options.model, "query": " ".join(words[:size]), "documents": docs}

    @staticmethod
    def prompt_tokens(usage: Any) -> int | None:
        return usage.prompt_tokens or usage.total_tokens


class _RespContent(msgspec.Struct):
    type: str | None = None
    text: str | None = None


class _RespOutput(msgspec.Struct):
    type: str | None = None
    content: list[_RespContent] | None = None


class _RespDetails(msgspec.Struct):
    cached_tokens: int | None = None


class _RespUsage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    input_tokens_details: _RespDetails | None = None


class _Response(msgspec.Struct):
    status: str | None = None
    output: list[_RespOutput] | None = None
    usage: _RespUsage | None = None
    error: Any = None


class _RespEvent(msgspec.Struct):
    type: str | None = None
    delta: str | None = None
    response: _Response | None = None
    message: str | None = None  # type "error"
    error: Any = None


_decode_response = msgspec.json.Decoder(_Response).decode
_decode_resp_event = msgspec.json.Decoder(_RespEvent).decode


def _resp_usage(u: _RespUsage | None, rec: Record) -> None:
    if u is None:
        return
    rec.output_tokens = u.output_tokens
    rec.prompt_tokens = u.input_tokens
    if u.input_tokens_details is not None:
        rec.cached_tokens = u.input_tokens_details.cached_tokens


class OpenAIResponses:
    """``POST /v1/responses`` (the OpenAI Responses API), streamed or not: output and reasoning text
    deltas count as content chunks; ``response.completed`` ends the stream (it has no ``[DONE]``)."""

    name = "openai_responses"
    path = "/responses"
    streams = True

    def body(self, prompt: Any, options: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"model": options.model, "input": prompt}
        if options.max_tokens is not None:
            body["max_output_tokens"] = options.max_tokens
        if options.stream:
            body["stream"] = True
        sampling = getattr(options, "sampling", None)
        if sampling:
            body.update(sampling)
        return body

    def on_event(self, payload: bytes, t: float, rec: Record) -> None:
        try:
            ev = _decode_resp_event(payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            rec.fail("malformed", f"undecodable SSE data: {exc}: {payload[:80]!r}")
            return
        rec.events += 1
        kind = ev.type or ""
        if kind in (
            "response.output_text.delta",
            "response.reasoning_text.delta",
            "response.reasoning_summary_text.delta",
        ):
            if ev.delta:
                rec.chunk_times.append(t)
                if rec.keep_text and kind == "response.output_text.delta":
                    rec.texts.append(ev.delta)
        elif kind in ("response.completed", "response.incomplete"):
            rec.finished = True
            if ev.response is not None:
                _resp_usage(ev.response.usage, rec)
        elif kind in ("error", "response.failed") or ev.error is not None:
            detail = ev.message or (ev.response.error if ev.response is not None else None) or ev.error
            rec.fail("stream_error", _error_text(detail or payload[:200].decode("utf-8", "replace")))

    def on_body(self, body: bytes, t: float, rec: Record) -> None:
        obj = _whole_body(_decode_response, body, rec)
        if obj is None:
            return
        texts = [c.text for o in obj.output or [] for c in o.content or [] if c.type == "output_text" and c.text]
        if obj.output is None:
            rec.fail("malformed", f"response has no output: {body[:80]!r}")
            return
        rec.chunk_times.append(t)
        if rec.keep_text:
            rec.texts.extend(texts)
        rec.finished = True
        _resp_usage(obj.usage, rec)


class OpenAIAuto(OpenAIChat):
    """``--api openai`` (EvalScope's name): chat, or completions when the URL says so."""

    name = "openai"

    def for_url(self, url: str) -> Any:
        path = url.split("?", 1)[0].rstrip("/")
        if path.endswith("/completions") and not path.endswith("/chat/completions"):
            return OpenAICompletions()
        if path.endswith("/embeddings"):
            return OpenAIEmbeddings()
        if path.endswith(("/rerank", "/reranks")):
            return Rerank()
        if path.endswith("/responses"):
            return OpenAIResponses()
        return OpenAIChat()
