"""The test server's paced streams (--ttft / --itl): written by one timer for all streams (issue 18).

Lower bounds are exact (a chunk is never written before its deadline, and the client's clock is the same
monotonic clock as the server's); upper bounds leave room for a loaded 2-core machine.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest

BODY = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]}


def _content_arrivals(
    url: str, sent: list[float], out: list[tuple[float, str]], stop_after: int = 0, barrier: Any = None
) -> None:
    """Stream one chat answer; ``out``: (seconds after the request was sent, text) of each content chunk."""
    with httpx.Client(timeout=30) as client:
        if barrier is not None:
            barrier.wait(10)
        t0 = time.perf_counter()
        sent.append(t0)
        with client.stream("POST", url + "/chat/completions", json=BODY) as r:
            for line in r.iter_lines():
                if not line.startswith("data: {"):
                    continue
                delta = json.loads(line[6:])["choices"][0].get("delta", {})
                if delta.get("content"):
                    out.append((time.perf_counter() - t0, delta["content"]))
                    if stop_after and len(out) == stop_after:
                        return


def _concurrent_streams(url: str, count: int) -> list[list[tuple[float, str]]]:
    """``count`` chat answers streamed at once (threads released together): each one's content arrivals."""
    streams: list[list[tuple[float, str]]] = [[] for _ in range(count)]
    sent: list[float] = []
    barrier = threading.Barrier(count)
    threads = [threading.Thread(target=_content_arrivals, args=(url, sent, s, 0, barrier)) for s in streams]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return streams


def test_concurrent_streams_follow_ttft_and_itl(test_server):
    ttft, itl, n, late = 0.2, 0.1, 8, 0.5  # late: what a loaded machine may add
    srv = test_server(default_answer=" ".join(f"w{i}" for i in range(n)), ttft=ttft, itl=itl, timing=True)
    streams = _concurrent_streams(srv.url, 6)
    for s in streams:
        assert "".join(text for _, text in s) == " ".join(f"w{i}" for i in range(n))
        assert len(s) == n  # one chunk per token: each was written on its own deadline
        for i, (at, _) in enumerate(s):
            assert at >= ttft + i * itl - 1e-5, (i, at)  # never early
            assert at < ttft + i * itl + late, (i, at)  # nor late by more than a loaded machine's delay
        assert s[-1][0] - s[0][0] > (n - 1) * itl - late  # spread out, not written at once
    # the server's own record of each stream: first and last content write
    assert len(srv.server.timings) == 6
    for arrived, first, last in srv.server.timings:
        assert ttft - 0.01 < first - arrived < ttft + late
        assert (n - 1) * itl - late < last - first < (n - 1) * itl + late
    assert srv.server.max_in_flight >= 2  # streams overlapped (all six, unless the machine is loaded)


def test_a_stalled_server_catches_up_on_its_deadlines(test_server):
    """A server that falls behind writes the chunks already due together, then keeps to the original
    deadlines: the lag does not accumulate."""
    ttft, itl, n, stall = 0.1, 0.05, 16, 0.6
    srv = test_server(default_answer=" ".join(["tok"] * n), ttft=ttft, itl=itl)
    got: list[tuple[float, str]] = []
    sent: list[float] = []
    reader = threading.Thread(target=_content_arrivals, args=(srv.url, sent, got))
    reader.start()
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        time.sleep(0.002)
    assert got
    srv._loop.call_soon_threadsafe(time.sleep, stall)  # block the server's event loop
    reader.join(30)
    times = [at for at, _ in got]
    assert len(times) == n
    assert all(at >= ttft + i * itl - 1e-5 for i, at in enumerate(times))
    # the last chunk on its own deadline (+ slack), not pushed back by the stall
    assert ttft + (n - 1) * itl - 1e-5 <= times[-1] < ttft + (n - 1) * itl + stall - 0.1
    # the chunks due during the stall came at once, right after it
    bunched = sum(1 for a, b in zip(times, times[1:]) if b - a < 0.01)
    assert bunched >= 4, times


