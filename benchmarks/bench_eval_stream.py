"""Streamed eval at the server's speed (issue 18): targets (a), (b) and (c), old and new in the same run.

(a) `assay eval` on GSM8K (--limit samples, default 1000), 64-token answers, --eval-batch-size 64, against the
    loopback test server with zero latency (server pinned on core 0, assay on core 1), start-up included:
    CPU ms per sample (user+sys of the assay process), streamed and not; target: streamed <= 1.5x not.
(b) One streamed 16k-token answer (one token per chunk) through OpenAIModel.generate: CPU ms of the client
    process for that request; target: <= 50 ms.
(c) A realistic server (test server with --ttft 0.1 --itl 0.005: 0.415 s per 64-token answer), all 1,319
    GSM8K test questions twice (--repeats 2: 2,638 requests), streamed at --eval-batch-size 128 and 512,
    not streamed at 512: wall s against the ideal, waves x latency + start-up, where start-up + one latency
    is the wall time of the same command with --limit 1 --repeats 1; target: wall <= 1.25x ideal. Each run
    also gives the server's CPU s (user+sys) and the s it waited for its core (a sign of a shared machine),
    after one unmeasured pass (the server finds each question's rule once), and where the wall time went:
    before the first request (start-up, loading), requests, after the last answer (the end-of-run report); a
    streamed run also where its requests' time went (medians, the server's --timing matched to the run's
    RequestTimed by order: to the server's handler, the server's TTFT, the client's read after the server's
    last write, the request's end after that read). With --server-base COMMIT, every
    run goes against that commit's test server too ("old-server"; both on core 0, used in turn).
(s) The test server's own cost (not in the default --parts): its CPU ms per streamed request while `assay eval`
    streams all 1,319 GSM8K test questions at --s-runs concurrency:ttft:itl (e.g. 64:0.001:0, 64:0.1:0.005),
    against the working tree's server and, with --server-base, that commit's, alternating.

"old" is the assay_openai package of --base (extracted from git and put first on PYTHONPATH) on the event loop
--base-loop (default asyncio's, as eval ran until e9331af; ASSAY_EVAL_LOOP), "new" the working tree; they
alternate within each repeat, and each figure is the median of --repeat runs. On a machine shared with other
work, compare the same-run ratios. Usage:
    python benchmarks/bench_eval_stream.py [--repeat 3] [--limit 1000] [--base afea600] [--parts abc]
        [--c-runs s128,s512,w512] [--server-base b6b0ee6]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assay_testserver.testing import serve
from bench_kernel import (
    ANSWER_TOKENS,
    ONE_ANSWER,
    checkout,
    eval_cmd,
    gsm8k_answers,
    old_plugin,
    pinned,
    timed_child,
)
from bench_kernel import env_for as plain_env
from bench_kernel import start_server as server

TTFT, ITL = 0.1, 0.005
BASE_LOOP = ["asyncio"]


def env_for(path: Path | None) -> dict[str, str]:
    """The child's environment: the old package first on PYTHONPATH and the old event loop, or the working tree."""
    env = plain_env(path)
    if path is not None:
        env["ASSAY_EVAL_LOOP"] = BASE_LOOP[0]
    return env


def checkout_server(base: str, tmp: Path) -> Path:
    """The base commit's assay_testserver package, extracted into tmp (PYTHONPATH of the old server)."""
    checkout(base, tmp / "old-server", "plugins/assay-testserver/src/assay_testserver")
    return tmp / "old-server" / "plugins" / "assay-testserver" / "src"


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait()


def gsm8k_rules(tmp: Path) -> Path:
    return gsm8k_answers(tmp, ANSWER_TOKENS)


