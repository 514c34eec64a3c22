"""The ``openai_api`` backend: one aiohttp session (:mod:`assay_openai.http`, shared with
``assay perf``), msgspec bodies, the SSE parser of :mod:`assay_openai.sse`; every request timed.
Requests to a plain ``http://`` URL, streamed or not, go through the one lean client of
:mod:`assay_openai.lean` (also ``assay perf``'s; keep-alive HTTP/1.1 on asyncio, no aiohttp: issue 18),
a stream's reads handed to :class:`EventStream` as they arrive, with aiohttp's errors and words;
anything it does not do (https, a proxy, a redirect), aiohttp does (``ASSAY_OPENAI_HTTP=aiohttp``: always).

No openai SDK on this path: its per-request objects cost more CPU than the whole request
(issue 18), and its low-level ``post`` needed a private import.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import sys
import time
from typing import Any

import msgspec
from assay.api import AssayError, FatalError, GenerateRequest, GenerateResult, ModelConfig, TransientError
from assay.events import RequestTimed, Usage

from .http import APIError, HTTPStatusError, connection_cause, exception_kind, make_session, status_kind
from .sse import (
    ContentFrame,
    SSEParser,
    decode_chunk,
    decode_chunks,
    decode_plain,
    decode_plain_text,
    decode_plain_texts,
    decode_plains,
    error_text,
)

_OPENAI_KEYS = {
    "max_tokens",
    "temperature",
    "top_p",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "n",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "response_format",
}
_ALIASES = {
    "max_new_tokens": "max_tokens",
    "max_completion_tokens": "max_tokens",
    "stop_seqs": "stop",
}  # stop_seqs: EvalScope's
_ids = itertools.count()


def request_params(generation_config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a generation config into SDK keywords and ``extra_body``."""
    params: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for k, v in generation_config.items():
        k = _ALIASES.get(k, k)
        if v is None or k in ("do_sample", "stream", "timeout"):
            continue
        (params if k in _OPENAI_KEYS else extra)[k] = v
    if generation_config.get("do_sample") is False:
        params.setdefault("temperature", 0.0)
    return params, extra


def _usage(raw: Any) -> Usage | None:
    if raw is None:
        return None
    details = getattr(raw, "completion_tokens_details", None)
    return Usage(
        prompt_tokens=getattr(raw, "prompt_tokens", None),
        completion_tokens=getattr(raw, "completion_tokens", None),
        total_tokens=getattr(raw, "total_tokens", None),
        reasoning_tokens=getattr(details, "reasoning_tokens", None) if details is not None else None,
    )


class StreamError(Exception):
    """A streamed answer that is not a usable event stream (retried like a 5xx)."""


def classify(exc: BaseException) -> tuple[str, int | None, bool]:
    """(error kind, HTTP status, retryable) of a request's exception."""
    if isinstance(exc, HTTPStatusError):
        kind, retryable = status_kind(exc.status)
        return kind, exc.status, retryable
    if isinstance(exc, (StreamError, APIError)):  # not an event stream / an error inside a 200 stream
        return "stream_error", None, True
    if isinstance(exc, (msgspec.DecodeError, ValueError, KeyError, IndexError, TypeError, AttributeError)):
        return "malformed", None, True
    kind = exception_kind(exc)
    if kind is not None:
        return ("connection" if kind == "truncated" else kind), None, True  # a cut body: the connection dropped
    return type(exc).__name__, None, False


