"""Eval throughput on one HTTP client (issue 18): the openai_api backend on aiohttp (assay_openai.http)
against the same backend of a base commit (the openai SDK's low-level post), in the same run.

`assay eval` on GSM8K (--limit samples, default 1000), 64-token answers, --eval-batch-size 64, against the
loopback test server with zero latency (server pinned on core 0, assay on core 1), start-up included.
Old and new alternate within each repeat (so drift in the machine's load hits both alike); the figures
are medians over --repeat: wall s, samples/s and CPU ms per sample (user+sys of the assay process), and
the new/old ratios. Then the backend alone: 2,000 requests at concurrency 64 through OpenAIModel.generate
against assay perf's zero-latency loopback server (assay_perf.selftest), CPU ms per request of the client
process, old and new. Usage:
    python benchmarks/bench_eval_http.py [--repeat 5] [--limit 1000] [--base 4b33f61] [--stream]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import subprocess

from bench_kernel import DATA, pinned, start_server, timed_child
from bench_sse import ANSWER_TOKENS, env_for, old_plugin

BACKEND = r"""
import sys, time, anyio
from assay.api import GenerateRequest, ModelConfig
from assay_openai.model import OpenAIModel

class Run:
    def emit(self, event): self.last = event

async def main(url, n, conc):
    run = Run()
    m = OpenAIModel(ModelConfig(model="m", api_url=url), run)
    req = lambda i: GenerateRequest(sample_id=f"s/{i}", messages=[{"role": "user", "content": f"question {i}"}])
    await m.generate(req(-1))  # warm: connection, imports
    sem = anyio.Semaphore(conc)
    async def one(i):
        async with sem:
            r = await m.generate(req(i))
            assert r.output and run.last.ok is not False
    c0, w0 = time.process_time(), time.perf_counter()
    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    c, w = time.process_time() - c0, time.perf_counter() - w0
    await m.aclose()
    print(c, w)

anyio.run(main, sys.argv[1], int(sys.argv[2]), 64)
"""


def loopback(tmp: Path) -> tuple[subprocess.Popen, str]:
    port_file = tmp / "port"
    proc = subprocess.Popen([*pinned(0), sys.executable, "-m", "assay_perf.selftest", str(port_file), "64"])
    import time

    while not (port_file.exists() and port_file.read_text()):
        time.sleep(0.02)
    return proc, f"http://127.0.0.1:{port_file.read_text()}/v1"


def bench_backend(repeat: int, paths: dict[str, Path | None], tmp: Path, n: int = 2000) -> dict[str, dict]:
    script = tmp / "backend.py"
    script.write_text(BACKEND)
    server, url = loopback(tmp)
    cpus: dict[str, list[float]] = {k: [] for k in paths}
    rates: dict[str, list[float]] = {k: [] for k in paths}
    try:
        for _ in range(repeat):
            for name, path in paths.items():
                out = subprocess.run(
                    [*pinned(1), sys.executable, str(script), url, str(n)],
                    env=env_for(path),
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                cpus[name].append(float(out[0]))
                rates[name].append(n / float(out[1]))
    finally:
        server.terminate()
        server.wait()
    return {
        name: {
            "cpu_ms_per_request": round(1000 * statistics.median(cpus[name]) / n, 3),
            "requests_per_s": round(statistics.median(rates[name]), 1),
        }
        for name in paths
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--base", default="4b33f61", help="the commit whose assay_openai (SDK post) is the old path")
    p.add_argument("--stream", action="store_true", help="streamed answers instead of whole ones")
    args = p.parse_args()
    rows = [json.loads(line) for line in open(DATA / "gsm8k" / "test.jsonl", encoding="utf-8")][: args.limit]
    filler = " ".join(["step"] * (ANSWER_TOKENS - 2))
    rules = [
        {"match": r["question"], "answer": f"{filler} #### {r['answer'].rsplit('####', 1)[1].strip()}"} for r in rows
    ]
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        (tmp / "rules.json").write_text(json.dumps(rules))
        paths = {"old": old_plugin(args.base, tmp), "new": None}
        server, url = start_server(tmp / "rules.json")
        walls: dict[str, list[float]] = {k: [] for k in paths}
        cpus: dict[str, list[float]] = {k: [] for k in paths}
        try:
            for i in range(args.repeat):
                for name, path in paths.items():
                    cmd = [
                        *pinned(1),
                        sys.executable,
                        "-m",
                        "assay",
                        "eval",
                        "--model",
                        "m",
                        "--api-url",
                        url,
                        "--datasets",
                        "gsm8k",
                        "--limit",
                        str(args.limit),
                        "--eval-batch-size",
                        "64",
                        "--dataset-dir",
                        str(DATA),
                        "--work-dir",
                        str(tmp / f"out-{name}-{i}"),
                        "--no-progress",
                    ]
                    if args.stream:
                        cmd.append("--stream")
                    wall, cpu, _ = timed_child(cmd, env_for(path))
                    walls[name].append(wall)
                    cpus[name].append(cpu)
                    print(json.dumps({"path": name, "repeat": i, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}))
        finally:
            server.terminate()
            server.wait()
        backend = bench_backend(args.repeat, paths, tmp) if not args.stream else None
    out: dict = {}
    for name in paths:
        w, c = statistics.median(walls[name]), statistics.median(cpus[name])
        out[name] = {
            "wall_s": round(w, 3),
            "samples_per_s": round(args.limit / w, 1),
            "cpu_ms_per_sample": round(1000 * c / args.limit, 3),
        }
    out["new_over_old"] = {
        "wall": round(out["new"]["wall_s"] / out["old"]["wall_s"], 3),
        "cpu": round(out["new"]["cpu_ms_per_sample"] / out["old"]["cpu_ms_per_sample"], 3),
    }
    if backend:
        out["backend_only"] = {
            **backend,
            "new_over_old_cpu": round(backend["new"]["cpu_ms_per_request"] / backend["old"]["cpu_ms_per_request"], 3),
        }
    print(json.dumps({"stream": args.stream, "samples": args.limit, "repeat": args.repeat, **out}, indent=2))


if __name__ == "__main__":
    main()
