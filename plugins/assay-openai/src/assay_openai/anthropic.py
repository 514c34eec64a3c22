"""The ``anthropic_api`` backend: the Anthropic Messages API (``POST /v1/messages``) on the shared
HTTP client (:mod:`assay_openai.http`) and SSE parser (:mod:`assay_openai.sse`), msgspec bodies,
every request timed (a ``RequestTimed`` with TTFT and chunk times when streamed).

The same rules as ``openai_api``: the kernel retries a 429, a 529 "overloaded" and any 5xx,
honouring Retry-After; a 400/401/403/404 fails the sample at once with the server's message;
the key travels in ``x-api-key`` only and never reaches an event. Thinking blocks become the
reasoning, kept apart from the answer. No anthropic SDK on this path.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from assay.api import FatalError, GenerateRequest, GenerateResult, ModelConfig, TransientError
from assay.events import RequestTimed, Usage

from .http import APIError, HTTPStatusError, make_session
from .model import StreamError, _deadline, _ids, _retry_after, record_failure
from .sse import SSEParser, error_text

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096  # the API requires max_tokens; used when the generation config has none
# generation-config keys the Messages API takes (others, e.g. seed or presence_penalty, it rejects: dropped)
_KEYS = {"max_tokens", "temperature", "top_p", "top_k", "stop_sequences", "thinking", "metadata", "service_tier"}
_ALIASES = {
    "max_new_tokens": "max_tokens",
    "max_completion_tokens": "max_tokens",
    "stop": "stop_sequences",
    "stop_seqs": "stop_sequences",  # EvalScope's GenerateConfig name
}


def messages_params(generation_config: dict[str, Any]) -> dict[str, Any]:
    """The Messages API's body keys from a generation config (OpenAI names mapped, unknown keys dropped)."""
    out: dict[str, Any] = {}
    for k, v in generation_config.items():
        k = _ALIASES.get(k, k)
        if v is None or k not in _KEYS:
            continue
        out[k] = [v] if k == "stop_sequences" and isinstance(v, str) else v
    if generation_config.get("do_sample") is False:
        out.setdefault("temperature", 0.0)
    out.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
    return out


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a content-block list."""
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text")
    return str(content)


def split_system(messages: list[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
    """System messages become the top-level ``system``; consecutive turns of one role are merged
    (the API wants user and assistant in turn)."""
    system = [_text(m.get("content", "")) for m in messages if m.get("role") == "system"]
    turns: list[dict[str, Any]] = []
    for m in messages:
        role = m.get("role")
        if role == "system":
            continue
        role = "assistant" if role == "assistant" else "user"
        content = m.get("content", "")
        if turns and turns[-1]["role"] == role and isinstance(content, str) and isinstance(turns[-1]["content"], str):
            turns[-1]["content"] += "\n\n" + content
        else:
            turns.append({"role": role, "content": content})
    return ("\n\n".join(system) if system else None), turns


def messages_url(api_url: str | None) -> str:
    base = (api_url or "https://api.anthropic.com").rstrip("/")
    if base.endswith("/messages"):
        return base
    return base + ("/messages" if base.endswith("/v1") else "/v1/messages")


# ---- wire types: only the fields read ----------------------------------------------


class _Delta(msgspec.Struct):
    type: str | None = None
    text: str | None = None
    thinking: str | None = None
    stop_reason: str | None = None


class _Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None


class _Block(msgspec.Struct):
    type: str | None = None
    text: str | None = None
    thinking: str | None = None


class _Message(msgspec.Struct):
    content: list[_Block] | None = None
    stop_reason: str | None = None
    usage: _Usage | None = None
    error: Any = None  # a whole (non-streamed) answer that is an error object


class _Event(msgspec.Struct):
    type: str | None = None
    delta: _Delta | None = None
    message: _Message | None = None
    usage: _Usage | None = None
    error: Any = None


_decode_event = msgspec.json.Decoder(_Event).decode


def _usage(input_tokens: int | None, output_tokens: int | None) -> Usage | None:
    if input_tokens is None and output_tokens is None:
        return None
    total = (input_tokens or 0) + (output_tokens or 0)
    return Usage(prompt_tokens=input_tokens, completion_tokens=output_tokens, total_tokens=total)


def _input_tokens(u: _Usage) -> int | None:
    if u.input_tokens is None:
        return None
    return u.input_tokens + (u.cache_read_input_tokens or 0) + (u.cache_creation_input_tokens or 0)


async def read_message_events(
    reads: Any, now: Any, timed: RequestTimed
) -> tuple[list[str], list[str], str | None, Usage | None]:
    """Read a Messages API event stream: (text parts, thinking parts, stop_reason, usage). One
    timestamp per network read, before parsing; each text delta is a content chunk of ``timed``."""
    parts: list[str] = []
    thinking: list[str] = []
    stop = None
    input_tokens = output_tokens = None
    stopped = False
    parser = SSEParser()
    async for data in reads:
        t = now()
        if timed.first_byte is None:
            timed.first_byte = t
        for name, payload in parser.feed(data):
            ev = _decode_event(payload)
            kind = ev.type or name.decode("utf-8", "replace")
            if kind == "content_block_delta" and ev.delta is not None:
                if ev.delta.type == "text_delta" and ev.delta.text:
                    parts.append(ev.delta.text)
                    timed.chunk_times.append(t)
                    timed.last_content = t
                elif ev.delta.type == "thinking_delta" and ev.delta.thinking:
                    thinking.append(ev.delta.thinking)
            elif kind == "message_start" and ev.message is not None and ev.message.usage is not None:
                input_tokens = _input_tokens(ev.message.usage)
                output_tokens = ev.message.usage.output_tokens
            elif kind == "message_delta":
                if ev.delta is not None and ev.delta.stop_reason:
                    stop = ev.delta.stop_reason
                if ev.usage is not None and ev.usage.output_tokens is not None:
                    output_tokens = ev.usage.output_tokens
            elif kind == "message_stop":
                stopped = True
            elif kind == "error" or ev.error is not None:
                err = ev.error
                message = err.get("message") if isinstance(err, dict) else None
                raise APIError(
                    f"error event in the stream: {error_text(message or payload.decode('utf-8', 'replace'))[:300]}",
                    body=err,
                )
        if stopped:
            break
    if not stopped:
        raise StreamError("the event stream ended without message_stop")
    return parts, thinking, stop, _usage(input_tokens, output_tokens)


class AnthropicModel:
    supports_loglikelihood = False

    def __init__(self, config: ModelConfig, run: Any) -> None:
        self.name = config.model
        self.run = run
        self.config = config
        args = dict(config.model_args)
        self.stream = bool(args.pop("stream", config.stream))
        self.url = messages_url(config.api_url)
        self._headers = {
            "Content-Type": "application/json",
            "x-api-key": config.api_key or "EMPTY",
            "anthropic-version": str(args.pop("anthropic_version", ANTHROPIC_VERSION)),
            **(args.pop("headers", None) or {}),
        }
        self._timeout = config.timeout or 600.0
        self._session: Any = None
        self.extra_model_args = args
        self._encoder = msgspec.json.Encoder()

    def _http(self) -> Any:
        if self._session is None:
            self._session = make_session(
                connect_timeout=self._timeout, read_timeout=self._timeout, headers=self._headers, trust_env=True
            )
        return self._session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def body(self, request: GenerateRequest) -> dict[str, Any]:
        params = messages_params({**self.extra_model_args.get("generation_config", {}), **request.generation_config})
        messages = request.messages or [{"role": "user", "content": request.prompt or ""}]
        system, turns = split_system(messages)
        body: dict[str, Any] = {"model": self.name, **params, "messages": turns}
        if system:
            body["system"] = system
        if self.stream:
            body["stream"] = True
        return body

    async def generate(self, request: GenerateRequest) -> GenerateResult:
        request_id = f"{request.sample_id}@{request.attempt}:{next(_ids)}"
        timed = RequestTimed(
            request_id=request_id,
            sample_id=request.sample_id,
            api="anthropic_messages",
            url=self.url.split("?", 1)[0],
            sent=time.time(),
            end=0.0,
            stream=self.stream,
        )
        t0 = time.perf_counter()
        wall0 = timed.sent
        deadline = _deadline()

        def now() -> float:
            return wall0 + (time.perf_counter() - t0)

        try:
            data = self._encoder.encode(self.body(request))
            async with self._http().post(self.url, data=data) as resp:
                timed.status = resp.status
                if resp.status >= 400:
                    raise HTTPStatusError(resp.status, await resp.read(), resp.headers)
                if self.stream:
                    ctype = resp.headers.get("Content-Type", "")
                    if "text/event-stream" not in ctype.lower():
                        head = (await resp.read())[:200]
                        raise StreamError(
                            f"a {resp.status} response that is not an event stream (Content-Type: {ctype!r}): {head!r}"
                        )
                    parts, thinking, stop, usage = await read_message_events(resp.content.iter_any(), now, timed)
                    timed.end = now()
                    output, reasoning = "".join(parts), "".join(thinking) or None
                else:
                    content = await resp.read()
                    t = timed.first_byte = timed.last_content = timed.end = now()
                    timed.chunk_times = [t]
                    output, reasoning, stop, usage = self._whole(content)
        except BaseException as exc:
            kind, status, retryable = record_failure(timed, exc, deadline, now)
            self.run.emit(timed)
            if not isinstance(exc, Exception):
                raise
            details = {"kind": kind, "status": status, "url": timed.url}
            if retryable:
                raise TransientError(timed.error, retry_after=_retry_after(exc), **details) from exc
            if kind in ("auth", "not_found", "http_4xx"):
                raise FatalError(timed.error, **details) from exc
            raise
        if usage is not None:
            timed.prompt_tokens = usage.prompt_tokens
            timed.output_tokens = usage.completion_tokens
            timed.usage_reported = True
        self.run.emit(timed)
        return GenerateResult(
            output=output, reasoning=reasoning, usage=usage, finish_reason=stop, request_ids=[request_id]
        )

    @staticmethod
    def _whole(content: bytes) -> tuple[str, str | None, str | None, Usage | None]:
        data = msgspec.json.decode(content, type=_Message)
        if data.error is not None or data.content is None:
            raise APIError(
                f"response without content: {error_text(data.error or content[:300])[:300]}", body=data.error
            )
        text = "".join(b.text or "" for b in data.content if b.type == "text")
        thinking = "".join(b.thinking or "" for b in data.content if b.type == "thinking") or None
        usage = _usage(_input_tokens(data.usage), data.usage.output_tokens) if data.usage is not None else None
        return text, thinking, data.stop_reason, usage