def _describe(exc: BaseException, kind: str) -> str:
    """One line saying why a request failed: the cause, not a wrapper's text."""
    if kind == "connection":
        return connection_cause(exc)
    if isinstance(exc, HTTPStatusError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _now_anyio() -> float:
    import anyio

    try:
        return anyio.current_time()
    except Exception:  # noqa: BLE001 - not in an anyio event loop
        return -math.inf


def record_failure(timed: RequestTimed, exc: BaseException, deadline: float, now: Any) -> tuple[str, int | None, bool]:
    """Fill a failed request's ``RequestTimed`` (end, status, kind, a message without secrets) and return
    ``classify``'s (kind, status, retryable); one rule for every backend of this distribution."""
    kind, status, retryable = classify(exc)
    if kind == "CancelledError":  # the kernel's --timeout expired (fail_after), or an interruption
        kind = "timeout" if _now_anyio() >= deadline else "cancelled"
    timed.end = now()
    timed.ok = False
    timed.status = status or timed.status
    timed.error_kind = kind
    if kind == "timeout" and not isinstance(exc, Exception):
        timed.error = f"timed out after {timed.end - timed.sent:.1f} s"
    elif kind == "cancelled":
        timed.error = "cancelled (the run was interrupted or stopped)"
    else:
        timed.error = _describe(exc, kind)[:500]
    return kind, status, retryable


def _deadline() -> float:
    """The deadline the caller set (the kernel's ``--timeout``, a ``fail_after``); inf if none."""
    import anyio

    try:
        return anyio.current_effective_deadline()
    except Exception:  # noqa: BLE001 - not in an anyio event loop
        return math.inf


# the default of model_args' read_coalesce_ms (assay_openai.lean.Pool.pause): 1 ms, not the 0.2 it was, halves
# the CPU of a long answer from a fast server (one 16k-token answer: ~29 against ~76 ms, 134 reads against 768)
# at a cost in timing within the noise of an eval's latency figures (README, "Read coalescing")
READ_COALESCE_MS = 1.0


def _coalesce(value: Any) -> float:
    """model_args' ``read_coalesce_ms`` (None: the default) in seconds; a clear error for a bad value."""
    if value is None:
        value = READ_COALESCE_MS
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise AssayError(f"model_args: read_coalesce_ms must be a number of milliseconds from 0 to 100, not {value!r}")
    return value / 1000


def _retry_after(exc: BaseException) -> float | None:
    return exc.retry_after if isinstance(exc, HTTPStatusError) else None


def _base_url(api_url: str | None) -> str:
    base = (api_url or "").rstrip("/")
    for suffix in ("/chat/completions", "/completions"):
        base = base.removesuffix(suffix)
    return base


def _token_logprobs(raw: Any) -> list[dict[str, Any]] | None:
    """Chat ``choices[0].logprobs.content``: per token its logprob and top alternatives (judges read them)."""
    content = raw.get("content") if isinstance(raw, dict) else None
    if not isinstance(content, list):
        return None
    out = []
    for entry in content:
        if not isinstance(entry, dict):
            continue
        tops = [
            {"token": t.get("token"), "logprob": t.get("logprob")}
            for t in entry.get("top_logprobs") or []
            if isinstance(t, dict)
        ]
        out.append({"token": entry.get("token"), "logprob": entry.get("logprob"), "top_logprobs": tops})
    return out


def served_models(api_url: str, api_key: str | None = None, timeout: float | None = None) -> list[str]:
    """The ids ``GET {api_url}/models`` lists; a failure raises :class:`FatalError`, classified.

    Asked once, before a run: a plain blocking GET (urllib), no event loop.
    """
    import urllib.error
    import urllib.request

    base = _base_url(api_url)
    url = f"{base}/models"
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {api_key or 'EMPTY'}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout or 30.0) as resp:  # noqa: S310 - the user's own URL
            data = msgspec.json.decode(resp.read())
        return [str(m["id"]) for m in data["data"]]
    except urllib.error.HTTPError as exc:
        err = HTTPStatusError(exc.code, exc.read(), exc.headers)
        kind, status, _ = classify(err)
        raise FatalError(f"GET {url}: {str(err)[:300]}", kind=kind, status=status, url=url) from None
    except Exception as exc:  # noqa: BLE001 - any failure is told with its cause
        cause = getattr(exc, "reason", None)
        if isinstance(cause, BaseException):
            exc = cause
        kind, status, _ = classify(exc)
        raise FatalError(f"GET {url}: {_describe(exc, kind)[:300]}", kind=kind, status=status, url=url) from None


def tool_call_of(raw: Any) -> dict[str, Any] | None:
    """One ``tool_calls`` entry of a chat reply as ``{"name", "arguments" (JSON text), "id"}``."""
    if not isinstance(raw, dict):
        return None
    fn = raw.get("function") if isinstance(raw.get("function"), dict) else {}
    args = fn.get("arguments")
    if not isinstance(args, str):
        args = "" if args is None else msgspec.json.encode(args).decode()
    out: dict[str, Any] = {"name": str(fn.get("name") or ""), "arguments": args}
    if raw.get("id"):
        out["id"] = str(raw["id"])
    return out


