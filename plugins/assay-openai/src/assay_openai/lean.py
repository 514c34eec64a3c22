"""The lean HTTP/1.1 client of the OpenAI protocol: an asyncio ``Protocol`` per keep-alive connection.

Shared by the perf load generator (``assay_perf.runner``, which hands each SSE event to its API's
``on_event``) and the eval backend's streamed answers (:mod:`assay_openai.model`, which takes each
read's body bytes through ``on_read`` and parses them with the same :class:`assay_openai.sse.SSEParser`).

Plain ``http://`` only. A request is written as bytes made once per body (request line and
headers prebuilt, the body msgspec-encoded by the caller); the response is parsed by ``httptools``
(the llhttp binding uvicorn uses: status line, headers, chunked transfer decoding), and a streamed
answer is framed by the SSE parser the eval backend uses (:class:`assay_openai.sse.SSEParser`)
and handed to the API's ``on_event`` inside ``data_received``, with the time taken when the read
arrived, before any parsing. No coroutine wakes up per chunk: the request's coroutine waits once,
for the end of the answer. Anything else (https, a proxy, redirects, odd header values) is left to
aiohttp by the caller; a redirect seen here hands the request back (:class:`LeanUnsupported`), as
does a ``Content-Encoding`` other than gzip or deflate (those are decoded when the pool is made with
``decompress=True``: the eval backend's whole answers, as aiohttp decodes them).

Errors are the classes of the aiohttp path: ``timeout`` (connect or read timeout), ``connection``
(refused, reset or closed before the answer's headers), ``truncated`` (closed inside the body).
"""

from __future__ import annotations

import asyncio
import math
import time
import zlib
from typing import Any
from urllib.parse import urlsplit

import httptools

from .sse import SSEParser

REDIRECTS = frozenset((301, 302, 303, 307, 308))


class LeanUnsupported(Exception):
    """This request needs the full client (aiohttp): e.g. the server answered with a redirect."""


def deliver_events(events: Any, t: float, rec: Any, on_event: Any) -> None:
    """One read's SSE ``(name, payload)`` events to a request record: ``[DONE]`` ends it, an ``event: error``
    fails it as a stream error, any other payload goes to ``on_event(payload, t, rec)`` with the read's time.
    The lean client and perf's aiohttp reader both deliver through it."""
    for name, payload in events:
        if payload == b"[DONE]":
            rec.done = True
        elif name == b"error":
            rec.fail("stream_error", f"error event: {payload[:200].decode('utf-8', 'replace')}")
        else:
            on_event(payload, t, rec)


