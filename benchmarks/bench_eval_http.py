"""Eval throughput on one HTTP client (issue 18): the openai_api backend on aiohttp (assay_openai.http)
against the same backend of a base commit (the openai SDK's low-level post), in the same run.

`assay eval` on GSM8K (--limit samples, default 1000), 64-token answers, --eval-batch-size 64, against the
loopback test server with zero latency (server pinned on core 0, assay on core 1), start-up included.
Old and new alternate within each repeat (so drift in the machine's load hits both alike); the figures
are medians over --repeat: wall s, samples/s and CPU ms per sample (user+sys of the assay process), and
the new/old ratios. Usage:
    python benchmarks/bench_eval_http.py [--repeat 5] [--limit 1000] [--base 4b33f61] [--stream]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from bench_kernel import DATA, pinned, start_server, timed_child
from bench_sse import ANSWER_TOKENS, env_for, old_plugin


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
    out = {}
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
    print(json.dumps({"stream": args.stream, "samples": args.limit, "repeat": args.repeat, **out}, indent=2))


if __name__ == "__main__":
    main()