def merge_tool_deltas(acc: dict[int, dict[str, Any]], deltas: list[Any]) -> None:
    """Merge streamed ``delta.tool_calls`` fragments into ``acc`` (index -> name, arguments, id)."""
    for d in deltas:
        if not isinstance(d, dict):
            continue
        idx = d.get("index")
        idx = idx if isinstance(idx, int) else len(acc)
        entry = acc.setdefault(idx, {"name": "", "arguments": ""})
        fn = d.get("function") if isinstance(d.get("function"), dict) else {}
        if isinstance(fn.get("name"), str):
            entry["name"] += fn["name"]
        if isinstance(fn.get("arguments"), str):
            entry["arguments"] += fn["arguments"]
        if d.get("id"):
            entry["id"] = str(d["id"])


class EventStream:
    """One streamed answer, fed network read by network read: content and reasoning parts (apart),
    finish reason, usage, tool-call fragments, and the request's times in ``timed``.

    :meth:`read` takes one read's bytes and the time it arrived (taken before any parsing): it fills
    ``timed.first_byte``, ``timed.chunk_times`` (one per content chunk, the time of the read that
    completed it) and ``timed.last_content``. The one body for both HTTP clients of the eval backend:
    the lean client calls it from ``data_received`` (:mod:`assay_openai.lean`), aiohttp's reads go
    through :func:`read_events`. An error in the stream raises (:class:`APIError`, :class:`StreamError`,
    ``msgspec.DecodeError``).
    """

    __slots__ = (
        "chat",
        "done",
        "feed",
        "finish",
        "frame",
        "frame_tries",
        "parser",
        "parts",
        "reasoning_parts",
        "timed",
        "tool_calls",
        "usage",
    )

    def __init__(self, chat: bool, timed: RequestTimed, tool_calls: dict[int, dict[str, Any]] | None = None) -> None:
        self.chat = chat
        self.timed = timed
        self.tool_calls = tool_calls
        self.parts: list[str] = []
        self.reasoning_parts: list[str] = []
        self.finish: str | None = None
        self.usage: Usage | None = None
        self.done = False  # [DONE] seen: later bytes are ignored
        self.parser = SSEParser()
        self.feed = self.parser.feed
        self.frame: ContentFrame | None = None  # the server's frame around each content string, once learned
        self.frame_tries = 3  # reads left to learn it from (a server whose chunks differ: no cost after)

    def read(self, data: bytes, t: float) -> bool:
        """One network read at time ``t``; True once ``[DONE]`` has been seen."""
        if self.done:
            return True
        timed = self.timed
        if timed.first_byte is None:
            timed.first_byte = t
        error_event = False
        payloads = None  # (found again from data if an error event needs its text)
        if self.frame is not None and (got := self.parser.feed_framed(data, self.frame)) is not None:
            # the content chunks the read begins with, in one decode (ContentFrame); tried first once a frame is
            # known: a read of one chunk costs less this way than feed_one's, one of several no feed_one call
            texts, end = got
            if len(texts) == 1 and end == len(data):  # a read of one event (a stream at a model's pace)
                if text := texts[0]:
                    self.parts.append(text)
                    timed.chunk_times.append(t)
                    timed.last_content = t
                return False
            parts = self.parts
            times = timed.chunk_times
            n, n_times, last = len(parts), len(times), timed.last_content
            parts += filter(None, texts)
            if len(parts) > n:
                times += itertools.repeat(t, len(parts) - n)
                timed.last_content = t
            if end == len(data):
                return False
            try:
                return self.read(data[end:], t)  # the rest (the finish, the usage, [DONE]...): as any read
            except msgspec.DecodeError:  # a malformed chunk: nothing of its read is kept, as on the other paths
                del parts[n:], times[n_times:]
                timed.last_content = last
                raise
        one = self.parser.feed_one(data)
        if one is not None:  # a quiet stream's read: one event
            try:
                plain = (decode_plain if self.chat else decode_plain_text)(one)
            except msgspec.DecodeError:  # not a plain chunk (reasoning, tool calls, an error...): the general path
                chunks = [decode_chunk(one)]
            else:  # (what _plain does, for one chunk: the common read of a quiet stream, without a call)
                choices = plain.choices
                if choices:
                    choice = choices[0]
                    text = choice.delta.content if self.chat else choice.text
                    if text:
                        self.parts.append(text)
                        timed.chunk_times.append(t)
                        timed.last_content = t
                        if self.frame_tries:  # the reads to come go the frame's way (a quarter less)
                            self._learn(one)
                    if choice.finish_reason:
                        self.finish = choice.finish_reason
                if plain.usage is not None:
                    self.usage = _usage(plain.usage)
                return False
        elif (fast := self.parser.feed_array(data)) is not None:  # whole events: all decoded by one call
            array, self.done = fast
            try:
                plains = (decode_plains if self.chat else decode_plain_texts)(array)
            except msgspec.DecodeError:
                chunks = decode_chunks(array)
            else:
                self._plain(plains, t)
                if self.frame_tries:
                    self._learn(data[6 : data.find(b"\n\n")])  # from the read's first event
                return self.done
        else:
            chunks = []
            payloads = []
            for name, payload in self.feed(data):
                if payload == b"[DONE]":
                    self.done = True
                    break
                chunks.append(decode_chunk(payload))
                payloads.append(payload)
                if name == b"error":  # `event: error`: nothing after it is read
                    error_event = True
                    break
        if not chunks:
            return self.done
        parts = self.parts
        times = timed.chunk_times
        n = len(parts)
        chat = self.chat
        last = len(chunks) - 1
        try:  # (also when a chunk raises: the read's content before it is the last content)
            for i, chunk in enumerate(chunks):
                choices = chunk.choices
                if chunk.error:  # {"error": {...}} as data: what the SDK raises, the same words
                    message = chunk.error.get("message") if isinstance(chunk.error, dict) else None
                    if not message or not isinstance(message, str):
                        message = "An error occurred during streaming"
                    raise APIError(message, body=chunk.error)
                if (choices is None and chunk.usage is None) or (error_event and i == last):
                    # an error event (`event: error`, or a data line with no choices and no usage)
                    if payloads is None:  # a fast-path read is whole events: frame it again
                        payloads = [p for _, p in SSEParser().feed(data)]
                    detail = chunk.message or payloads[i].decode("utf-8", "replace")
                    raise StreamError(f"error event in the stream: {error_text(detail)[:300]}")
                if chunk.usage is not None:
                    self.usage = _usage(chunk.usage)
                if not choices:
                    continue
                choice = choices[0]
                if chat:
                    delta = choice.delta
                    if delta is not None:
                        text = delta.content
                        r = delta.reasoning_content or delta.reasoning
                        if r:
                            self.reasoning_parts.append(r)
                        if delta.tool_calls and self.tool_calls is not None:
                            merge_tool_deltas(self.tool_calls, delta.tool_calls)
                    else:
                        text = None
                else:
                    text = choice.text
                if text:
                    parts.append(text)
                    times.append(t)
                if choice.finish_reason:
                    self.finish = choice.finish_reason
        finally:
            if len(parts) > n:
                timed.last_content = t
        return self.done

    def _learn(self, payload: bytes) -> None:
        """The frame of a plain chunk with content that did not match it (none yet, or the first chunk was
        written otherwise, as vLLM's with its role), for the reads to come: the first chunk of a read of one
        or of several."""
        self.frame_tries -= 1
        frame = ContentFrame.learn(payload, self.chat)
        if frame is not None:
            self.frame = frame

    def _plain(self, chunks: list[Any], t: float) -> None:
        """A read of plain chunks (:class:`assay_openai.sse.PlainChunk`: content, finish_reason and usage
        only, checked while decoding): what the general loop of :meth:`read` does with them, with none of
        its other checks (msgspec made them). The usage chunk that ends a stream (no choices) is plain too,
        so the last read of an answer, which often holds most of it, is decoded once."""
        parts = self.parts
        n = len(parts)
        chat = self.chat
        for chunk in chunks:
            choices = chunk.choices
            if choices:
                choice = choices[0]
                text = choice.delta.content if chat else choice.text
                if text:
                    parts.append(text)
                if choice.finish_reason:
                    self.finish = choice.finish_reason
            if chunk.usage is not None:
                self.usage = _usage(chunk.usage)
        if len(parts) > n:
            timed = self.timed
            timed.chunk_times += itertools.repeat(t, len(parts) - n)
            timed.last_content = t