def part_a(repeat: int, limit: int, paths: dict, tmp: Path) -> dict:
    proc, url = server(gsm8k_rules(tmp))
    cpu: dict = {(n, s): [] for n in paths for s in (False, True)}
    wall: dict = {(n, s): [] for n in paths for s in (False, True)}
    try:
        for i in range(repeat):
            for stream in (False, True):
                for name, path in paths.items():
                    w, c, _ = timed_child(
                        eval_cmd(url, tmp / f"a-{name}-{stream}-{i}", 64, stream, "--limit", str(limit)), env_for(path)
                    )
                    cpu[(name, stream)].append(c)
                    wall[(name, stream)].append(w)
                    print(
                        json.dumps(
                            {"part": "a", "path": name, "stream": stream, "wall_s": round(w, 2), "cpu_s": round(c, 2)}
                        ),
                        flush=True,
                    )
    finally:
        stop(proc)
    out: dict = {}
    for name in paths:
        whole = 1000 * statistics.median(cpu[(name, False)]) / limit
        streamed = 1000 * statistics.median(cpu[(name, True)]) / limit
        out[name] = {
            "whole_cpu_ms_per_sample": round(whole, 3),
            "streamed_cpu_ms_per_sample": round(streamed, 3),
            "streamed_over_whole": round(streamed / whole, 2),
            "whole_wall_s": round(statistics.median(wall[(name, False)]), 2),
            "streamed_wall_s": round(statistics.median(wall[(name, True)]), 2),
        }
    return out


def part_b(repeat: int, tokens: int, paths: dict, tmp: Path) -> dict:
    rules = tmp / "long.json"
    rules.write_text(json.dumps([{"match": "long", "answer": " ".join(["tok"] * tokens)}]))
    script = tmp / "one_answer.py"
    script.write_text(ONE_ANSWER)
    proc, url = server(rules)
    cpus: dict = {n: [] for n in paths}
    try:
        for _ in range(repeat):
            for name, path in paths.items():
                out = subprocess.run(
                    [*pinned(1), sys.executable, str(script), url],
                    env=env_for(path),
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                assert int(out[1]) == tokens, out
                cpus[name].append(1000 * float(out[0]))
                print(json.dumps({"part": "b", "path": name, "cpu_ms": round(cpus[name][-1], 1)}), flush=True)
    finally:
        stop(proc)
    return {name: {"tokens": tokens, "cpu_ms": round(statistics.median(cpus[name]), 1)} for name in paths}


def server_cpu(pid: int) -> tuple[float, float]:
    """(CPU s user+sys, s runnable but waiting for a core) of the server process so far: the wait is the sign
    of a machine shared with other work (the server is pinned to one core)."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    waited = sum(int(Path(t, "schedstat").read_text().split()[1]) for t in Path(f"/proc/{pid}/task").iterdir())
    return cpu, waited / 1e9


def phases(work_dir: Path, t0: float, t1: float) -> tuple[float, float, float]:
    """Where a run's wall time went (wall clock of this process and of the run's RequestTimed events): s from
    the command's start to its first request sent (start-up, loading), from then to the last answer's end,
    and from then to the command's exit (the end-of-run report)."""
    (log,) = work_dir.glob("*/events.jsonl")
    first, last = math.inf, 0.0
    with open(log, encoding="utf-8") as f:
        for line in f:
            if '"RequestTimed"' in line:
                body = json.loads(line)["body"]
                first, last = min(first, body["sent"]), max(last, body["end"])
    return first - t0, last - first, t1 - last


def request_times(work_dir: Path, url: str) -> dict[str, float]:
    """Where a streamed run's requests spent their time, medians in s: the server's times of each answer
    (``--timing``: arrival, first and last content write; read and cleared here) matched to the run's
    ``RequestTimed`` by order (both sorted): from sending to the server's handler, from arrival to the first
    content write (TTFT), from the server's last write to the client's read of it, and from that read to the
    end of the request in the client."""
    import urllib.request

    with urllib.request.urlopen(url.rsplit("/v1", 1)[0] + "/admin/timings?reset=1", timeout=30) as r:
        server = json.loads(r.read())["timings"]
    (log,) = work_dir.glob("*/events.jsonl")
    with open(log, encoding="utf-8") as f:
        rows = [json.loads(line)["body"] for line in f if '"RequestTimed"' in line]
    if len(server) != len(rows) or not rows or not all(r["chunk_times"] for r in rows):
        return {}

    def median_gap(later: list[float], earlier: list[float]) -> float:
        return round(statistics.median(a - b for a, b in zip(sorted(later), sorted(earlier), strict=True)), 4)

    return {
        "to_server_s": median_gap([t[0] for t in server], [r["sent"] for r in rows]),
        "server_ttft_s": round(statistics.median(t[1] - t[0] for t in server), 4),
        "read_after_write_s": median_gap([r["chunk_times"][-1] for r in rows], [t[2] for t in server]),
        "end_after_read_s": round(statistics.median(r["end"] - r["chunk_times"][-1] for r in rows), 4),
    }


