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


class _AnthDelta(msgspec.Struct):
    type: str | None = None
    text: str | None = None
    thinking: str | None = None
    stop_reason: str | None = None


class _AnthUsage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class _AnthBlock(msgspec.Struct):
    type: str | None = None
    text: str | None = None


class _AnthMessage(msgspec.Struct):
    content: list[_AnthBlock] | None = None
    stop_reason: str | None = None
    usage: _AnthUsage | None = None
    error: Any = None


class _AnthEvent(msgspec.Struct):
    type: str | None = None
    delta: _AnthDelta | None = None
    message: _AnthMessage | None = None
    usage: _AnthUsage | None = None
    error: Any = None


_decode_anth_event = msgspec.json.Decoder(_AnthEvent).decode
_decode_anth_message = msgspec.json.Decoder(_AnthMessage).decode


def _anth_usage(u: _AnthUsage | None, rec: Record) -> None:
    if u is None:
        return
    if u.input_tokens is not None:
        rec.prompt_tokens = u.input_tokens + (u.cache_read_input_tokens or 0)
    if u.cache_read_input_tokens is not None:
        rec.cached_tokens = u.cache_read_input_tokens
    if u.output_tokens is not None:
        rec.output_tokens = u.output_tokens


class AnthropicMessages:
    """``POST /v1/messages`` (the Anthropic Messages API), streamed or not: ``x-api-key`` and
    ``anthropic-version`` headers; text and thinking deltas count as content chunks; the stream ends
    with ``message_stop`` (no ``[DONE]``)."""

    name = "anthropic"
    path = "/messages"
    streams = True
    version = "2023-06-01"

    def request_headers(self, opts: Any) -> dict[str, str]:
        h = {"Content-Type": "application/json", "anthropic-version": self.version, **opts.headers}
        if opts.api_key:
            h["x-api-key"] = opts.api_key
        return h

    def body(self, prompt: Any, options: Any) -> dict[str, Any]:
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
        system = [str(m.get("content", "")) for m in messages if m.get("role") == "system"]
        body: dict[str, Any] = {
            "model": options.model,
            "max_tokens": options.max_tokens or 4096,  # required by the API
            "messages": [m for m in messages if m.get("role") != "system"],
        }
        if system:
            body["system"] = "\n\n".join(system)
        if options.stream:
            body["stream"] = True
        sampling = dict(getattr(options, "sampling", None) or {})
        if "stop" in sampling:
            stop = sampling.pop("stop")
            sampling["stop_sequences"] = [stop] if isinstance(stop, str) else stop
        body.update({k: v for k, v in sampling.items() if k in ("temperature", "top_p", "top_k", "stop_sequences")})
        return body

    def on_event(self, payload: bytes, t: float, rec: Record) -> None:
        try:
            ev = _decode_anth_event(payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            rec.fail("malformed", f"undecodable SSE data: {exc}: {payload[:80]!r}")
            return
        rec.events += 1
        kind = ev.type
        if kind == "content_block_delta" and ev.delta is not None:
            text = ev.delta.text if ev.delta.type == "text_delta" else ev.delta.thinking
            if text:
                rec.chunk_times.append(t)
                if rec.keep_text and ev.delta.type == "text_delta":
                    rec.texts.append(text)
        elif kind == "message_start" and ev.message is not None:
            _anth_usage(ev.message.usage, rec)
        elif kind == "message_delta":
            _anth_usage(ev.usage, rec)
        elif kind == "message_stop":
            rec.finished = True
        elif kind == "error" or ev.error is not None:
            rec.fail("stream_error", _error_text(ev.error or payload[:200].decode("utf-8", "replace")))

    def on_body(self, body: bytes, t: float, rec: Record) -> None:
        obj = _whole_body(_decode_anth_message, body, rec)
        if obj is None:
            return
        if obj.content is None:
            rec.fail("malformed", f"response has no content: {body[:80]!r}")
            return
        rec.chunk_times.append(t)
        if rec.keep_text:
            rec.texts.extend(b.text for b in obj.content if b.type == "text" and b.text)
        rec.finished = True
        _anth_usage(obj.usage, rec)


class _DsMessage(msgspec.Struct):
    content: str | None = None
    reasoning_content: str | None = None


class _DsChoice(msgspec.Struct):
    message: _DsMessage | None = None
    finish_reason: str | None = None


class _DsOutput(msgspec.Struct):
    text: str | None = None
    finish_reason: str | None = None
    choices: list[_DsChoice] | None = None


class _DsUsage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None


class _DsBody(msgspec.Struct):
    output: _DsOutput | None = None
    usage: _DsUsage | None = None
    code: str | None = None
    message: str | None = None
    error: Any = None  # (the shared error reader looks here)


_decode_dashscope = msgspec.json.Decoder(_DsBody).decode

# sampling flags DashScope's parameters take (EvalScope's dashscope plugin sends these it knows)
_DS_PARAMS = ("temperature", "top_p", "top_k", "seed", "stop", "n", "logprobs", "top_logprobs", "frequency_penalty")
_DS_PARAMS += ("presence_penalty", "repetition_penalty")


class DashScope:
    """DashScope's text-generation API (``POST .../api/v1/services/aigc/text-generation/generation``), as
    EvalScope's ``dashscope`` perf plugin sends it: ``{"model", "input": {"messages"}, "parameters"}``.
    Streamed with the ``X-DashScope-SSE: enable`` header and ``incremental_output: true`` (each event the
    new text); ``finish_reason`` is ``"null"`` until the last event; no ``[DONE]``."""

    name = "dashscope"
    path = "/services/aigc/text-generation/generation"
    streams = True

    def request_headers(self, opts: Any) -> dict[str, str]:
        h = opts.request_headers()
        if opts.stream:
            h["X-DashScope-SSE"] = "enable"
        return h

    def body(self, prompt: Any, options: Any) -> dict[str, Any]:
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        params: dict[str, Any] = {"result_format": "message"}
        if options.max_tokens is not None:
            params["max_tokens"] = options.max_tokens
        sampling = getattr(options, "sampling", None) or {}
        params.update({k: v for k, v in sampling.items() if k in _DS_PARAMS})
        if options.stream:
            params["incremental_output"] = True
        return {"model": options.model, "input": {"messages": messages}, "parameters": params}

    def _take(self, obj: _DsBody, t: float, rec: Record) -> None:
        out = obj.output
        if out is not None:
            if out.choices:
                ch = out.choices[0]
                msg = ch.message
                text = (msg.content or msg.reasoning_content) if msg is not None else None
                finish = ch.finish_reason
                content = msg.content if msg is not None else None
            else:
                text = content = out.text
                finish = out.finish_reason
            if text:
                rec.chunk_times.append(t)
                if rec.keep_text and content:
                    rec.texts.append(content)
            if finish and finish != "null":
                rec.finished = True
        if obj.usage is not None:
            if obj.usage.output_tokens is not None:
                rec.output_tokens = obj.usage.output_tokens
            if obj.usage.input_tokens is not None:
                rec.prompt_tokens = obj.usage.input_tokens

    def on_event(self, payload: bytes, t: float, rec: Record) -> None:
        try:
            obj = _decode_dashscope(payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            rec.fail("malformed", f"undecodable SSE data: {exc}: {payload[:80]!r}")
            return
        rec.events += 1
        if obj.output is None and (obj.code or obj.message):
            rec.fail("stream_error", f"{obj.code or 'error'}: {obj.message or ''}")
            return
        self._take(obj, t, rec)

    def on_body(self, body: bytes, t: float, rec: Record) -> None:
        obj = _whole_body(_decode_dashscope, body, rec)
        if obj is None:
            return
        if obj.output is None:
            rec.fail("malformed", f"response has no output: {body[:80]!r}")
            return
        self._take(obj, t, rec)
        if not rec.chunk_times:
            rec.chunk_times.append(t)
        rec.finished = True


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