async def read_events(
    reads: Any,
    now: Any,
    chat: bool,
    timed: RequestTimed,
    http_request: Any = None,  # unused (the SDK's request object once); kept for positional callers
    tool_calls: dict[int, dict[str, Any]] | None = None,
) -> tuple[list[str], list[str], str | None, Usage | None]:
    """Read an OpenAI event stream from its network reads: (content parts, reasoning parts, finish, usage).

    ``reads`` yields the bytes of each read; ``now()`` is taken once per read, before any parsing
    (:meth:`EventStream.read` fills ``timed``).
    """
    events = EventStream(chat, timed, tool_calls)
    read = events.read
    async for data in reads:
        if read(data, now()):  # the read's time, taken before any parsing
            break
    return events.parts, events.reasoning_parts, events.finish, events.usage


class OpenAIModel:
    supports_loglikelihood = False

    def __init__(self, config: ModelConfig, run: Any) -> None:
        self.name = config.model
        self.run = run
        self.config = config
        args = dict(config.model_args)
        self.api = args.pop("api", None)  # "chat" | "completions" | None (by sample)
        self.stream = bool(args.pop("stream", config.stream))
        self.base_url = _base_url(config.api_url)
        self._headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {config.api_key or 'EMPTY'}",
            **(args.pop("headers", None) or {}),
        }
        self._timeout = config.timeout or 600.0
        self._coalesce = _coalesce(args.pop("read_coalesce_ms", None))
        self._session: Any = None  # made in the event loop, on the first request
        self.extra_model_args = args
        self._encoder = msgspec.json.Encoder()
        self._served: str | None = None
        self._pools: dict[str, Any] = {}  # the lean client's connections (assay_openai.lean), per URL
        # the one choice, streamed or not: the lean client where it can serve the URL, else aiohttp
        self._lean = _lean_target(self.base_url + "/completions", self._headers) is not None
        if not self._lean:
            import aiohttp  # noqa: F401 - imported with the backend, not inside the first (timed) request

    def _lean_pool(self, url: str) -> Any:
        """The lean client's pool for ``url`` when it can serve it (plain http, no proxy, ordinary
        headers), else None: aiohttp. Made in the running event loop, as the aiohttp session."""
        pool = self._pools.get(url)
        if pool is not None:
            if pool.loop is asyncio.get_running_loop():
                return pool
            pool.close()  # made in another event loop (a later run of the same backend)
        if not self._lean:
            return None
        target = _lean_target(url, self._headers)
        if target is None:
            return None
        from .lean import Pool

        host, port, prefix = target
        pool = self._pools[url] = Pool(
            host,
            port,
            prefix,
            stream=self.stream,
            on_event=None,
            on_body=_lean_body,
            on_read=_lean_read if self.stream else None,
            off=0.0,
            connect_timeout=self._timeout,
            read_timeout=self._timeout,
            total_timeout=None,
            decompress=not self.stream,  # a whole answer decoded as aiohttp decodes it
            coalesce=self._coalesce,
        )
        return pool

    def _no_lean(self, url: str, pool: Any) -> None:
        """The lean client handed a request back (a redirect...): aiohttp from now on."""
        self._lean = False
        self._pools.pop(url, None)
        pool.close()

    def _http(self) -> Any:
        if self._session is None:
            self._session = make_session(
                connect_timeout=self._timeout,
                read_timeout=self._timeout,
                headers=self._headers,
                trust_env=True,  # proxies from the environment, as the openai SDK honoured them
            )
        return self._session

    async def _served_hint(self) -> str:
        """After a 404: what the server serves, to name in the error (asked once per run)."""
        if self._served is None:
            try:
                async with self._http().get(self.base_url + "/models") as resp:
                    data = msgspec.json.decode(await resp.read()) if resp.status < 400 else {}
                names = [str(m["id"]) for m in data.get("data") or []]
            except Exception:  # noqa: BLE001 - a wrong path has no /models either: no hint
                names = []
            more = " ..." if len(names) > 10 else ""
            self._served = f" (the server serves: {', '.join(map(repr, names[:10]))}{more})" if names else ""
        return self._served

    async def aclose(self) -> None:
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.close()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def generate(self, request: GenerateRequest) -> GenerateResult:
        params, extra = request_params(
            {**self.extra_model_args.get("generation_config", {}), **request.generation_config}
        )
        chat = self.api == "chat" or (self.api is None and request.messages is not None)
        request_id = f"{request.sample_id}@{request.attempt}:{next(_ids)}"
        timed = RequestTimed(
            request_id=request_id,
            sample_id=request.sample_id,
            api="chat" if chat else "completions",
            url=self.base_url + ("/chat/completions" if chat else "/completions"),
            sent=time.time(),
            end=0.0,
            stream=self.stream,
        )
        t0 = time.perf_counter()
        wall0 = timed.sent
        deadline = _deadline()  # read before any cancellation (a cancelled scope reports -inf)

        def now() -> float:
            return wall0 + (time.perf_counter() - t0)

        off = wall0 - t0  # the lean client's clock: perf_counter() + off, as now()

        try:
            body: dict[str, Any] = {"model": self.name, **params, **extra}
            if chat:
                body["messages"] = request.messages or [{"role": "user", "content": self._prompt(request)}]
            else:
                body["prompt"] = self._prompt(request)
            if self.stream:
                result = await self._streamed(body, timed.url, chat, timed, now, off)
            else:
                result = await self._whole(body, timed.url, chat, timed, now)
        except BaseException as exc:
            kind, status, retryable = record_failure(timed, exc, deadline, now)
            if kind == "not_found":
                timed.error += await self._served_hint()
            self.run.emit(timed)
            if not isinstance(exc, Exception):
                raise  # cancellation (a timeout or an interruption): the kernel decides
            details = {"kind": kind, "status": status, "url": timed.url}
            if retryable:
                raise TransientError(timed.error, retry_after=_retry_after(exc), **details) from exc
            if kind in ("auth", "not_found", "http_4xx"):
                raise FatalError(timed.error, **details) from exc
            raise
        result.request_ids = [request_id]
        self.run.emit(timed)
        return result

    def _prompt(self, request: GenerateRequest) -> str:
        if request.prompt is not None:
            return request.prompt
        return "\n\n".join(str(m.get("content", "")) for m in request.messages or [])

    async def _post_whole(self, url: str, data: bytes, timed: RequestTimed) -> bytes:
        """The answer's body; an HTTP error status raised as :class:`HTTPStatusError`."""
        pool = self._lean_pool(url)
        if pool is not None:
            rec = _LeanRecord(None)
            try:
                status, _ = await pool.request(data, rec, False)
            except OSError as exc:  # connecting failed
                raise _connect_failure(exc, pool, url)  # noqa: B904 - its cause set there
            except pool.Unsupported:  # e.g. a redirect: aiohttp from now on, this request again
                self._no_lean(url, pool)
            else:
                timed.status = status  # a body cut short: its answer's status, as aiohttp's path has it
                if status is not None and status >= 400:
                    raise _status_error(status, rec)
                if rec.error_kind is not None:
                    raise _lean_failure(rec.error_kind, rec.error or "")
                assert rec.body is not None
                return rec.body
        async with self._http().post(url, data=data) as resp:
            timed.status = resp.status
            content = await resp.read()
            if resp.status >= 400:
                raise HTTPStatusError(resp.status, content, resp.headers)
        return content

    async def _whole(self, body: dict[str, Any], url: str, chat: bool, timed: RequestTimed, now: Any) -> GenerateResult:
        content = await self._post_whole(url, self._encoder.encode(body), timed)
        t = now()
        timed.first_byte = t
        data = msgspec.json.decode(content)
        if not isinstance(data, dict) or not data.get("choices"):
            error = data.get("error") if isinstance(data, dict) else None
            raise ValueError(f"response without choices: {str(error or data)[:300]}")
        choice = data["choices"][0]
        if chat:
            message = choice.get("message") or {}
            output = message.get("content") or ""
            reasoning = message.get("reasoning_content") or message.get("reasoning") or None
            raw_calls = message.get("tool_calls")
            calls = [c for c in map(tool_call_of, raw_calls) if c] if isinstance(raw_calls, list) else None
        else:
            output = choice.get("text") or ""
            reasoning = None
            calls = None
        timed.last_content = timed.end = t
        timed.chunk_times = [t]
        raw_usage = data.get("usage")
        usage = None
        if isinstance(raw_usage, dict):
            details = raw_usage.get("completion_tokens_details") or {}
            usage = Usage(
                prompt_tokens=raw_usage.get("prompt_tokens"),
                completion_tokens=raw_usage.get("completion_tokens"),
                total_tokens=raw_usage.get("total_tokens"),
                reasoning_tokens=details.get("reasoning_tokens") if isinstance(details, dict) else None,
            )
            timed.prompt_tokens = usage.prompt_tokens
            timed.output_tokens = usage.completion_tokens
            timed.usage_reported = True
        return GenerateResult(
            output=output,
            reasoning=reasoning,
            usage=usage,
            finish_reason=choice.get("finish_reason"),
            logprobs=_token_logprobs(choice.get("logprobs")) if body.get("logprobs") else None,
            tool_calls=calls or None,
        )

    async def _streamed(
        self, body: dict[str, Any], url: str, chat: bool, timed: RequestTimed, now: Any, off: float | None = None
    ) -> GenerateResult:
        # the event stream is parsed from raw bytes (assay_openai.sse): no per-chunk objects
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
        calls: dict[int, dict[str, Any]] = {}
        events = EventStream(chat, timed, calls)
        pool = self._lean_pool(url)
        done = False
        if pool is not None:
            try:
                await self._lean_stream(pool, self._encoder.encode(body), events, off)
                done = True
            except pool.Unsupported:  # e.g. a redirect: aiohttp from now on, this request again
                self._no_lean(url, pool)
                timed.status = None
                calls.clear()
                events = EventStream(chat, timed, calls)
        if not done:
            async with self._http().post(url, data=self._encoder.encode(body)) as resp:
                timed.status = resp.status
                if resp.status >= 400:
                    raise HTTPStatusError(resp.status, await resp.read(), resp.headers)
                ctype = resp.headers.get("Content-Type", "")
                if "text/event-stream" not in ctype.lower():
                    head = (await resp.read())[:200]
                    raise StreamError(
                        f"a {timed.status} response that is not an event stream (Content-Type: {ctype!r}): {head!r}"
                    )
                read = events.read
                async for data in resp.content.iter_any():
                    if read(data, now()):  # the read's time, taken before any parsing
                        break
        timed.end = now()
        parts, reasoning_parts, finish, usage = events.parts, events.reasoning_parts, events.finish, events.usage
        if not parts and not reasoning_parts and not calls and finish is None:
            raise StreamError("the event stream ended with no content and no finish_reason")
        if usage is not None:
            timed.prompt_tokens = usage.prompt_tokens
            timed.output_tokens = usage.completion_tokens
            timed.usage_reported = True
        return GenerateResult(
            output="".join(parts),
            reasoning="".join(reasoning_parts) or None,
            usage=usage,
            finish_reason=finish,
            tool_calls=[calls[i] for i in sorted(calls)] or None,
        )

    async def _lean_stream(self, pool: Any, data: bytes, events: EventStream, off: float | None) -> None:
        """One streamed request on the lean client; its failures raised as the aiohttp path raises them."""
        rec = _LeanRecord(events)
        timed = events.timed
        try:
            status, _ = await pool.request(data, rec, False, off)
        except OSError as exc:  # connecting failed
            raise _connect_failure(exc, pool, timed.url)  # noqa: B904 - its cause set there
        timed.status = status
        if rec.exc is not None:  # raised by EventStream.read (an error event, an undecodable chunk)
            raise rec.exc
        if status is not None and status >= 400:
            raise _status_error(status, rec)
        if rec.error_kind is not None:
            raise _lean_failure(rec.error_kind, rec.error or "")
        if rec.body is not None:
            ctype = rec.ctype.decode("latin-1")
            raise StreamError(
                f"a {status} response that is not an event stream (Content-Type: {ctype!r}): {rec.body[:200]!r}"
            )


