"""Benchmark ``assay perf`` against EvalScope perf on loopback (issue 6).

Server: ``python -m assay_testserver`` pinned to core 0 (``taskset -c 0``); client pinned
to core 1. Two measurements, each repeated ``--repeats`` times, medians reported:

1. Lightness, zero injected latency, streamed 32-token answers, concurrency 64:
   client CPU-ms per request = (CPU(n2) - CPU(n1)) / (n2 - n1) (the slope removes start-up
   and import cost; CPU = user + sys of the client process and its children, from
   ``getrusage(RUSAGE_CHILDREN)``), and the request throughput the tool itself reports at n2.
   The server's CPU share during the n2 run is printed too: near 100% means the server,
   not the client, capped the rate.
2. Accuracy, injected ttft=50 ms and itl=10 ms (32 tokens: E2E truth 360 ms): error of the
   reported mean and p99 TTFT and of mean TPOT against that truth at concurrency 1, 32, 128;
   and against the server's own record of each answer (``--timing``: handler start to first /
   last content write), which separates the client's measurement error from server queueing.

Since the lean HTTP client (issue 16), ``assay`` is assay perf as it is, ``assay-aiohttp`` the same
commit on its aiohttp client (``ASSAY_PERF_HTTP=aiohttp``), ``assay-w2`` with ``--workers 2``;
``--ceiling`` measures both clients against the loopback self-test server (the client's own
ceiling), ``--scaling`` ``--workers 1`` against ``--workers 2`` with both cores open to the client.

EvalScope runs from its own venv (``--evalscope /tmp/evalscope-venv/bin/evalscope``); it is
skipped when that path does not exist.

    python benchmarks/bench_perf.py --repeats 3 --out benchmarks/perf_results.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from assay_testserver.testing import serve

TOKENS = 32


def _pct(sorted_values: list[float], q: float) -> float:
    """numpy's default (linear) percentile of sorted values."""
    pos = (len(sorted_values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, ttft: float, itl: float, core: str, uv: bool = False) -> None:
        settings = {"ttft": ttft, "itl": itl, "timing": True, "uvloop": uv}
        self.proc, self.url = serve("--no-record", prefix=["taskset", "-c", core], stderr=None, **settings)

    def take_timings(self, last: int) -> dict[str, float]:
        """The server's own view of the last ``last`` streamed answers (warm-ups come first):
        TTFT_server = first content write - handler start; E2E likewise (ms)."""
        import urllib.request

        with urllib.request.urlopen(self.url.rsplit("/v1", 1)[0] + "/admin/timings?reset=1") as r:
            rows = sorted(json.loads(r.read())["timings"])[-last:]
        ttft = sorted((f - a) * 1e3 for a, f, _ in rows)
        if not rows:
            return {}
        return {
            "rows": rows,
            "server_ttft_mean": statistics.fmean(ttft),
            "server_ttft_p99": _pct(ttft, 99),
            "server_e2e_mean": statistics.fmean((e - a) * 1e3 for a, _, e in rows),
        }

    def cpu(self) -> float:
        return proc_cpu(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Loopback(Server):
    """assay-perf's self-test server (``python -m assay_perf.selftest``): canned answers, a few µs of
    CPU each, so the client's own ceiling shows (the test server's Python handlers saturate first)."""

    def __init__(self, core: str, tmp: Path) -> None:
        port_file = tmp / "loopback.port"
        cmd = ["taskset", "-c", core, sys.executable, "-m", "assay_perf.selftest", str(port_file), str(TOKENS)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the loopback server did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text()}/v1"


def prompts_file(path: Path) -> Path:
    rng = random.Random(0)
    # 22 common words, one token each after a space (fixed here, so the prompts and figures stay comparable)
    words = "the of and to in is you that it he was for on are as with his they at be this have".split()
    with open(path, "w") as f:
        f.writelines(" ".join(rng.choice(words) for _ in range(rng.randint(64, 128))) + "\n" for _ in range(256))
    return path


def run_client(
    cmd: list[str], core: str, server: Server, env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """Run one client; return (its CPU seconds, wall seconds, server CPU seconds meanwhile).
    CPU is the whole process tree's (``assay perf --workers N`` reaps its worker processes)."""
    c0, s0, t0 = cpu_children(), server.cpu(), time.perf_counter()
    res = subprocess.run(
        ["taskset", "-c", core, *cmd], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    c1, s1, t1 = cpu_children(), server.cpu(), time.perf_counter()
    if res.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed ({res.returncode}): {res.stdout[-2000:]} {res.stderr[-2000:]}")
    return c1 - c0, t1 - t0, s1 - s0


def assay(
    server: Server,
    work: Path,
    name: str,
    parallel: int,
    number: int,
    warmup: int,
    prompts: Path,
    core: str,
    http: str = "lean",
    workers: int = 1,
):
    """``assay perf``; ``http="aiohttp"``: the aiohttp client of before the lean one (ASSAY_PERF_HTTP)."""
    cmd = [
        sys.executable,
        "-m",
        "assay",
        "perf",
        "--url",
        server.url + "/chat/completions",
        "--model",
        "m",
        "--parallel",
        str(parallel),
        "--number",
        str(number),
        "--dataset",
        "line_by_line",
        "--dataset-path",
        str(prompts),
        "--max-tokens",
        str(TOKENS),
        "--min-tokens",
        str(TOKENS),
        "--stream",
        "--work-dir",
        str(work),
        "--name",
        name,
        "--quiet",
        "--warmup-num",
        str(warmup),
        "--percentiles",
        "50",
        "99",
        "--workers",
        str(workers),
    ]
    cpu, wall, scpu = run_client(cmd, core, server, env={"ASSAY_PERF_HTTP": http})
    rep = json.loads((work / name / "report.json").read_text())["sections"]["perf"]["points"][0]
    assert rep["succeeded"] == number, rep
    return (
        cpu,
        wall,
        scpu,
        {
            "rps": rep["request_throughput"],
            "ttft_mean": rep["ttft_s"]["mean"] * 1e3,
            "ttft_p99": rep["ttft_s"]["p99"] * 1e3,
            "tpot_mean": rep["tpot_s"]["mean"] * 1e3,
            "e2e_mean": rep["e2e_latency_s"]["mean"] * 1e3,
        },
    )


def evalscope(
    exe: str, server: Server, work: Path, name: str, parallel: int, number: int, warmup: int, prompts: Path, core: str
):
    cmd = [
        exe,
        "perf",
        "--url",
        server.url + "/chat/completions",
        "--api",
        "openai",
        "--model",
        "m",
        "--parallel",
        str(parallel),
        "--number",
        str(number),
        "--dataset",
        "line_by_line",
        "--dataset-path",
        str(prompts),
        "--min-prompt-length",
        "0",
        "--max-prompt-length",
        "1000000",
        "--max-tokens",
        str(TOKENS),
        "--min-tokens",
        str(TOKENS),
        "--stream",
        "--outputs-dir",
        str(work),
        "--no-timestamp",
        "--name",
        name,
        "--no-test-connection",
    ]
    if warmup:
        cmd += ["--warmup-num", str(warmup)]
    cpu, wall, scpu = run_client(cmd, core, server)
    point = work / name / f"parallel_{parallel}_number_{number}"
    summ = json.loads((point / "benchmark_summary.json").read_text())
    pct = {row["Percentiles"]: row for row in json.loads((point / "benchmark_percentile.json").read_text())}
    assert summ["Success Requests"] == number, summ
    return (
        cpu,
        wall,
        scpu,
        {
            "rps": summ["Req Throughput (req/s)"],
            "ttft_mean": summ["Avg TTFT (ms)"],
            "ttft_p99": pct["99%"]["TTFT (ms)"],
            "tpot_mean": summ["Avg TPOT (ms)"],
            "e2e_mean": summ["Avg Latency (s)"] * 1e3,
        },
    )


def raw_client(
    server: Server,
    work: Path,
    name: str,
    parallel: int,
    number: int,
    warmup: int,
    prompts: Path,
    core: str,
    uv: bool = False,
):
    cmd = [
        sys.executable,
        str(Path(__file__).with_name("perf_raw_client.py")),
        server.url + "/chat/completions",
        str(parallel),
        str(number),
    ]
    out = work / f"{name}.json"
    cmd = ["sh", "-c", " ".join(cmd) + (" --uvloop" if uv else "") + f" > {out}"]
    cpu, wall, scpu = run_client(cmd, core, server)
    return cpu, wall, scpu, json.loads(out.read_text())


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def slopes(
    tools: dict[str, Any], srv: Server, n1: int, n2: int, args: argparse.Namespace, label: str, tmp: Path, prompts: Path
) -> dict[str, list[dict[str, float]]]:
    """Each tool's client CPU per request at concurrency 64, (CPU(n2) - CPU(n1)) / (n2 - n1) (start-up and
    imports cancel out), with its req/s and the server's CPU share at n2: ``args.repeats`` rows per tool,
    the tools interleaved, so load drift hits every tool alike."""
    rows: dict[str, list[dict[str, float]]] = {}
    for r in range(args.repeats):
        for tool, fn in tools.items():
            name = f"{label}-{r}-{tool}"
            cpu1, _, _, _ = fn(srv, tmp, f"{name}-a", 64, n1, 0, prompts, args.client_core)
            cpu2, wall2, scpu2, m2 = fn(srv, tmp, f"{name}-b", 64, n2, 0, prompts, args.client_core)
            row = {
                "cpu_ms_per_req": (cpu2 - cpu1) / (n2 - n1) * 1e3,
                "rps": m2["rps"],
                "server_cpu_share": scpu2 / wall2,
            }
            rows.setdefault(tool, []).append(row)
            print(tool, label, "run", r, row, file=sys.stderr)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--evalscope", default="/tmp/evalscope-venv/bin/evalscope")
    ap.add_argument("--n1", type=int, default=200)
    ap.add_argument("--n2", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 32, 128])
    ap.add_argument("--server-core", default="0")
    ap.add_argument("--client-core", default="1")
    ap.add_argument("--skip-cpu", action="store_true")
    ap.add_argument("--server-uvloop", action="store_true", help="run the test server on uvloop (it saturates later)")
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument(
        "--tools",
        nargs="+",
        help="measure only these (assay, assay-aiohttp, assay-w2, raw-aiohttp, raw-aiohttp-uvloop, evalscope)",
    )
    ap.add_argument(
        "--scaling",
        action="store_true",
        help="also: assay --workers 1 vs 2 on --scaling-cores (the server shares them), req/s at parallel 128",
    )
    ap.add_argument("--scaling-cores", default="0,1")
    ap.add_argument(
        "--ceiling",
        action="store_true",
        help="also: assay (lean) vs assay-aiohttp against the loopback self-test server: CPU/request, req/s",
    )
    ap.add_argument("--ceiling-number", type=int, default=10000)
    ap.add_argument("--scaling-number", type=int, default=4000)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    tools: dict[str, Any] = {
        "assay": assay,  # the lean HTTP client (assay_openai.lean)
        "assay-aiohttp": lambda *a: assay(*a, http="aiohttp"),  # the client before it, same commit
        "assay-w2": lambda *a: assay(*a, workers=2),  # --workers 2 (on the one client core: its overhead)
    }
    floors: dict[str, Any] = {"raw-aiohttp": raw_client, "raw-aiohttp-uvloop": lambda *a: raw_client(*a, uv=True)}
    if Path(args.evalscope).exists():
        tools["evalscope"] = lambda *a: evalscope(args.evalscope, *a)
    else:
        print(f"evalscope not found at {args.evalscope}: measuring assay only", file=sys.stderr)
    if args.tools:
        tools = {k: v for k, v in tools.items() if k in args.tools}
        floors = {k: v for k, v in floors.items() if k in args.tools}
    tmp = Path(tempfile.mkdtemp(prefix="bench_perf_"))
    prompts = prompts_file(tmp / "prompts.txt")
    results: dict[str, Any] = {
        "tokens": TOKENS,
        "repeats": args.repeats,
        "server_uvloop": args.server_uvloop,
        "cpu": {},
        "timing": {},
        "scaling": {},
        "load_average": {"start": os.getloadavg()},
    }
    k = 0
    try:
        if not args.skip_cpu:
            srv = Server(0.0, 0.0, args.server_core, uv=args.server_uvloop)
            try:
                allrows = slopes({**floors, **tools}, srv, args.n1, args.n2, args, "cpu", tmp, prompts)
                for tool, rows in allrows.items():
                    results["cpu"][tool] = {
                        "runs": rows,
                        "median_cpu_ms_per_req": med([x["cpu_ms_per_req"] for x in rows]),
                        "median_rps": med([x["rps"] for x in rows]),
                        "median_server_cpu_share": med([x["server_cpu_share"] for x in rows]),
                    }
            finally:
                srv.stop()
        if args.ceiling:
            srv = Loopback(args.server_core, tmp)
            try:
                clients = {"assay": assay, "assay-aiohttp": lambda *a: assay(*a, http="aiohttp")}
                n1, n2 = args.ceiling_number // 5, args.ceiling_number
                crows = slopes(clients, srv, n1, n2, args, "ceiling", tmp, prompts)
                results["ceiling"] = {
                    tool: {
                        "runs": rows,
                        "median_cpu_ms_per_req": med([x["cpu_ms_per_req"] for x in rows]),
                        "median_rps": med([x["rps"] for x in rows]),
                        "max_rps": max(x["rps"] for x in rows),
                    }
                    for tool, rows in crows.items()
                }
            finally:
                srv.stop()
        if args.scaling:
            # --workers 1 vs 2 with the client free to use both cores (the server shares them: on a 2-core
            # host this is the best a 2-process client can show), high concurrency, zero latency
            srv = Server(0.0, 0.0, args.scaling_cores, uv=args.server_uvloop)
            try:
                srows: dict[str, list[dict[str, float]]] = {}
                for r in range(args.repeats):
                    for w in (1, 2):
                        k += 1
                        cpu, wall, scpu, m = assay(
                            srv, tmp, f"s{k}", 128, args.scaling_number, 0, prompts, args.scaling_cores, workers=w
                        )
                        row = {"rps": m["rps"], "cpu_ms_per_req": cpu / args.scaling_number * 1e3, "wall": wall}
                        srows.setdefault(f"workers-{w}", []).append(row)
                        print("scaling", w, "run", r, row, file=sys.stderr)
                for key, rows in srows.items():
                    results["scaling"][key] = {
                        "runs": rows,
                        "median_rps": med([x["rps"] for x in rows]),
                        "median_cpu_ms_per_req_with_startup": med([x["cpu_ms_per_req"] for x in rows]),
                    }
            finally:
                srv.stop()
        if not args.skip_timing:
            srv = Server(0.05, 0.01, args.server_core, uv=args.server_uvloop)
            try:
                for c in args.concurrency:
                    number = max(20, 4 * c)
                    trows: dict[str, list[dict[str, float]]] = {}
                    for r in range(args.repeats):
                        for tool, fn in tools.items():
                            if tool == "assay-w2" and c < 2:
                                continue  # each worker needs a slot
                            k += 1
                            srv.take_timings(1)  # clear
                            _, _, _, m = fn(srv, tmp, f"t{k}", c, number, c, prompts, args.client_core)
                            sv = srv.take_timings(number)
                            row = {
                                "ttft_mean_err_ms": m["ttft_mean"] - 50.0,
                                "ttft_p99_err_ms": m["ttft_p99"] - 50.0,
                                "tpot_mean_err_ms": m["tpot_mean"] - 10.0,
                                "e2e_mean_err_ms": m["e2e_mean"] - 360.0,
                                # the client's own error: what it reports minus what the server did
                                "ttft_mean_vs_server_ms": m["ttft_mean"] - sv["server_ttft_mean"],
                                "ttft_p99_vs_server_ms": m["ttft_p99"] - sv["server_ttft_p99"],
                                "e2e_mean_vs_server_ms": m["e2e_mean"] - sv["server_e2e_mean"],
                                "server_ttft_mean_ms": sv["server_ttft_mean"],
                            }
                            if tool.startswith("assay"):
                                # assay logs wall-clock arrivals: match the k-th earliest first/last content
                                # arrival with the k-th earliest server write -> the client's own timestamp lag
                                evs = [
                                    json.loads(x)["body"]
                                    for x in (tmp / f"t{k}" / "events.jsonl").open()
                                    if '"RequestTimed"' in x and '"warmup"' not in x
                                ]
                                lags = sorted(
                                    [
                                        c_ - w
                                        for c_, w in zip(
                                            sorted(e["chunk_times"][0] for e in evs),
                                            sorted(f for _, f, _ in sv["rows"]),
                                        )
                                    ]
                                    + [
                                        c_ - w
                                        for c_, w in zip(
                                            sorted(e["chunk_times"][-1] for e in evs),
                                            sorted(x for _, _, x in sv["rows"]),
                                        )
                                    ]
                                )
                                row["client_lag_mean_ms"] = statistics.fmean(lags) * 1e3
                                row["client_lag_p99_ms"] = _pct(lags, 99) * 1e3
                            trows.setdefault(tool, []).append(row)
                            print(tool, "c", c, "run", r, row, file=sys.stderr)
                    for tool, rows in trows.items():
                        results["timing"].setdefault(str(c), {})[tool] = {
                            "number": number,
                            "runs": rows,
                            **{f"median_{key}": med([x[key] for x in rows]) for key in rows[0]},
                        }
            finally:
                srv.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results["load_average"]["end"] = os.getloadavg()
    text = json.dumps(results, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print("\n== medians ==")
    for tool, v in results["cpu"].items():
        print(
            f"{tool:10s} CPU/req {v['median_cpu_ms_per_req']:.3f} ms   req/s {v['median_rps']:.0f}   "
            f"server core busy {v['median_server_cpu_share']:.0%}"
        )
    for tool, v in results.get("ceiling", {}).items():
        print(
            f"ceiling (loopback server) {tool:14s} CPU/req {v['median_cpu_ms_per_req']:.3f} ms   "
            f"req/s {v['median_rps']:.0f} (max {v['max_rps']:.0f})"
        )
    for key, v in results["scaling"].items():
        print(f"scaling {key}: req/s {v['median_rps']:.0f}")
    if len(results["scaling"]) == 2:
        w1, w2 = results["scaling"]["workers-1"]["median_rps"], results["scaling"]["workers-2"]["median_rps"]
        print(f"scaling workers-2 / workers-1: {w2 / w1:.2f}x")
    print(f"load average: start {results['load_average']['start']}, end {results['load_average']['end']}")
    for c, tools_ in results["timing"].items():
        for tool, v in tools_.items():
            if "median_client_lag_mean_ms" in v:
                print(
                    f"c={c:>4s} {tool:10s} client timestamp lag behind the server's writes: mean "
                    f"{v['median_client_lag_mean_ms']:.2f} ms, p99 {v['median_client_lag_p99_ms']:.2f} ms"
                )
            print(
                f"c={c:>4s} {tool:10s} vs injected: TTFT mean {v['median_ttft_mean_err_ms']:+.1f} p99 {v['median_ttft_p99_err_ms']:+.1f} "
                f"TPOT {v['median_tpot_mean_err_ms']:+.2f} E2E {v['median_e2e_mean_err_ms']:+.1f} ms | vs server's own times: "
                f"TTFT mean {v['median_ttft_mean_vs_server_ms']:+.1f} p99 {v['median_ttft_p99_vs_server_ms']:+.1f} "
                f"E2E {v['median_e2e_mean_vs_server_ms']:+.1f} ms (server TTFT {v['median_server_ttft_mean_ms']:.1f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
