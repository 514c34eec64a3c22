"""The one HTTP client of the OpenAI protocol: aiohttp sessions and error classes for the eval
backend (:mod:`assay_openai.model`) and the perf load generator (``assay_perf.runner``).

No SDK objects on the hot path: bodies go out as bytes (msgspec-encoded by the caller), answers
come back as bytes, streams go through :mod:`assay_openai.sse`. What is shared: how a session is
set up (no connection limit, no User-Agent, large reads), how an HTTP status and a client
exception become an error kind (the trust rules: ``connection``, ``timeout``, ``auth``,
``not_found``, ``http_4xx``, ``http_429``, ``http_5xx``), and how an error body becomes one line.
aiohttp is imported when a session is made, not with this module.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import msgspec

__all__ = [
    "APIError",
    "HTTPStatusError",
    "connection_cause",
    "exception_kind",
    "make_session",
    "status_kind",
    "status_message",
]


class HTTPStatusError(Exception):
    """An HTTP answer with status >= 400; ``str()`` is ``HTTP <status>: <the server's message>``."""

    def __init__(self, status: int, body: bytes, headers: Any = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}
        super().__init__(status_message(status, body))

    @property
    def retry_after(self) -> float | None:
        value = self.headers.get("retry-after") if self.headers else None
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None  # an HTTP date: exponential backoff instead


class APIError(Exception):
    """An ``{"error": {...}}`` object where an answer or a stream chunk was expected."""

    def __init__(self, message: str, body: Any = None) -> None:
        super().__init__(message)
        self.body = body


def status_message(status: int, body: bytes) -> str:
    """``HTTP 400: <error.message>`` (OpenAI's and vLLM's error shape), else the body's first 300 characters."""
    message = None
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        data = None
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            message = err.get("message")
        elif isinstance(err, str):
            message = err
        message = message or data.get("message") or data.get("detail")
    text = str(message) if message else body[:300].decode("utf-8", "replace")
    return f"HTTP {status}: {text}"


def status_kind(status: int) -> tuple[str, bool]:
    """(error kind, retryable) of an HTTP status >= 400."""
    if status == 429:
        return "http_429", True
    if status >= 500:
        return "http_5xx", True
    if status in (401, 403):
        return "auth", False
    if status == 404:
        return "not_found", False
    return "http_4xx", status in (408, 409)


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(out) < 10 and all(cur is not e for e in out):
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def exception_kind(exc: BaseException) -> str | None:
    """``timeout``, ``truncated`` or ``connection`` for a client-side failure; None if it is none of these."""
    aiohttp = sys.modules.get("aiohttp")  # not loaded (the lean client's requests): none of its errors
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) or (  # noqa: UP041
        aiohttp is not None and isinstance(exc, aiohttp.ServerTimeoutError)
    ):
        return "timeout"
    if aiohttp is not None and isinstance(exc, aiohttp.ClientPayloadError):
        return "truncated"
    if isinstance(exc, (ConnectionError, OSError)) or (aiohttp is not None and isinstance(exc, aiohttp.ClientError)):
        return "connection"
    return None


def connection_cause(exc: BaseException) -> str:
    """What went wrong underneath a connection error, in words."""
    for e in _chain(exc):
        if isinstance(e, ConnectionRefusedError):
            return "connection refused (is the server running, and is the port right?)"
        if isinstance(e, socket.gaierror):
            return f"host not found ({e.strerror or e})"
    return f"{type(exc).__name__}: {exc}"


def make_session(
    *,
    connect_timeout: float | None = 60.0,
    read_timeout: float | None = 600.0,
    total_timeout: float | None = None,
    headers: dict[str, str] | None = None,
    trace_configs: list[Any] | None = None,
    auto_decompress: bool = True,
    trust_env: bool = False,
) -> Any:
    """An ``aiohttp.ClientSession`` as both callers want it: no connection cap (the caller bounds
    concurrency), DNS cached, keep-alive, 64 KiB reads, no User-Agent; call inside the event loop.
    ``trust_env``: HTTP(S)_PROXY / NO_PROXY and .netrc from the environment, as the openai SDK does."""
    import aiohttp

    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=300, force_close=False),
        timeout=aiohttp.ClientTimeout(total=total_timeout, sock_connect=connect_timeout, sock_read=read_timeout),
        headers=headers,
        auto_decompress=auto_decompress,
        read_bufsize=1 << 16,
        skip_auto_headers=("User-Agent",),
        trace_configs=trace_configs,
        trust_env=trust_env,
    )