class _LeanRecord:
    """What the lean client fills in for one streamed eval request (its ``rec``)."""

    __slots__ = ("body", "ctype", "error", "error_kind", "events", "exc", "retry_after", "sent", "status")

    def __init__(self, events: EventStream | None) -> None:
        self.events = events
        self.error_kind: str | None = None
        self.error: str | None = None
        self.exc: BaseException | None = None
        self.sent: float | None = None
        self.status: int | None = None
        self.ctype = b""
        self.retry_after: bytes | None = None
        self.body: bytes | None = None  # a 2xx answer that is not an event stream

    def fail(self, kind: str, message: str) -> None:
        if self.error_kind is None:
            self.error_kind = kind
            self.error = message

    def on_headers(self, status: int, ctype: bytes, retry_after: bytes | None) -> None:
        self.status, self.ctype, self.retry_after = status, ctype, retry_after


def _connect_failure(exc: OSError, pool: Any, url: str) -> BaseException:
    """The lean client's failure to connect as aiohttp raises it (same class name, same words), the cause chained."""
    if isinstance(exc, TimeoutError):
        err: BaseException = ConnectionTimeoutError(f"Connection timeout to host {url}")
        err.__cause__ = exc
        return err
    cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
    err = ClientConnectorError(
        f"Cannot connect to host {pool.host}:{pool.port} ssl:default [{cause.strerror or cause}]"
    )
    err.__cause__ = cause
    return err


