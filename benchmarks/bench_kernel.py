"""Kernel benchmarks (issue: the kernel and the first end-to-end evaluation).

1. GSM8K, all 1319 samples, against the loopback test server with zero latency, at --eval-batch-size 1
   and 64: samples/s and CPU-ms per sample of the assay process (server on core 0, assay on core 1).
2. The event log: append rate and replay (fold) rate on 1,000,000 events; peak RSS of `assay report`.
3. `assay plugins` wall time.

Each figure is the median of --repeat runs. Usage: python benchmarks/bench_kernel.py [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assay_testserver.testing import serve

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ASSAY_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))
CORES = os.cpu_count() or 1
# The children measure a user's run, which writes and reuses the bytecode cache: with PYTHONDONTWRITEBYTECODE
# set (as on some CI images) every module changed since its .pyc was written is compiled again in every run
# (0.13 s of a 0.6 s start-up, measured), and the old tree of --tree/--base compiles all of it.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pinned(core: int) -> list[str]:
    return ["taskset", "-c", str(core % CORES)] if shutil.which("taskset") and CORES > 1 else []


def start_server(rules_path: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """The test server on core 0, answering by ``rules_path`` (``extra``: e.g. ``--ttft 0.1 --itl 0.005``)."""
    return serve("--no-record", "--rules", str(rules_path), *extra, prefix=pinned(0), stderr=None)


def gsm8k_answers(tmp: Path, answer_tokens: int, limit: int | None = None) -> Path:
    """Rules for the test server: each GSM8K test question answered right in ``answer_tokens`` tokens."""
    rows = [json.loads(line) for line in open(DATA / "gsm8k" / "test.jsonl", encoding="utf-8")][:limit]
    filler = " ".join(["step"] * (answer_tokens - 2))
    rules = [
        {"match": r["question"], "answer": f"{filler} #### {r['answer'].rsplit('####', 1)[1].strip()}"} for r in rows
    ]
    path = tmp / "rules.json"
    path.write_text(json.dumps(rules))
    return path


def eval_cmd(url: str, out: Path, conc: int, stream: bool, *args: str) -> list[str]:
    """``assay eval`` of GSM8K against ``url`` on core 1, at concurrency ``conc`` (``args``: e.g. ``--limit``)."""
    cmd = [*pinned(1), sys.executable, "-m", "assay", "eval", "--model", "m", "--api-url", url, "--datasets", "gsm8k"]
    cmd += ["--eval-batch-size", str(conc), "--dataset-dir", str(DATA), "--work-dir", str(out), "--no-progress", *args]
    return cmd + (["--stream"] if stream else [])


ANSWER_TOKENS = 64  # the GSM8K answer length of the streamed-eval benchmarks (bench_eval_stream, bench_eval_http)

# One streamed answer through the openai_api backend: CPU s of the request (after a warm-up), chunks, characters.
ONE_ANSWER = r"""
import sys, time, anyio
from assay.api import GenerateRequest, ModelConfig
from assay_openai.model import OpenAIModel
try:
    from assay.evaluate import run_async
except ImportError:  # a base commit from before its rename
    from assay.evaluate import _run_async as run_async

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

run_async(main)  # on the event loop of eval runs (uvloop's when installed; ASSAY_EVAL_LOOP=asyncio)
"""


def checkout(base: str, dest: Path, *paths: str) -> Path:
    """``paths`` of the commit ``base`` (``git archive``), extracted under ``dest``; returns ``dest``."""
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", base, *paths], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def old_plugin(base: str, tmp: Path) -> Path:
    """The base commit's assay_openai package, extracted into tmp (to go first on PYTHONPATH)."""
    checkout(base, tmp / "old", "plugins/assay-openai/src/assay_openai")
    return tmp / "old" / "plugins" / "assay-openai" / "src"


