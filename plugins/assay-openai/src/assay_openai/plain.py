"""The non-streamed requests of the ``openai_api`` backend over plain ``http://``: keep-alive HTTP/1.1
connections (an asyncio ``Protocol`` each), answers parsed by ``httptools`` (llhttp, as uvicorn and
``assay perf``'s lean client use), no aiohttp (issue 18: importing aiohttp costs a start-up of its
own, and its per-request objects most of a request's CPU).

What reaches the backend is what aiohttp gave it: the status, the headers (names lower-cased) and the
whole body; a failure is an exception that :func:`assay_openai.model.classify` sorts into the same
kinds with the same words (``ClientConnectorError``, ``ServerDisconnectedError``,
``SocketTimeoutError``, ``ConnectionTimeoutError``, ``ClientPayloadError``). What this client does
not do, it hands back with :class:`Unsupported` before anything is sent, or on an answer it cannot
take (a redirect, a compression it does not know), and the backend sends the request with aiohttp:
``https://``, a proxy from the environment, header values aiohttp would refuse.
"""

from __future__ import annotations

import asyncio
import os
import time
import zlib
from typing import Any
from urllib.parse import urlsplit

import httptools

REDIRECTS = frozenset((301, 302, 303, 307, 308))


class Unsupported(Exception):
    """This request goes through aiohttp instead (nothing was sent, or the answer was a redirect)."""


# the exceptions aiohttp raises in these cases, by name and wording, so that errors read the same
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


