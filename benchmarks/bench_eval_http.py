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
        [--tree] [--startup] [--no-backend]

--tree: the old path is the base commit's whole code (kernel and every plugin, on PYTHONPATH ahead of
the installed tree), not only its assay_openai: the end-to-end comparison of issue 18's start-up and
per-sample work. --startup: the same run with --limit 1 too (start-up alone), and the per-sample CPU
of the steady state, (cpu(limit) - cpu(1)) / (limit - 1). Every child writes bytecode caches under a
temporary PYTHONPYCACHEPREFIX (as an installed package has them, even where PYTHONDONTWRITEBYTECODE
is set), and each path runs once unmeasured first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import subprocess

from bench_kernel import (
    ANSWER_TOKENS,
    checkout,
    env_for,
    eval_cmd,
    gsm8k_answers,
    old_plugin,
    pinned,
    start_server,
    timed_child,
)

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


def old_tree(base: str, tmp: Path) -> str:
    """The base commit's kernel and plugin sources, extracted into tmp; their PYTHONPATH."""
    dest = checkout(base, tmp / "old-tree", "kernel", "plugins")
    srcs = [str(dest / "kernel")] + sorted(str(p) for p in (dest / "plugins").glob("*/src"))
    return os.pathsep.join(srcs)


def child_env(path: Path | str | None, tmp: Path) -> dict[str, str]:
    """env_for(path), with bytecode caches written under tmp (both paths alike)."""
    env = env_for(path)  # a folder, or a whole PYTHONPATH (--tree)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


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
                    env=child_env(path, tmp),
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
    p.add_argument("--tree", action="store_true", help="old = the base commit's kernel and every plugin")
    p.add_argument("--startup", action="store_true", help="also --limit 1 runs: start-up and steady state apart")
    p.add_argument("--no-backend", action="store_true", help="skip the backend-only measure")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        rules_path = gsm8k_answers(tmp, ANSWER_TOKENS, args.limit)
        paths: dict[str, Any] = {"old": old_tree(args.base, tmp) if args.tree else old_plugin(args.base, tmp)}
        paths["new"] = None
        server, url = start_server(rules_path)
        walls: dict[str, list[float]] = {k: [] for k in paths}
        cpus: dict[str, list[float]] = {k: [] for k in paths}
        starts: dict[str, list[float]] = {k: [] for k in paths}

        def gsm8k_eval(name: str, i: Any, limit: int) -> list[str]:
            return eval_cmd(url, tmp / f"out-{name}-{i}", 64, args.stream, "--limit", str(limit))

        try:
            for name, path in paths.items():  # unmeasured: bytecode caches written, files in the page cache
                timed_child(gsm8k_eval(name, "warm", 1), child_env(path, tmp))
            for i in range(args.repeat):
                for name, path in paths.items():
                    wall, cpu, _ = timed_child(gsm8k_eval(name, i, args.limit), child_env(path, tmp))
                    walls[name].append(wall)
                    cpus[name].append(cpu)
                    row = {"path": name, "repeat": i, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
                    if args.startup:
                        _, start, _ = timed_child(gsm8k_eval(name, f"{i}-1", 1), child_env(path, tmp))
                        starts[name].append(start)
                        row["startup_cpu_s"] = round(start, 3)
                    print(json.dumps(row), flush=True)
        finally:
            server.terminate()
            server.wait()
        backend = bench_backend(args.repeat, paths, tmp) if not (args.stream or args.no_backend) else None
    out: dict = {}
    for name in paths:
        w, c = statistics.median(walls[name]), statistics.median(cpus[name])
        out[name] = {
            "wall_s": round(w, 3),
            "samples_per_s": round(args.limit / w, 1),
            "cpu_ms_per_sample": round(1000 * c / args.limit, 3),
        }
        if starts[name]:
            st = statistics.median(starts[name])
            out[name]["startup_cpu_s"] = round(st, 3)
            out[name]["steady_cpu_ms_per_sample"] = round(1000 * (c - st) / max(1, args.limit - 1), 3)
    out["new_over_old"] = {
        "wall": round(out["new"]["wall_s"] / out["old"]["wall_s"], 3),
        "cpu": round(out["new"]["cpu_ms_per_sample"] / out["old"]["cpu_ms_per_sample"], 3),
    }
    if backend:
        out["backend_only"] = {
            **backend,
            "new_over_old_cpu": round(backend["new"]["cpu_ms_per_request"] / backend["old"]["cpu_ms_per_request"], 3),
        }
    head = {"stream": args.stream, "samples": args.limit, "repeat": args.repeat, "base": args.base, "tree": args.tree}
    print(json.dumps({**head, **out}, indent=2))


if __name__ == "__main__":
    main()