def env_for(path: Path | str | None) -> dict[str, str]:
    """This environment with ``path`` (a folder, or a whole PYTHONPATH) first on PYTHONPATH."""
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def timed_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(wall s, CPU s user+sys, peak RSS KiB) of one child process.

    The peak RSS comes from /usr/bin/time, run through a small shell: the rusage of a child
    forked straight from this (large) process would count the pages it inherited before exec.
    """
    t0 = time.perf_counter()
    rss_file = tempfile.NamedTemporaryFile(suffix=".rss", delete=False).name
    wrapped = ["/usr/bin/time", "-o", rss_file, "-f", "%M", *cmd] if os.path.exists("/usr/bin/time") else cmd
    proc = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd} failed: {proc.stderr.read().decode()[-2000:]}")
    try:
        peak = int(Path(rss_file).read_text().split()[-1])
    except (ValueError, IndexError):
        peak = usage.ru_maxrss
    os.unlink(rss_file)
    return wall, usage.ru_utime + usage.ru_stime, peak


def bench_gsm8k(repeat: int, limit: int | None) -> list[dict]:
    rows = [json.loads(line) for line in open(DATA / "gsm8k" / "test.jsonl", encoding="utf-8")]
    rules = [{"match": r["question"], "answer": "#### " + r["answer"].rsplit("####", 1)[1].strip()} for r in rows]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        rules_path = Path(tmp) / "rules.json"
        rules_path.write_text(json.dumps(rules))
        server, url = start_server(rules_path)
        try:
            for batch in (1, 64):
                walls, cpus = [], []
                for _ in range(repeat):
                    cmd = eval_cmd(url, Path(tmp) / "out", batch, False, *(["--limit", str(limit)] if limit else []))
                    wall, cpu, _ = timed_child(cmd)
                    walls.append(wall)
                    cpus.append(cpu)
                n = limit or len(rows)
                w, c = statistics.median(walls), statistics.median(cpus)
                results.append(
                    {
                        "batch": batch,
                        "samples": n,
                        "wall_s": round(w, 3),
                        "samples_per_s": round(n / w, 1),
                        "cpu_ms_per_sample": round(1000 * c / n, 3),
                    }
                )
        finally:
            server.terminate()
            server.wait()
    return results


def bench_log(repeat: int, n: int) -> dict:
    sys.path.insert(0, str(ROOT / "kernel"))
    from assay.events import Generated, RunFinished, RunStarted, SampleLoaded, Scored
    from assay.log import LogWriter, iter_raw
    from assay_eval_report.reporter import EvalFold, build_eval

    out: dict = {"events": n}
    with tempfile.TemporaryDirectory() as tmp:
        appends, folds, pfolds, raws, rss = [], [], [], [], []
        for _ in range(repeat):
            run = Path(tmp) / "run"
            shutil.rmtree(run, ignore_errors=True)
            path = run / "events.jsonl"
            bodies = []
            per = 3  # SampleLoaded, Generated, Scored per sample
            for i in range(n // per):
                sid = f"bench/sub{i % 57}/{i}"
                bodies.append(
                    SampleLoaded(
                        sample_id=sid, benchmark="bench", subset=f"sub{i % 57}", prompt="What is 2+2?", target="4"
                    )
                )
                bodies.append(Generated(sample_id=sid, model="m", output="#### 4", latency=0.01))
                bodies.append(Scored(sample_id=sid, scorer="acc", metric="acc", value=float(i % 2)))
            bodies.insert(0, RunStarted(kind="eval"))
            bodies = [*bodies[: n - 1], RunFinished()]  # a finished run (`assay report` refuses an unfinished one)
            t0 = time.perf_counter()
            with LogWriter(path, "bench", fsync_interval=1.0) as w:
                for j in range(0, len(bodies), 64):
                    w.append_many(bodies[j : j + 64])
            appends.append(len(bodies) / (time.perf_counter() - t0))
            del bodies
            t0 = time.perf_counter()
            fold = EvalFold()
            fold.feed_path(path)
            fold.rows()
            folds.append(fold.events / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            folded = build_eval(path)  # the report's own path: byte ranges in parallel processes
            pfolds.append(folded["events"] / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            count = sum(1 for _ in iter_raw(path))
            raws.append(count / (time.perf_counter() - t0))
            _, _, peak = timed_child([sys.executable, "-m", "assay", "report", str(run), "--format", "json"])
            rss.append(peak)
        out.update(
            append_events_per_s=round(statistics.median(appends)),
            fold_events_per_s=round(statistics.median(folds)),
            fold_parallel_events_per_s=round(statistics.median(pfolds)),
            raw_replay_events_per_s=round(statistics.median(raws)),
            report_peak_rss_mib=round(statistics.median(rss) / 1024, 1),
            log_mib=round(path.stat().st_size / 2**20, 1),
        )
        # constant memory: the fold's peak RSS on a 4x smaller log is about the same
        small = Path(tmp) / "small"
        small.mkdir()
        with open(path, "rb") as src, open(small / "events.jsonl", "wb") as dst:
            for k, line in enumerate(src):
                if k >= n // 4 - 1:
                    break
                dst.write(line)
        with LogWriter(small / "events.jsonl", "bench") as w:
            w.append(RunFinished())
        _, _, peak_small = timed_child([sys.executable, "-m", "assay", "report", str(small), "--format", "json"])
        out["report_peak_rss_mib_quarter_log"] = round(peak_small / 1024, 1)
    return out


def bench_plugins(repeat: int) -> dict:
    walls = [timed_child([sys.executable, "-m", "assay", "plugins"])[0] for _ in range(repeat)]
    helps = [timed_child([sys.executable, "-m", "assay", "--help"])[0] for _ in range(repeat)]
    return {
        "assay_plugins_wall_s": round(statistics.median(walls), 3),
        "assay_help_wall_s": round(statistics.median(helps), 3),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="fewer samples and events")
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--only", choices=["plugins", "log", "gsm8k"])
    args = p.parse_args()
    limit = 200 if args.quick else None
    events = 100_000 if args.quick else args.events
    if args.only in (None, "plugins"):
        print(json.dumps({"plugins": bench_plugins(args.repeat)}, indent=2), flush=True)
    if args.only in (None, "log"):
        print(json.dumps({"log": bench_log(args.repeat, events)}, indent=2), flush=True)
    if args.only in (None, "gsm8k"):
        print(json.dumps({"gsm8k": bench_gsm8k(args.repeat, limit)}, indent=2), flush=True)


if __name__ == "__main__":
    main()