def start_test_server(rules: Path, old_server: Path | None, *extra: str) -> tuple[subprocess.Popen, str]:
    """The test server on core 0 answering by ``rules`` (``extra``: its flags): the working tree's, or
    (``old_server``) the package of --server-base."""
    if old_server is None:
        return server(rules, *extra)
    flags = ("--no-record", "--rules", str(rules), *extra)
    return serve(*flags, prefix=[*pinned(0), "env", f"PYTHONPATH={old_server}"], stderr=None)


def start_c_server(rules: Path, old_server: Path | None) -> tuple[subprocess.Popen, str]:
    """The realistic test server (with its per-answer times: ``request_times``)."""
    return start_test_server(rules, old_server, "--timing", "--ttft", str(TTFT), "--itl", str(ITL))


def part_c(repeat: int, paths: dict, tmp: Path, runs: list[tuple[bool, int]], servers: dict) -> dict:
    latency = TTFT + ITL * (ANSWER_TOKENS - 1)
    n = 1319 * 2
    walls: dict = {}
    rules = gsm8k_rules(tmp)
    started: dict = {}
    try:
        for server_name, server_path in servers.items():
            proc, url = started[server_name] = start_c_server(rules, server_path)
            # one unmeasured pass over the questions: the server finds each question's rule once and remembers it
            timed_child(eval_cmd(url, tmp / f"c-warm-{server_name}", 512, False), env_for(None))
            request_times(tmp / f"c-warm-{server_name}", url)  # (its timings cleared)
        for i in range(repeat):
            for stream, conc in runs:
                for name, path in paths.items():
                    for server_name, (proc, url) in started.items():
                        env = env_for(path)
                        tag = f"{server_name}-{name}-{stream}-{conc}-{i}"
                        one, _, _ = timed_child(eval_cmd(url, tmp / f"c1-{tag}", conc, stream, "--limit", "1"), env)
                        request_times(tmp / f"c1-{tag}", url)  # (the server's timing of that run cleared)
                        cpu0, wait0 = server_cpu(proc.pid)
                        t0 = time.time()
                        w, c, _ = timed_child(eval_cmd(url, tmp / f"c-{tag}", conc, stream, "--repeats", "2"), env)
                        t1 = time.time()
                        cpu1, wait1 = server_cpu(proc.pid)
                        ideal = one + (math.ceil(n / conc) - 1) * latency
                        row = (w, ideal, c, cpu1 - cpu0, wait1 - wait0, *phases(tmp / f"c-{tag}", t0, t1))
                        walls.setdefault((server_name, name, stream, conc), []).append(row)
                        times = request_times(tmp / f"c-{tag}", url) if stream else {}
                        print(
                            json.dumps(
                                {
                                    "part": "c",
                                    "server": server_name,
                                    "path": name,
                                    "stream": stream,
                                    "concurrency": conc,
                                    "wall_s": round(w, 2),
                                    "ideal_s": round(ideal, 2),
                                    "cpu_s": round(c, 2),
                                    "server_cpu_s": round(row[3], 2),
                                    "server_waited_s": round(row[4], 2),
                                    "before_first_request_s": round(row[5], 2),
                                    "requests_s": round(row[6], 2),
                                    "after_last_answer_s": round(row[7], 2),
                                    **times,
                                    "load_1min": round(os.getloadavg()[0], 2),
                                }
                            ),
                            flush=True,
                        )
    finally:
        for proc, _ in started.values():
            stop(proc)
    out: dict = {}
    for (server_name, name, stream, conc), rows in walls.items():
        w = statistics.median(r[0] for r in rows)
        ideal = statistics.median(r[1] for r in rows)
        key = f"{name} {'streamed' if stream else 'whole'} c={conc}"
        out[key if len(servers) == 1 else f"{key} {server_name}-server"] = {
            "wall_s": round(w, 2),
            "ideal_s": round(ideal, 2),
            "wall_over_ideal": round(w / ideal, 2),
            "cpu_s": round(statistics.median(r[2] for r in rows), 2),
            "server_cpu_s": round(statistics.median(r[3] for r in rows), 2),
            "server_waited_s": round(statistics.median(r[4] for r in rows), 2),
            "before_first_request_s": round(statistics.median(r[5] for r in rows), 2),
            "requests_s": round(statistics.median(r[6] for r in rows), 2),
            "after_last_answer_s": round(statistics.median(r[7] for r in rows), 2),
        }
    out["load_1min_at_end"] = round(os.getloadavg()[0], 2)
    return out


