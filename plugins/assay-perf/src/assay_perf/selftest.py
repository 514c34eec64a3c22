"""``assay perf --self-test``: the client's own ceiling, measured against a built-in loopback server.

The server (``python -m assay_perf.selftest PORT_FILE TOKENS``, its own process) answers every request
at once with a canned OpenAI event stream of TOKENS content chunks (or one JSON answer when not streamed):
zero latency, a few microseconds of CPU. So what a run measures against it is the client: the highest
request rate this machine's client reaches, the client's CPU per request, and its timing error
(the TTFT it measures where the server adds none). The run is an ordinary perf run (same log, same
report); the ceiling is kept in ``$XDG_CACHE_HOME/assay/perf-self-test.json`` and every later perf run
logs it, so its report can warn when a point came within 70% of it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")


def _responses(tokens: int) -> tuple[bytes, bytes]:
    head = {"id": "self-test", "object": "chat.completion.chunk", "created": 0, "model": "self-test"}
    events = []
    for _ in range(tokens):
        chunk = {**head, "choices": [{"index": 0, "delta": {"content": "tok "}, "finish_reason": None}]}
        events.append(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")
    usage = {"prompt_tokens": 8, "completion_tokens": tokens, "total_tokens": 8 + tokens}
    last = {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}], "usage": usage}
    events.append(b"data: " + json.dumps(last, separators=(",", ":")).encode() + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    sse = b"".join(events)
    whole = json.dumps(
        {
            **head,
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "tok " * tokens}, "finish_reason": "length"}
            ],
            "usage": usage,
        }
    ).encode()

    def http(ctype: bytes, body: bytes) -> bytes:
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: "
            + ctype
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )

    return http(b"text/event-stream", sse), http(b"application/json", whole)


class _Loopback(asyncio.Protocol):
    stream_reply = b""
    whole_reply = b""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            m = _LENGTH.search(self.buf, 0, end + 2)
            size = int(m.group(1)) if m else 0
            if len(self.buf) < end + 4 + size:
                return
            body = self.buf[end + 4 : end + 4 + size]
            self.buf = self.buf[end + 4 + size :]
            self.transport.write(self.stream_reply if b'"stream":true' in body else self.whole_reply)


def serve(port_file: str, tokens: int) -> None:
    _Loopback.stream_reply, _Loopback.whole_reply = _responses(tokens)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Loopback, "127.0.0.1", 0, backlog=4096)
        port = server.sockets[0].getsockname()[1]
        Path(port_file).write_text(str(port))
        await asyncio.Event().wait()

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


def ceiling_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "assay" / "perf-self-test.json"


def known_ceiling() -> dict[str, Any] | None:
    """The last self-test's figures on this machine, if one ran and its file reads."""
    try:
        data = json.loads(ceiling_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("requests_per_s"), (int, float)) else None


def run_self_test(opts: Any) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """Start the loopback server, run ``opts`` (url/model filled in) against it; return the run dir,
    the report and the self-test figures (also written to :func:`ceiling_path`)."""
    import tempfile

    from .runner import run_perf

    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        proc = subprocess.Popen(
            [sys.executable, "-m", "assay_perf.selftest", str(port_file), str(opts.max_tokens or 32)],
            stdin=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text():
                if proc.poll() is not None or time.monotonic() > deadline:
                    from assay.api import AssayError

                    raise AssayError("--self-test: the loopback server did not start")
                time.sleep(0.02)
            opts.url = f"http://127.0.0.1:{port_file.read_text()}/v1"
            opts.model = opts.model or "self-test"
            cpu0 = time.process_time()
            run_dir, report = run_perf(opts)
            cpu = time.process_time() - cpu0
        finally:
            proc.terminate()
            proc.wait(10)
    points = report.get("sections", {}).get("perf", {}).get("points", [])
    best = max(points, key=lambda p: p["request_throughput"] or 0.0)
    alone = min(points, key=lambda p: p["point"]["parallel"])  # the timing error without client queueing
    requests = sum(p["requests"] for p in points)
    ttft = alone.get("ttft_s") or {}
    loaded = best.get("ttft_s") or {}
    figures = {
        "requests_per_s": best["request_throughput"],
        "at_parallel": best["point"]["parallel"],
        # the client's CPU while the points ran (requests, parsing, events) ÷ requests; and the whole run's
        "client_cpu_ms_per_request": 1000 * opts.points_cpu_s / requests if requests else None,
        "run_cpu_ms_per_request": 1000 * cpu / requests if requests else None,
        "ttft_error_ms_mean": 1000 * ttft["mean"] if ttft else None,
        "ttft_error_ms_p99": 1000 * ttft["p99"] if ttft and "p99" in ttft else None,
        "ttft_error_at_parallel": alone["point"]["parallel"],
        "ttft_at_ceiling_ms_p99": 1000 * loaded["p99"] if loaded and "p99" in loaded else None,
        "stream": bool(opts.stream),
        "output_tokens": opts.max_tokens,
        "failed": sum(p["failed"] for p in points),
        "run": str(run_dir),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (run_dir / "self_test.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if not figures["failed"]:
        path = ceiling_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(figures, indent=2), encoding="utf-8")
        except OSError:
            pass  # a read-only home: the figures are still in the run directory
    return run_dir, report, figures


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