def _status_error(status: int, rec: _LeanRecord) -> HTTPStatusError:
    """An error status on the lean client, told as :class:`HTTPStatusError` tells it (status_message)."""
    err = HTTPStatusError(status, b"", {"retry-after": rec.retry_after.decode("latin-1")} if rec.retry_after else None)
    err.args = (rec.error or f"HTTP {status}",)
    return err


def _lean_read(data: bytes, t: float, rec: _LeanRecord) -> None:
    try:
        rec.events.read(data, t)  # type: ignore[union-attr] - a streamed request's record has its events
    except Exception as exc:
        rec.exc = exc  # raised again by the request's coroutine, as aiohttp's path raises it
        raise


def _lean_body(body: bytes, t: float, rec: _LeanRecord) -> None:
    rec.body = body


# The exceptions aiohttp raises for the lean client's failures, by name and wording, so that errors read
# the same on both clients (:func:`classify` sorts them into the same kinds), without importing aiohttp.
class ClientConnectorError(ConnectionError):
    pass


class ServerDisconnectedError(ConnectionError):
    def __init__(self, message: str = "Server disconnected") -> None:
        super().__init__(message)


class ClientPayloadError(ConnectionError):
    pass


class ClientResponseError(ConnectionError):
    pass


class SocketTimeoutError(TimeoutError):
    pass