def test_a_client_that_leaves_mid_stream_frees_its_stream(test_server):
    srv = test_server(default_answer=" ".join(["tok"] * 40), ttft=0.05, itl=0.05)
    got: list[tuple[float, str]] = []
    _content_arrivals(srv.url, [], got, stop_after=3)  # reads 3 chunks, then closes the connection
    assert len(got) == 3
    deadline = time.monotonic() + 5
    while srv.server.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.server.in_flight == 0  # the handler ended long before its 40 chunks were due
    assert srv.server._pacer._waiting == []
    srv.config.update({"default_answer": "a b", "itl": 0.01})
    again: list[tuple[float, str]] = []
    _content_arrivals(srv.url, [], again)
    assert "".join(t for _, t in again) == "a b"


def test_paced_faults_strike_mid_stream(test_server):
    """truncate / error_event / stream_error: the chunks before the middle, paced, then the fault."""
    for fault, marker in (("error_event", b"event: error"), ("stream_error", b"injected stream error")):
        srv = test_server(default_answer="a b c d e f", ttft=0.05, itl=0.02, faults={fault: [1]})
        t0 = time.perf_counter()
        raw = httpx.post(srv.url + "/chat/completions", json=BODY, timeout=30).content
        took = time.perf_counter() - t0
        assert raw.count(b'"content":"') - raw.count(b'"content":""') == 3  # a, b, c; then the fault
        assert marker in raw and b"[DONE]" not in raw
        assert took >= 0.05 + 3 * 0.02 - 1e-5  # the fault came on the deadline of the 4th chunk
    srv = test_server(default_answer="a b c d e f", ttft=0.05, itl=0.02, faults={"truncate": [1]})
    got = b""
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):  # the connection cut inside the stream
        with httpx.stream("POST", srv.url + "/chat/completions", json=BODY, timeout=30) as r:
            for part in r.iter_raw():
                got += part
    assert got.count(b'"content":"') - got.count(b'"content":""') == 3
    assert got.endswith(b'"choi')  # the cut event


def test_a_paced_stream_carries_the_same_events_as_an_unpaced_one(test_server):
    answer = 'é "q" a\\b  c\nd'
    seen = []
    for itl in (0.0, 0.002):
        srv = test_server(default_answer=answer, itl=itl, reasoning="hm")
        for path, body in (
            ("/chat/completions", {"messages": [{"role": "user", "content": "x"}]}),
            ("/completions", {"prompt": "x"}),
        ):
            raw = httpx.post(
                srv.url + path, json={"model": "m", "stream": True, "stream_options": {"include_usage": True}, **body}
            ).content
            events = [json.loads(e[6:]) if e != b"data: [DONE]" else e for e in raw.split(b"\n\n") if e]
            for e in events:
                if isinstance(e, dict):
                    e.pop("created")
            seen.append(events)
    assert seen[0] == seen[2] and seen[1] == seen[3]
    assert len(seen[0]) == 1 + 1 + 5 + 1 + 1 + 1  # role, reasoning, 5 words, finish, usage, [DONE]


def test_paced_streams_on_uvloop():
    """``--uvloop`` (the load benchmarks' server): the one timer works on uvloop's loop too (its timer handles
    have no ``when()``, which the pacer once read: every paced request then failed with a 500)."""
    pytest.importorskip("uvloop")
    from assay_testserver.testing import serve

    ttft, itl, n, late = 0.2, 0.1, 6, 0.5
    proc, url = serve("--uvloop", ttft=ttft, itl=itl, default_answer=" ".join(f"w{i}" for i in range(n)))
    try:
        for s in _concurrent_streams(url, 3):
            assert "".join(text for _, text in s) == " ".join(f"w{i}" for i in range(n))
            for i, (at, _) in enumerate(s):
                assert ttft + i * itl - 1e-3 <= at < ttft + i * itl + late, (i, at)
    finally:
        proc.terminate()
        proc.wait(10)


