"""Where target (a)'s streamed extra goes (issue 18): the eval backend alone against the whole `assay eval`.

Target (a) compares the CPU per sample of `assay eval` on 1,000 GSM8K samples (64-token answers, concurrency 64,
zero-latency test server, start-up included) streamed and not. This script measures, in the same run and on the
same cores (server on core 0, client on core 1), the same requests through ``OpenAIModel.generate`` alone (the
openai_api backend at concurrency 64, no kernel: no log, no scoring, no report, no start-up), so that

    CPU per sample of `assay eval` = kernel's share (the same whatever the mode) + the backend's

and the streamed/non-streamed ratio of (a) is bounded by what the backend's two modes cost. The backend runs
also count the network reads (``data_received`` calls) and the read-coalescing pauses (its sleeps) per request.
Medians of --repeat runs, the four kinds alternating. Usage:

    python benchmarks/bench_backend_split.py [--repeat 5] [--limit 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from bench_kernel import ANSWER_TOKENS, DATA, env_for, eval_cmd, gsm8k_answers, pinned, timed_child
from bench_kernel import start_server as server

BACKEND = r"""
import json, resource, sys, time
import anyio
from assay.api import GenerateRequest, ModelConfig
from assay.evaluate import run_async
from assay_openai import lean
from assay_openai.model import OpenAIModel

url, stream, limit, data = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), sys.argv[4]
questions = [json.loads(line)["question"] for line in open(data, encoding="utf-8")][:limit]
counts = {"reads": 0, "pauses": 0}
read = lean._Conn.data_received

def counted_read(self, data):
    counts["reads"] += 1
    read(self, data)

class Clock:  # lean's `time`, its sleeps (the pauses) counted
    def __getattr__(self, name):
        return getattr(time, name)

    def sleep(self, s):
        counts["pauses"] += 1
        time.sleep(s)

lean._Conn.data_received, lean.time = counted_read, Clock()

class Run:  # the backend's only tie to the kernel here: its RequestTimed events, dropped
    def emit(self, event): pass

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

async def main():
    model = OpenAIModel(ModelConfig(model="m", api_url=url, stream=stream), Run())
    await model.generate(GenerateRequest(sample_id="w/0", messages=[{"role": "user", "content": questions[0]}]))
    counts.update(reads=0, pauses=0)  # (the warm-up request: connection and imports, not counted)
    todo = iter(questions)

    async def worker():
        for q in todo:
            await model.generate(GenerateRequest(sample_id="s/1", messages=[{"role": "user", "content": q}]))

    c0 = cpu()
    async with anyio.create_task_group() as tg:
        for _ in range(64):
            tg.start_soon(worker)
    used = cpu() - c0
    await model.aclose()
    print(json.dumps({"cpu_ms_per_request": 1000 * used / len(questions),
                      "reads_per_request": counts["reads"] / len(questions),
                      "pauses_per_request": counts["pauses"] / len(questions)}))

run_async(main)  # on the event loop of eval runs (uvloop's when installed)
"""


def backend_run(url: str, stream: bool, limit: int) -> dict:
    import subprocess

    cmd = [*pinned(1), sys.executable, "-c", BACKEND, url, "1" if stream else "0", str(limit)]
    out = subprocess.run(
        [*cmd, str(DATA / "gsm8k" / "test.jsonl")], check=True, capture_output=True, text=True, env=env_for(None)
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--limit", type=int, default=1000)
    args = p.parse_args()
    runs: dict[str, list[dict]] = {k: [] for k in ("eval whole", "eval streamed", "backend whole", "backend streamed")}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        proc, url = server(gsm8k_answers(tmp, ANSWER_TOKENS, args.limit))
        try:
            for i in range(args.repeat):
                for stream in (False, True):
                    mode = "streamed" if stream else "whole"
                    out = tmp / f"out-{i}-{mode}"
                    _, cpu, _ = timed_child(eval_cmd(url, out, 64, stream, "--limit", str(args.limit)), env_for(None))
                    runs[f"eval {mode}"].append({"cpu_ms_per_request": 1000 * cpu / args.limit})
                    runs[f"backend {mode}"].append(backend_run(url, stream, args.limit))
                    print(json.dumps({"repeat": i, "mode": mode, "eval": runs[f"eval {mode}"][-1],
                                      "backend": runs[f"backend {mode}"][-1]}), flush=True)  # fmt: skip
        finally:
            proc.terminate()
            proc.wait()

    def med(kind: str, key: str = "cpu_ms_per_request") -> float:
        return round(statistics.median(r[key] for r in runs[kind]), 3)

    result = {
        "command": "python benchmarks/bench_backend_split.py " + " ".join(sys.argv[1:]),
        "cpu_ms_per_sample": {k: med(k) for k in runs},
        "kernel_share_ms": {m: round(med(f"eval {m}") - med(f"backend {m}"), 3) for m in ("whole", "streamed")},
        "streamed_over_whole": {
            "eval (target (a): <= 1.5)": round(med("eval streamed") / med("eval whole"), 2),
            "backend alone": round(med("backend streamed") / med("backend whole"), 2),
        },
        "backend_reads_per_request": {m: med(f"backend {m}", "reads_per_request") for m in ("whole", "streamed")},
        "backend_pauses_per_request": {m: med(f"backend {m}", "pauses_per_request") for m in ("whole", "streamed")},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
