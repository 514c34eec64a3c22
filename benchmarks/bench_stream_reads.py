"""Cost of one network read of a streamed eval answer, one chunk per read (issue 18, target (b)).

A lock-step server sends the next SSE chunk only after the client's ``data_received`` has returned (the client
writes one byte to a FIFO after each read), so every read holds exactly one chunk, as on a quiet machine where
the client keeps up with the server, whatever the load (``--per-read k``: k chunks sent at once and read at once,
as when the server writes freely: ~6.6 chunks per read measured on a quiet machine; ``--first-read j``: the
first read holds j chunks, so that the client learns the server's frame from it, as it does from a stream whose
reads vary, and the reads after it go the frame's way: EventStream.read). The client is ``OpenAIModel.generate`` on the event
loop of eval runs (``ASSAY_EVAL_LOOP``), one streamed answer of N chunks. Reported: CPU ms of that request and,
with ``--callgrind``, user-space instructions per read: (instructions at N=2112 - at N=64) / 2048, which do not
depend on the machine's load (valgrind must be installed). Both include the FIFO write per read (the same for
every path); the instructions leave out the check of one time per read (the timed runs make it). ``--base
<commit>``: that commit's assay_openai too, on ``--base-loop``. Usage:
    python benchmarks/bench_stream_reads.py [--tokens 16384] [--callgrind] [--base e9331af] [--per-read 8]
        [--first-read 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_kernel import env_for, old_plugin

SERVER = r"""
import socket, sys
n, fifo, k, first = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(1)
print(f"http://127.0.0.1:{s.getsockname()[1]}/v1", flush=True)
sig = open(fifo, "rb", buffering=0)
def chunk(d): return b"%x\r\n%s\r\n" % (len(d), d)
pre = b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,'
one = chunk(pre + b'"delta":{"content":"tok "},"finish_reason":null}]}\n\n')
reads = [one * first] * (first > 0) + [one * k] * ((n - first) // k)
tail = (chunk(pre + b'"delta":{},"finish_reason":"length"}]}\n\n') + chunk(b'data: {"choices":[],"usage":'
        b'{"prompt_tokens":1,"completion_tokens":%d}}\n\n' % n) + chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = b""
while b"\r\n\r\n" not in buf or len(buf.partition(b"\r\n\r\n")[2]) < int(
        buf.lower().split(b"content-length:")[1].split(b"\r\n")[0]):
    d = c.recv(65536)
    if not d: sys.exit(0)
    buf += d
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
for read in reads:
    if not sig.read(1): sys.exit(0)
    c.sendall(read)
sig.read(1)
c.sendall(tail)
c.recv(1)
"""

CLIENT = r"""
import os, sys, time
from assay.api import GenerateRequest, ModelConfig
try:
    from assay.evaluate import run_async
except ImportError:  # a base commit from before its rename
    from assay.evaluate import _run_async as run_async
from assay_openai import lean
from assay_openai.model import OpenAIModel
url, fifo = sys.argv[1], sys.argv[2]
fd = os.open(fifo, os.O_WRONLY)
orig = lean._Conn.data_received
def data_received(self, data, orig=orig, write=os.write, fd=fd):
    orig(self, data)
    write(fd, b"x")  # the server may send the next chunk
lean._Conn.data_received = data_received
class Run:
    def emit(self, event): self.last = event
async def main():
    run = Run()
    m = OpenAIModel(ModelConfig(model="m", api_url=url, stream=True), run)
    req = GenerateRequest(sample_id="s/1", messages=[{"role": "user", "content": "x"}])
    c0 = time.process_time()
    await m.generate(req)
    cpu = time.process_time() - c0
    await m.aclose()
    times = run.last.chunk_times
    # the distinct times: one per read (not under callgrind, where hashing every chunk's time would add ~1,100
    # instructions per chunk to the figure; the same reads are checked in the timed runs)
    print(cpu, len(times), len(set(times)) if sys.argv[3] == "check" else -1)
run_async(main)
"""


def one(tmp: Path, n: int, env: dict, callgrind: bool, k: int = 1, first: int = 0) -> tuple[float, int, int | None]:
    """(CPU s of the request, distinct chunk times, instructions or None) of one answer of n chunks, k per read
    (after a first read of ``first`` chunks, if any)."""
    fifo = tmp / f"fifo-{os.getpid()}-{n}"
    os.mkfifo(fifo)
    srv = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(n), str(fifo), str(k), str(first)], stdout=subprocess.PIPE, text=True
    )
    try:
        url = srv.stdout.readline().strip()
        cmd = [sys.executable, "-c", CLIENT, url, str(fifo), "-" if callgrind else "check"]
        if callgrind:
            cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        cpu, chunks, distinct = out.stdout.split()
        reads = (first > 0) + (n - first) // k
        assert int(chunks) == n and int(distinct) in (reads, -1), out.stdout  # one read per k chunks
        m = re.search(r"Collected : (\d+)", out.stderr)
        return float(cpu), int(distinct), int(m.group(1)) if m else None
    finally:
        srv.kill()
        srv.wait()
        fifo.unlink()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tokens", type=int, default=16384)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--callgrind", action="store_true")
    p.add_argument("--base", default="", help="also measure this commit's assay_openai")
    p.add_argument("--base-loop", default="asyncio")
    p.add_argument("--loops", default="uvloop,asyncio", help="the event loops of the working tree to measure")
    p.add_argument("--per-read", type=int, default=1, help="chunks per read (k HTTP chunks sent at once)")
    p.add_argument("--first-read", type=int, default=0, help="chunks in the first read (0: as the others)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        arms = [(f"new {loop}", env_for(None) | {"ASSAY_EVAL_LOOP": loop}) for loop in args.loops.split(",")]
        if args.base:
            arms.append(
                (f"old {args.base_loop}", env_for(old_plugin(args.base, tmp)) | {"ASSAY_EVAL_LOOP": args.base_loop})
            )
        result: dict = {"command": " ".join(["python", "benchmarks/bench_stream_reads.py", *sys.argv[1:]])}
        for name, env in arms:
            k, j = args.per_read, args.first_read
            tokens = j + (args.tokens - j) // k * k  # the first read's, then whole reads of k
            cpus = sorted(one(tmp, tokens, env, False, k, j)[0] for _ in range(args.repeat))
            row = {"tokens": tokens, "per_read": k, "cpu_ms_median": round(1000 * cpus[len(cpus) // 2], 1)}
            if j:
                row["first_read"] = j
            if args.callgrind:
                lo, hi = one(tmp, j + 64 * k, env, True, k, j)[2], one(tmp, j + 2112 * k, env, True, k, j)[2]
                row["instructions_per_read"] = round((hi - lo) / 2048)
                row["instructions_per_chunk"] = round((hi - lo) / 2048 / k)
            result[name] = row
            print(json.dumps({name: row}), flush=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