def test_pacer_on_uvloop_when_the_next_deadline_is_under_a_millisecond_away():
    """uvloop turns a timer due in under 0.5 ms into a plain handle (no ``when()``): a second stream added
    before it runs must still be paced (the pacer read ``when()``: AttributeError, a 500 for that request,
    seen at 512 streams on the realistic benchmark's server)."""
    import asyncio
    import socket

    uvloop = pytest.importorskip("uvloop")
    from assay_testserver.server import Pacer

    async def main() -> bytes:
        loop = asyncio.get_running_loop()
        mine, theirs = socket.socketpair()
        _, writer = await asyncio.open_connection(sock=mine)
        pacer = Pacer()
        first = loop.time() + 0.0003
        one = asyncio.ensure_future(pacer.send(writer.transport, [b"a", b"b"], first, 0.0003))
        two = asyncio.ensure_future(pacer.send(writer.transport, [b"c"], first + 0.0001, 0.0003))
        await asyncio.wait_for(asyncio.gather(one, two), 5)
        writer.close()
        await writer.wait_closed()
        theirs.settimeout(5)
        got = b""
        while chunk := theirs.recv(1024):
            got += chunk
        theirs.close()
        return got

    got = uvloop.run(main())
    frames = got.split(b"\r\n")[1::2]  # HTTP/1.1 chunks: size CRLF data CRLF; due frames share one chunk
    assert sorted(b"".join(frames)) == sorted(b"abc"), got
    assert b"".join(f for f in frames if f != b"c") == b"ab", got


def test_the_end_of_a_paced_body_goes_with_its_last_chunk():
    """The pacer writes ``end`` (the rest of the body, framed by the caller) in the write of the last frame,
    each frame as an HTTP/1.1 chunk of its own on its deadline: nothing is left for the handler to write
    after its task wakes up (on a loop busy with 512 streams that was ~13 ms after the last chunk)."""
    import asyncio
    import socket

    from assay_testserver.server import Pacer

    async def main() -> tuple[list[tuple[float, bytes]], float]:
        loop = asyncio.get_running_loop()
        mine, theirs = socket.socketpair()
        _, writer = await asyncio.open_connection(sock=mine)
        transport = writer.transport
        writes: list[tuple[float, bytes]] = []
        real_write = transport.write

        def recorded(data: bytes) -> None:  # the real transport's write, its calls recorded
            writes.append((loop.time(), bytes(data)))
            real_write(data)

        transport.write = recorded
        first = loop.time() + 0.02
        await asyncio.wait_for(Pacer().send(transport, [b"a", b"b", b"c"], first, 0.02, b"END"), 5)
        writer.close()
        await writer.wait_closed()
        theirs.close()
        return writes, first

    writes, first = asyncio.run(main())
    assert [data for _, data in writes] == [b"1\r\na\r\n", b"1\r\nb\r\n", b"1\r\nc\r\nEND"]
    for i, (at, _) in enumerate(writes):
        assert at >= first + i * 0.02 - 1e-5  # each on its own deadline, never early


def test_paced_answers_follow_each_other_on_one_keep_alive_connection(test_server):
    """The server ends a paced body itself (its last chunk, then the chunk of size 0, in one write) and tells
    aiohttp to write nothing more: a second answer on the same connection must parse (a second end of body
    would be read as the next answer's status line)."""
    import http.client
    from urllib.parse import urlsplit

    srv = test_server(default_answer="a b c", ttft=0.01, itl=0.01)
    where = urlsplit(srv.url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    body = {**BODY, "stream_options": {"include_usage": True}}
    ports = set()
    try:
        for _ in range(3):
            conn.request(
                "POST", where.path + "/chat/completions", json.dumps(body), {"Content-Type": "application/json"}
            )
            resp = conn.getresponse()
            assert resp.status == 200 and resp.getheader("Transfer-Encoding") == "chunked"
            raw = resp.read()
            events = [e for e in raw.split(b"\n\n") if e]
            assert events[-1] == b"data: [DONE]"
            assert json.loads(events[-2][6:])["usage"]["completion_tokens"] == 3
            assert json.loads(events[-3][6:])["choices"][0]["finish_reason"] == "stop"
            assert (
                b"".join(json.loads(e[6:])["choices"][0]["delta"].get("content", "").encode() for e in events[1:4])
                == b"a b c"
            )
            ports.add(conn.sock.getsockname()[1])
        assert len(ports) == 1  # the same connection all along (http.client would open another when closed)
    finally:
        conn.close()