class ConnectionTimeoutError(TimeoutError):
    pass


def _lean_failure(kind: str, message: str) -> BaseException:
    """The lean client's failure as the exception aiohttp raises for it (same kind, same words)."""
    if kind == "timeout":
        return SocketTimeoutError("Timeout on reading data from socket")
    if kind == "connection":
        return ServerDisconnectedError()
    if kind == "truncated":
        return ClientPayloadError(message)
    if kind == "malformed":  # an unparseable HTTP answer: aiohttp's ClientResponseError (400, message=...)
        detail = message.removeprefix("unparseable HTTP response: ")
        return ClientResponseError(f"400, message={detail!r}")
    return RuntimeError(message)


def _lean_target(url: str, headers: dict[str, str]) -> tuple[str, int, bytes] | None:
    """Where the lean client sends ``url`` (:func:`assay_openai.lean.lean_target`); None: aiohttp does,
    for https, a proxy from the environment, a header that is not ASCII, ``ASSAY_OPENAI_HTTP=aiohttp``,
    or no httptools. The one choice of client, streamed or not."""
    if os.environ.get("ASSAY_OPENAI_HTTP", "lean") == "aiohttp":
        return None
    if not all(str(k).isascii() and str(v).isascii() for k, v in headers.items()):
        return None
    try:
        from .lean import lean_target
    except ImportError:  # httptools not installed: aiohttp does it all
        return None
    target = lean_target(url, headers)
    if target is None:
        return None
    if not _may_proxy():
        return target
    import urllib.request

    proxies = urllib.request.getproxies()
    if ("http" in proxies or "all" in proxies) and not urllib.request.proxy_bypass(target[0]):
        return None
    return target


def _may_proxy() -> bool:
    """Whether urllib could find a proxy: on Linux only in ``*_proxy`` variables (macOS and Windows also
    have system settings). Without one, urllib (and http.client, email) is not imported: start-up, issue 18."""
    return sys.platform in ("darwin", "win32") or any(k.lower().endswith("_proxy") for k in os.environ)