def lean_target(url: str, headers: dict[str, str]) -> tuple[str, int, bytes] | None:
    """(host, port, request-line prefix) when the lean client can send to ``url``; None otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.username or parts.password:
        return None
    for k, v in headers.items():
        if any(c in str(s) for s in (k, v) for c in "\r\n\0") or not k or ":" in k:
            return None  # aiohttp rejects these per request: keep its message
    try:
        port = parts.port or 80
    except ValueError:
        return None
    host = parts.hostname
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = f"[{host}]" if ":" in host else host
    if parts.port:
        host_header += f":{port}"
    lines = [f"POST {target} HTTP/1.1", f"Host: {host_header}", "Accept: */*"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("host", "content-length")]
    return host, port, ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1", "replace")


class _Conn(asyncio.Protocol):
    """One keep-alive connection; at most one request on it at a time."""

    __slots__ = (
        "api_on_event",
        "chunked",
        "content_type",
        "done",
        "encoding",
        "first_byte",
        "handback",
        "length",
        "off",
        "on_body",
        "parser",
        "pieces",
        "pool",
        "rec",
        "last_read",
        "sse",
        "status",
        "stream",
        "t",
        "transport",
        "usable",
        "header_name",
        "retry_after",
    )

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.transport: Any = None
        self.done: asyncio.Future[None] | None = None
        self.usable = False
        self.off = pool.off
        self.api_on_event = pool.on_event
        self.header_name = b""
        self.pieces: list[bytes] = []

    # ---- asyncio.Protocol ------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.usable = True

    def connection_lost(self, exc: BaseException | None) -> None:
        self.usable = False
        self.pool.forget(self)
        done = self.done
        if done is None or done.done():
            return
        rec = self.rec
        if self.status is None:
            rec.fail("connection", f"ServerDisconnectedError: {exc or 'Server disconnected'}")
        elif not self.chunked and self.length is None:
            self._message_complete()  # a body that lasts until the connection closes
            return
        elif self.chunked:  # as aiohttp words it
            rec.fail(
                "truncated",
                "Response payload is not completed: <TransferEncodingError: 400, message='Not enough data to "
                "satisfy transfer length header.'>",
            )
        elif self.stream:
            rec.fail("truncated", f"response ended early: {exc or 'the connection closed inside the body'}")
        else:
            got = sum(map(len, self.pieces))
            rec.fail(
                "truncated",
                "Response payload is not completed: <ContentLengthError: 400, message='Not enough data to "
                f"satisfy content length header (received {got} of {self.length} bytes).'>",
            )
        done.set_result(None)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.t = t = now + self.off  # the arrival time, before any parsing
        self.last_read = t
        pool = self.pool
        if pool.coalesce and pool.woke is None:  # the first read since the loop last polled
            if now - pool.last_wake < 2 * pool.coalesce:  # reads come fast: pace the next poll
                pool.woke = now
                pool.loop.call_soon(pool.pause)
            pool.last_wake = now
        if self.done is None or self.done.done():
            self.usable = False  # bytes nobody asked for: this connection is not reused
            self.transport.close()
            return
        try:
            self.parser.feed_data(data)
            if self.stream and self.pieces:
                self._stream_read()
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__ or exc  # an API parser's own bug: counted, the run goes on
            self._fail("client_error", f"{type(cause).__name__}: {cause}")
        except httptools.HttpParserUpgrade:
            self._fail("malformed", "the server switched protocols")
        except httptools.HttpParserError as exc:
            self._fail("malformed", f"unparseable HTTP response: {exc}")
        except Exception as exc:  # noqa: BLE001 - an API parser's own bug, outside the HTTP parser
            self._fail("client_error", f"{type(exc).__name__}: {exc}")

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost tells the rest

    # ---- httptools callbacks -----------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        if name:
            self.header_name = name.lower()
        key = self.header_name
        if key == b"content-type":
            self.content_type += value
        elif key == b"content-length":
            try:
                self.length = int(value)
            except ValueError:
                self.length = None
        elif key == b"transfer-encoding" and value.lower().find(b"chunked") >= 0:
            self.chunked = True
        elif key == b"retry-after":
            self.retry_after = value
        elif key == b"content-encoding":
            self.encoding += value

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:
            return  # an interim answer (100 Continue): the real one follows
        self.status = status
        self.first_byte = self.t
        self.stream = self.pool.stream and status < 300 and self.content_type.find(b"event-stream") >= 0
        if self.stream:
            self.sse = SSEParser()
        on_headers = getattr(self.rec, "on_headers", None)  # the eval backend's record: what it reports
        if on_headers is not None:
            on_headers(status, self.content_type, self.retry_after)

    # on_body: the request's ``pieces.append`` (set in :meth:`begin`; no Python call per chunk): one piece per
    # chunk of a chunked body; a stream's pieces of one read are framed together, a whole answer's joined at its end

    def _stream_read(self) -> None:
        """The SSE events completed by this read's body bytes, to the API's parser, at the read's time."""
        pieces = self.pieces
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        pieces.clear()
        rec = self.rec
        t = self.t
        on_read = self.pool.on_read
        if on_read is not None:  # the caller frames the bytes itself (the eval backend)
            on_read(data, t, rec)
            return
        deliver_events(self.sse.feed(data), t, rec, self.api_on_event)

    def on_message_complete(self) -> None:
        if self.status is None:
            self.content_type = self.encoding = b""  # after an interim answer: headers start again
            return
        if self.stream and self.pieces:
            self._stream_read()
        self._message_complete()

    # ---- the request -----------------------------------------------------------------
    def _message_complete(self) -> None:
        rec = self.rec
        status = self.status
        assert status is not None
        body = b""
        if not self.stream and status not in REDIRECTS:
            body = b"".join(self.pieces)
            if self.encoding and self.pool.decompress:
                body = self._decoded(body)
        if status in REDIRECTS or body is None:
            pass  # handed back to the caller (aiohttp follows redirects, knows more encodings), or failed
        elif status >= 400:  # classified and told as the eval backend does (assay_openai.http)
            from .http import status_kind, status_message

            rec.fail(status_kind(status)[0], status_message(status, body))
        elif self.stream:
            if self.pool.on_tail is not None:
                self.pool.on_tail(self.sse, rec)
        else:
            self.pool.on_body(body, time.perf_counter() + self.off, rec)
        if not self.parser.should_keep_alive():
            self.usable = False
        done = self.done
        if done is not None and not done.done():
            done.set_result(None)

    def _decoded(self, body: bytes) -> bytes | None:
        """A gzip or deflate body decoded (aiohttp's ``auto_decompress``); None: an encoding for aiohttp."""
        encoding = self.encoding.decode("latin-1").strip().lower()
        if encoding in ("identity", ""):
            return body
        if encoding not in ("gzip", "x-gzip", "deflate"):
            self.handback = True
            return None
        try:
            return zlib.decompress(body, 47 if "gzip" in encoding else 15)
        except zlib.error:
            try:
                if encoding == "deflate":
                    return zlib.decompress(body, -15)  # raw deflate, as some servers send it
            except zlib.error:
                pass
        self.rec.fail("truncated", f"400, message='Can not decode content-encoding: {encoding}'")
        return None

    def _fail(self, kind: str, message: str) -> None:
        self.rec.fail(kind, message)
        self.usable = False
        self.transport.close()
        if self.done is not None and not self.done.done():
            self.done.set_result(None)

    def begin(self, wire: bytes, rec: Any, off: float | None = None) -> asyncio.Future[None]:
        self.rec = rec
        self.off = self.pool.off if off is None else off
        self.pieces = []
        self.on_body = self.pieces.append  # read by httptools when the parser is made
        self.parser = httptools.HttpResponseParser(self)
        self.status = None
        self.first_byte = None
        self.content_type = b""
        self.encoding = b""
        self.handback = False
        self.length = None
        self.chunked = False
        self.retry_after = None
        self.stream = False
        self.done = fut = self.pool.loop.create_future()
        # timed just before the write (which sends at once on an idle socket): a pause of this process
        # right after it can only lengthen the measured TTFT, never make it shorter than the truth
        self.last_read = rec.sent = time.perf_counter() + self.off
        self.transport.write(wire)
        return fut