def _proxied() -> bool:
    """Whether the environment names a proxy for http:// (aiohttp, with trust_env, would use it)."""
    return any(os.environ.get(k) for k in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"))


def plain_origin(url: str, headers: dict[str, str]) -> tuple[str, int, str, bytes] | None:
    """(host, port, path, request head up to ``Content-Length: ``) when this client can send to
    ``url``; None when aiohttp must (https, a proxy, credentials in the URL, odd header values)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.username or parts.password or parts.query:
        return None
    if parts.fragment or _proxied():
        return None
    for k, v in headers.items():
        if not k or ":" in k or any(c in str(s) for s in (k, v) for c in "\r\n\0"):
            return None  # aiohttp refuses these with its own message
    try:
        port = parts.port or 80
    except ValueError:
        return None
    host = parts.hostname
    host_header = f"[{host}]" if ":" in host else host
    if parts.port:
        host_header += f":{port}"
    lines = [f"Host: {host_header}", "Accept: */*"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("host", "content-length")]
    try:
        head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")
    except UnicodeEncodeError:
        return None
    return host, port, parts.path or "/", head


class _Conn(asyncio.Protocol):
    """One keep-alive connection, one request at a time."""

    def __init__(self, pool: PlainPool) -> None:
        self.pool = pool
        self.transport: Any = None
        self.done: asyncio.Future[None] | None = None
        self.usable = False
        self.error: BaseException | None = None
        self.last_read = 0.0

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.usable = True

    def connection_lost(self, exc: BaseException | None) -> None:
        self.usable = False
        self.pool.forget(self)
        done = self.done
        if done is None or done.done():
            return
        if self.status is None:
            self.error = ServerDisconnectedError()
        elif not self.chunked and self.length is None:
            self._complete()  # a body that lasts until the connection closes
            return
        else:
            if self.chunked:
                why = "TransferEncodingError: 400, message='Not enough data to satisfy transfer length header."
            else:
                got = sum(map(len, self.body))
                why = (
                    "ContentLengthError: 400, message='Not enough data to satisfy content length header "
                    f"(received {got} of {self.length} bytes)."
                )
            self.error = ClientPayloadError(f"Response payload is not completed: <{why}'>")
            self.error.status = self.status  # type: ignore[attr-defined] - the answer's, as aiohttp's response has it
        done.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.last_read = time.monotonic()
        if self.done is None or self.done.done():
            self.usable = False  # bytes nobody asked for: this connection is not reused
            self.transport.close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(ClientResponseError("400, message='the server switched protocols'"))
        except httptools.HttpParserError as exc:
            self._fail(ClientResponseError(f"400, message={str(exc)!r}"))

    def eof_received(self) -> bool | None:
        return None  # close; connection_lost says the rest

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if name:
            self.header_name = name.decode("latin-1").lower()
            self.headers[self.header_name] = value.decode("latin-1")
        else:  # the header's value continues in another read
            self.headers[self.header_name] += value.decode("latin-1")

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:
            return  # an interim answer (100 Continue): the real one follows
        self.status = status
        h = self.headers
        try:
            self.length = int(h["content-length"]) if "content-length" in h else None
        except ValueError:
            self.length = None
        self.chunked = "chunked" in h.get("transfer-encoding", "").lower()

    def on_body(self, body: bytes) -> None:
        if self.status is not None:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self.status is None:
            self.headers = {}  # after an interim answer: headers start again
            return
        self._complete()

    def _complete(self) -> None:
        if not self.parser.should_keep_alive():
            self.usable = False
        done = self.done
        if done is not None and not done.done():
            done.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        self.usable = False
        self.transport.close()
        if self.done is not None and not self.done.done():
            self.done.set_result(None)

    def begin(self, wire: bytes) -> asyncio.Future[None]:
        self.parser = httptools.HttpResponseParser(self)
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.header_name = ""
        self.length: int | None = None
        self.chunked = False
        self.body: list[bytes] = []
        self.error = None
        self.done = fut = self.pool.loop.create_future()
        self.last_read = time.monotonic()
        self.transport.write(wire)
        return fut


class PlainPool:
    """Keep-alive connections to one ``http://`` origin; the caller bounds how many requests run at once.
    ``timeout`` is aiohttp's ``sock_connect`` and ``sock_read``: to connect, and between two reads."""

    def __init__(self, host: str, port: int, head: bytes, timeout: float | None) -> None:
        self.host, self.port, self.head = host, port, head
        self.timeout = timeout
        self.loop: Any = None
        self.idle: list[_Conn] = []
        self.all: set[_Conn] = set()

    def forget(self, conn: _Conn) -> None:
        self.all.discard(conn)
        if conn in self.idle:
            self.idle.remove(conn)

    async def _connect(self, path: str) -> _Conn:
        conn = _Conn(self)
        coro = self.loop.create_connection(lambda: conn, self.host, self.port)
        try:
            if self.timeout:
                await asyncio.wait_for(coro, self.timeout)
            else:
                await coro
        except TimeoutError as exc:
            raise ConnectionTimeoutError(f"Connection timeout to host http://{self.host}:{self.port}{path}") from exc
        except OSError as exc:  # as aiohttp words it: where, and why (the cause stays chained)
            raise ClientConnectorError(
                f"Cannot connect to host {self.host}:{self.port} ssl:default [{exc.strerror or exc}]"
            ) from exc
        self.all.add(conn)
        return conn

    async def post(self, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of one POST; raises the exceptions named above, or :class:`Unsupported`."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise Unsupported("not in an asyncio event loop") from None
        if loop is not self.loop:  # first use, or another event loop: connections belong to their loop
            self.close()
            self.loop = loop
        conn = None
        while self.idle:
            c = self.idle.pop()
            if c.usable and not c.transport.is_closing():
                conn = c
                break
        if conn is None:
            conn = await self._connect(path)
        fut = conn.begin(b"POST %s HTTP/1.1\r\n%s%d\r\n\r\n%s" % (path.encode(), self.head, len(body), body))
        try:
            await self._wait(conn, fut)
        except BaseException:
            conn.usable = False
            conn.transport.close()
            raise
        if conn.error is not None:
            conn.usable = False
            conn.transport.close()
            raise conn.error
        status = conn.status
        assert status is not None
        content = b"".join(conn.body)
        headers = conn.headers
        if conn.usable:
            conn.done = None
            self.idle.append(conn)
        else:
            conn.transport.close()
        if status in REDIRECTS:
            raise Unsupported(f"redirect {status}")
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            try:
                content = zlib.decompress(content, 47 if "gzip" in encoding else 15)
            except zlib.error:
                if encoding != "deflate":
                    raise
                content = zlib.decompress(content, -15)  # raw deflate, as some servers send it
        elif encoding not in ("identity", ""):
            raise Unsupported(f"Content-Encoding {encoding}")
        return status, headers, content

    async def _wait(self, conn: _Conn, fut: asyncio.Future[None]) -> None:
        read = self.timeout
        if not read:
            await fut
            return
        loop = self.loop
        handle: list[Any] = [None]

        def check() -> None:
            if fut.done():
                return
            left = conn.last_read + read - time.monotonic()
            if left <= 0:
                conn._fail(SocketTimeoutError("Timeout on reading data from socket"))
                return
            handle[0] = loop.call_later(left, check)

        handle[0] = loop.call_later(read, check)
        try:
            await fut
        finally:
            handle[0].cancel()

    def close(self) -> None:
        for c in list(self.all):
            if c.transport is not None:
                try:
                    c.transport.close()
                except RuntimeError:  # its event loop is closed already (a later anyio.run): nothing to do
                    pass
        self.all.clear()
        self.idle.clear()
