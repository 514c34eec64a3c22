"""Streamed eval CPU (issue 18): the openai_api backend's new raw SSE path against the old SDK path.

1. `assay eval` on GSM8K (--limit samples, default 1000), 64-token answers, --eval-batch-size 64, against
   the loopback test server with zero latency (server pinned on core 0, assay on core 1): wall s and CPU
   ms per sample of the assay process, streamed and not, for the current plugin ("new") and the plugin
   of a base commit ("old", checked out into a temp dir and put first on PYTHONPATH), in the same run.
2. One streamed 16k-token answer (one token per chunk): CPU ms of the client process for that request.

Each figure is the median of --repeat runs. Usage:
    python benchmarks/bench_sse.py [--repeat 3] [--limit 1000] [--base 747b208]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_kernel import ROOT, eval_cmd, gsm8k_answers, pinned, start_server, timed_child

ANSWER_TOKENS = 64

ONE_ANSWER = r"""
import sys, time, anyio
from assay.api import GenerateRequest, ModelConfig
from assay_openai.model import OpenAIModel
from assay.evaluate import _run_async

class Run:
    def emit(self, event): self.last = event

async def main():
    run = Run()
    m = OpenAIModel(ModelConfig(model="m", api_url=sys.argv[1], stream=True), run)
    req = GenerateRequest(sample_id="s/1", messages=[{"role": "user", "content": "long"}])
    await m.generate(req)  # warm: connection, imports
    c0 = time.process_time()
    r = await m.generate(req)
    c = time.process_time() - c0
    await m.aclose()
    print(c, len(run.last.chunk_times), len(r.output))

_run_async(main)  # on the event loop of eval runs (uvloop's when installed; ASSAY_EVAL_LOOP=asyncio)
"""


def old_plugin(base: str, tmp: Path) -> Path:
    """The base commit's assay_openai package, extracted into tmp (to go first on PYTHONPATH)."""
    dest = tmp / "old"
    dest.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", base, "plugins/assay-openai/src/assay_openai"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "plugins" / "assay-openai" / "src"


def env_for(path: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def bench_eval(repeat: int, limit: int, paths: dict[str, Path | None], tmp: Path) -> list[dict]:
    rules_path = gsm8k_answers(tmp, ANSWER_TOKENS, limit)
    server, url = start_server(rules_path)
    results = []
    try:
        for stream in (False, True):
            for name, path in paths.items():
                walls, cpus = [], []
                for i in range(repeat):
                    cmd = eval_cmd(url, tmp / f"out-{name}-{stream}-{i}", 64, stream, "--limit", str(limit))
                    wall, cpu, _ = timed_child(cmd, env_for(path))
                    walls.append(wall)
                    cpus.append(cpu)
                w, c = statistics.median(walls), statistics.median(cpus)
                results.append(
                    {
                        "path": name,
                        "stream": stream,
                        "samples": limit,
                        "wall_s": round(w, 3),
                        "samples_per_s": round(limit / w, 1),
                        "cpu_ms_per_sample": round(1000 * c / limit, 3),
                    }
                )
                print(json.dumps(results[-1]), flush=True)
    finally:
        server.terminate()
        server.wait()
    return results


def bench_long(repeat: int, tokens: int, paths: dict[str, Path | None], tmp: Path) -> list[dict]:
    rules_path = tmp / "long.json"
    rules_path.write_text(json.dumps([{"match": "long", "answer": " ".join(["tok"] * tokens)}]))
    script = tmp / "one_answer.py"
    script.write_text(ONE_ANSWER)
    server, url = start_server(rules_path)
    results = []
    try:
        for name, path in paths.items():
            cpus = []
            for _ in range(repeat):
                out = subprocess.run(
                    [*pinned(1), sys.executable, str(script), url],
                    env=env_for(path),
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                assert int(out[1]) == tokens, out
                cpus.append(float(out[0]))
            results.append({"path": name, "tokens": tokens, "cpu_ms": round(1000 * statistics.median(cpus), 1)})
            print(json.dumps(results[-1]), flush=True)
    finally:
        server.terminate()
        server.wait()
    return results


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--long-tokens", type=int, default=16384)
    p.add_argument("--base", default="747b208", help="the commit whose assay_openai is the old path")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        paths: dict[str, Path | None] = {"old": old_plugin(args.base, tmp), "new": None}
        evals = bench_eval(args.repeat, args.limit, paths, tmp)
        long = bench_long(args.repeat, args.long_tokens, paths, tmp)
    by = {(r["path"], r["stream"]): r["cpu_ms_per_sample"] for r in evals}
    summary = {
        "streamed_over_whole_cpu": {k: round(by[(k, True)] / by[(k, False)], 2) for k in paths},
        "new_over_old_streamed_cpu": round(by[("new", True)] / by[("old", True)], 3),
        "new_over_old_long_cpu": round(long[1]["cpu_ms"] / long[0]["cpu_ms"], 3),
    }
    print(json.dumps({"eval": evals, "long": long, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