class Pool:
    """Keep-alive connections to one origin; the caller bounds how many requests are in flight."""

    Unsupported = LeanUnsupported  # what :meth:`request` raises to hand a request back (no import per request)

    def __init__(
        self,
        host: str,
        port: int,
        prefix: bytes,
        *,
        stream: bool,
        on_event: Any,
        on_body: Any,
        off: float,
        connect_timeout: float | None,
        read_timeout: float | None,
        total_timeout: float | None,
        on_read: Any = None,
        on_tail: Any = None,
        decompress: bool = False,
        coalesce: float = 0.0,
    ) -> None:
        """``on_event(payload, t, rec)``: each SSE event's data (``[DONE]`` and ``event: error`` are
        handled here); ``on_read(data, t, rec)`` instead: each read's body bytes, unframed;
        ``on_tail(sse_parser, rec)``: at the end of a stream; ``on_body(body, t, rec)``: a whole answer;
        ``decompress``: a whole answer's gzip or deflate body is decoded (another encoding hands the
        request back); ``coalesce``: seconds, the shortest time from a wake-up of the event loop by a read to
        its next poll (:meth:`pause`; 0: none)."""
        self.loop = asyncio.get_running_loop()
        self.host, self.port, self.prefix = host, port, prefix
        self.stream = stream
        self.on_event, self.on_body = on_event, on_body
        self.on_read, self.on_tail = on_read, on_tail
        self.decompress = decompress
        self.off = off
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self.idle: list[_Conn] = []
        self.all: set[_Conn] = set()
        self._wire: dict[bytes, bytes] = {}
        self.coalesce = coalesce
        self.woke: float | None = None  # when the first read since the loop last polled arrived (a pause is due)
        self.last_wake = -math.inf  # when the loop last woke up for a read (the first read since it polled)

    def pause(self) -> None:
        """Read coalescing: after the reads of one wake-up of the event loop (called soon after the first), wait
        until ``coalesce`` seconds have passed since it before the loop polls again, so that what the server
        sends meanwhile comes in fewer, larger reads.

        A client faster than its server otherwise wakes for nearly every chunk the server writes (a streamed
        eval at concurrency 64 on a zero-latency server: 30-37 reads per 64-token answer, each a wake-up, a
        read and a parse), and that per-wake-up cost, not the parsing, is most of a streamed answer's CPU.
        The price is the time resolution of a read: a byte may wait up to ``coalesce`` seconds before it is
        read and timed. A loop busier than that (its reads take longer than ``coalesce`` to handle) never
        waits, so a client that is the bottleneck keeps its speed; nor does a loop whose reads come more
        than twice the window apart (streams whose chunks come that far apart, as a model generates them
        for a few streams: a pause would gather little and cost a sleep per read, 10-40 us of CPU in a VM).
        Only a server that would send its next chunk within the window and no sooner than the client asks
        (a lock-step test server) pays that sleep per read. The eval backend uses it (its latency
        figures are summaries of many requests); the perf load generator, whose figure is the time, does not.
        """
        woke, self.woke = self.woke, None
        if woke is not None:
            left = woke + self.coalesce - time.perf_counter()
            if left > 0:
                time.sleep(left)

    def wire(self, body: bytes, keep: bool) -> bytes:
        """The request's bytes; ``keep``: a prompt's body sent again and again, made once."""
        w = self._wire.get(body)
        if w is None:
            w = self.prefix + str(len(body)).encode() + b"\r\n\r\n" + body
            if keep and len(self._wire) < 16384:
                self._wire[body] = w
        return w

    def forget(self, conn: _Conn) -> None:
        self.all.discard(conn)
        if conn in self.idle:
            self.idle.remove(conn)

    async def _connect(self) -> _Conn:
        conn = _Conn(self)
        coro = self.loop.create_connection(lambda: conn, self.host, self.port)
        try:
            # not asyncio.wait_for: on Python 3.11 it loses a cancellation (Ctrl-C) that lands on the loop's turn
            # in which the connection completes (CPython gh-86296), and the run then waits for its answer
            async with asyncio.timeout(self.connect_timeout or None):
                await coro
        except OSError as exc:  # as aiohttp words it: where, and why
            raise type(exc)(
                exc.errno, f"Cannot connect to host {self.host}:{self.port} [{exc.strerror or exc}]"
            ) from exc
        self.all.add(conn)
        return conn

    async def request(
        self, body: bytes, rec: Any, keep: bool = True, off: float | None = None
    ) -> tuple[int | None, float | None]:
        """Send one request, wait for its whole answer (filling ``rec``); return (status, first byte time).
        ``off``: added to ``time.perf_counter()`` for this request's times (default: the pool's).
        Raises what connecting raises (OSError, timeouts) and :class:`LeanUnsupported`."""
        conn = None
        while self.idle:
            c = self.idle.pop()
            if c.usable and not c.transport.is_closing():
                conn = c
                break
        if conn is None:
            conn = await self._connect()
        fut = conn.begin(self.wire(body, keep), rec, off)
        try:
            await self._wait(conn, fut)
        except BaseException:
            conn.usable = False
            conn.transport.close()
            raise
        if (conn.status in REDIRECTS or conn.handback) and fut.done() and rec.error_kind is None:
            conn.usable = False
            conn.transport.close()
            raise LeanUnsupported(conn.status)
        if conn.usable and fut.done() and rec.error_kind is None:
            conn.done = None
            self.idle.append(conn)
        else:
            conn.usable = False
            conn.transport.close()
        return conn.status, conn.first_byte

    async def _wait(self, conn: _Conn, fut: asyncio.Future[None]) -> None:
        read, total = self.read_timeout, self.total_timeout
        if not read and not total:
            await fut
            return
        loop = self.loop
        start = loop.time()
        perf = time.perf_counter
        off = conn.off  # this request's (the eval backend's may differ from the pool's)
        handle: list[Any] = [None]

        # check gets itself as ``again`` to schedule its next call: named in its own body, it would be a cell of its
        # closure, a cycle (with the future and its other cells) left to the cyclic collector, one per request
        # (its passes: ~4% of a streamed c=512 eval's CPU, and ~70 ms at the run's end)
        def check(again: Any) -> None:
            if fut.done():
                return
            now = loop.time()
            wait = []
            if total:
                left = start + total - now
                if left <= 0:
                    conn.rec.fail("timeout", f"TimeoutError: no complete answer within {total:g} s")
                    fut.set_result(None)
                    return
                wait.append(left)
            if read:
                left = conn.last_read + read - (perf() + off)
                if left <= 0:
                    conn.rec.fail(
                        "timeout", "SocketTimeoutError: Timeout on reading data from socket"
                    )  # as aiohttp says
                    fut.set_result(None)
                    return
                wait.append(left)
            handle[0] = loop.call_later(min(wait), again, again)

        handle[0] = loop.call_later(min(read, total) if read and total else (read or total), check, check)
        try:
            await fut
        finally:
            handle[0].cancel()
        if conn.rec.error_kind == "timeout":
            conn.usable = False
            conn.transport.close()

    def close(self) -> None:
        for c in list(self.all):
            if c.transport is not None:
                try:
                    c.transport.close()
                except RuntimeError:  # its event loop is closed already (a later anyio.run): nothing to do
                    pass
        self.all.clear()
        self.idle.clear()