def part_s(repeat: int, tmp: Path, runs: list[tuple[int, str, str]], servers: dict) -> dict:
    rules = gsm8k_rules(tmp)
    n = 1319
    out: dict = {}
    for conc, ttft, itl in runs:
        started = {name: start_test_server(rules, path, "--ttft", ttft, "--itl", itl) for name, path in servers.items()}
        cpu: dict = {name: [] for name in started}
        try:
            for name, (_, url) in started.items():  # warm: each question's rule found once
                timed_child(eval_cmd(url, tmp / f"s-warm-{name}-{conc}-{ttft}-{itl}", conc, True), env_for(None))
            for i in range(repeat):
                for name, (proc, url) in started.items():
                    c0, _ = server_cpu(proc.pid)
                    timed_child(eval_cmd(url, tmp / f"s-{name}-{conc}-{ttft}-{itl}-{i}", conc, True), env_for(None))
                    cpu[name].append(1000 * (server_cpu(proc.pid)[0] - c0) / n)
                    print(
                        json.dumps({"part": "s", "server": name, "run": f"{conc}:{ttft}:{itl}", "ms": cpu[name][-1]}),
                        flush=True,
                    )
        finally:
            for proc, _ in started.values():
                stop(proc)
        for name, values in cpu.items():
            out[f"{name} server c={conc} ttft={ttft} itl={itl}"] = {
                "server_cpu_ms_per_request": round(statistics.median(values), 3),
                "runs": [round(v, 3) for v in values],
            }
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--long-tokens", type=int, default=16384)
    p.add_argument("--base", default="afea600", help="the commit whose assay_openai is the old path ('' for none)")
    p.add_argument("--base-loop", default="asyncio", help="the event loop of the old path: asyncio or uvloop")
    p.add_argument("--parts", default="abc")
    p.add_argument("--c-runs", default="s128,s512,w512", help="(c): s|w (streamed or whole) and concurrency")
    p.add_argument("--server-base", default="", help="(c), (s): also the test server of this commit ('' for none)")
    p.add_argument("--s-runs", default="64:0.001:0,64:0.1:0.005", help="(s): concurrency:ttft:itl, comma-separated")
    args = p.parse_args()
    BASE_LOOP[0] = args.base_loop
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        paths: dict = {"old": old_plugin(args.base, tmp)} if args.base else {}
        paths["new"] = None
        result: dict = {"command": " ".join(["python", "benchmarks/bench_eval_stream.py", *sys.argv[1:]])}
        if "a" in args.parts:
            result["a"] = part_a(args.repeat, args.limit, paths, tmp)
        if "b" in args.parts:
            result["b"] = part_b(args.repeat, args.long_tokens, paths, tmp)
            if "old" in paths:
                result["b"]["new_over_old"] = round(result["b"]["new"]["cpu_ms"] / result["b"]["old"]["cpu_ms"], 3)
        # the test servers of (c) and (s): the base commit's extracted once
        servers: dict = {"old": checkout_server(args.server_base, tmp)} if args.server_base else {}
        servers["new"] = None
        if "c" in args.parts:
            runs = [(r[0] == "s", int(r[1:])) for r in args.c_runs.split(",")]
            result["c"] = part_c(args.repeat, paths, tmp, runs, servers)
        if "s" in args.parts:
            s_runs = [(int(c), t, i) for c, t, i in (r.split(":") for r in args.s_runs.split(","))]
            result["s"] = part_s(args.repeat, tmp, s_runs, servers)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
