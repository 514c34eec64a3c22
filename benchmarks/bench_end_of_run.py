"""Target (c) of issue 18, old kernel against the working tree's: the end of a run folded while it waits.

Usage: python benchmarks/bench_end_of_run.py CONCURRENCY REPEAT [s|w] with /tmp/headk/kernel holding the old
kernel (`mkdir -p /tmp/headk && git archive COMMIT kernel/assay | tar -x -C /tmp/headk`). Each repeat runs, for the
old kernel then the new, `assay eval` of GSM8K --limit 1 (start-up and one answer) and of all 1,319 questions twice
against the realistic test server (TTFT 100 ms, 5 ms a token, 64 tokens); ideal = the one-answer wall + (waves - 1)
x latency, as bench_eval_stream's part (c); it prints wall / ideal and where the wall time went (before the first
request, requests, after the last answer), then the medians."""

import sys
import time
import subprocess
import math
import statistics
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_kernel import ANSWER_TOKENS, env_for, eval_cmd, start_server, timed_child
from bench_eval_stream import ITL, TTFT, gsm8k_rules, phases, stop

tmp = Path(tempfile.mkdtemp(prefix="end-of-run-"))
rules = gsm8k_rules(tmp)
conc, repeat = int(sys.argv[1]), int(sys.argv[2])
stream = sys.argv[3] == "s" if len(sys.argv) > 3 else True
latency = TTFT + ITL * (ANSWER_TOKENS - 1)
proc, url = start_server(rules, "--ttft", str(TTFT), "--itl", str(ITL))
variants = {"head": "/tmp/headk/kernel", "new": None}
rows = {k: [] for k in variants}


def timed(cmd, p):
    """(start, wall s) of ``cmd`` with ``p`` first on PYTHONPATH."""
    t0 = time.time()
    return t0, timed_child(cmd, env_for(p))[0]


try:
    subprocess.run(
        eval_cmd(url, tmp / "warm", 512, False), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for i in range(repeat):
        for name, p in variants.items():
            one = timed(eval_cmd(url, tmp / f"one-{name}-{i}", conc, stream, "--limit", "1"), p)[1]
            t0, w = timed(eval_cmd(url, tmp / f"c-{name}-{i}", conc, stream, "--repeats", "2"), p)
            t1 = t0 + w
            ideal = one + (math.ceil(2638 / conc) - 1) * latency
            ph = phases(tmp / f"c-{name}-{i}", t0, t1)
            rows[name].append((w / ideal, w, ideal, *ph))
            print(
                name,
                f"ratio {w / ideal:.3f} wall {w:.2f} ideal {ideal:.2f} before {ph[0]:.2f} requests {ph[1]:.2f} after {ph[2]:.2f}",
                flush=True,
            )
finally:
    stop(proc)
for name, r in rows.items():
    print(
        name,
        "median ratio",
        round(statistics.median(x[0] for x in r), 3),
        "requests",
        round(statistics.median(x[4] for x in r), 2),
        "after",
        round(statistics.median(x[5] for x in r), 2),
    )
