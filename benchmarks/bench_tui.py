"""`assay view` benchmarks (issue 7).

1. A 1,000,000-event eval log (333,330 samples in 10 subsets: SampleLoaded + Generated + Scored
   each, written through the kernel's LogWriter by assay_tui.synth): time from process start to
   the first screen (the runs list with the run's row), peak RSS at that moment, time until the
   log is fully indexed (report, samples usable) and peak RSS of the whole session; then the report
   screen: from enter to its table shown (`report_screen_s`) and to the plugin reporters' sections built
   in their thread (`report_sections_s`: each reporter folds the whole log).
   Targets: first screen < 2 s, < 300 MB.
2. A 10,000-sample dataset: time from pressing enter on its report row to the samples screen
   shown with its first rows and the detail pane filled.

Each measurement runs in a fresh child process (headless Textual, 80x24); figures are the
median of --repeat runs. CPU seconds (process_time) are reported beside wall
seconds because the wall clock depends on what else the machine runs (see load_average). Usage: python benchmarks/bench_tui.py [--repeat 3] [--events 1000000]
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

CHILD = r"""
import time
T0 = time.perf_counter()
import asyncio, json, sys

def hwm_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")

async def until(cond, what, limit=300.0):
    end = time.perf_counter() + limit
    while not cond():
        if time.perf_counter() > end:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.002)

async def main(path, mode):
    from assay_tui.app import ViewApp
    from assay_tui.screens.report import ReportScreen
    from assay_tui.screens.runs import RunsScreen
    from assay_tui.screens.samples import SamplesScreen
    from textual.widgets import DataTable
    app = ViewApp([path], live_interval=0)
    out = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: isinstance(app.screen, RunsScreen) and app.screen.query_one("#runs", DataTable).row_count, "first screen")
        await pilot.pause()
        out["first_screen_s"] = time.perf_counter() - T0
        out["first_screen_cpu_s"] = time.process_time()
        out["first_screen_hwm_mb"] = hwm_mb()
        await until(lambda: app.all_indexed, "indexing")
        await pilot.pause()
        out["indexed_s"] = time.perf_counter() - T0
        out["indexed_cpu_s"] = time.process_time()
        t = time.perf_counter()
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ReportScreen) and app.screen.ready, "report screen")
        await pilot.pause()
        out["report_screen_s"] = time.perf_counter() - t  # the kernel's table, the screen live
        await app.workers.wait_for_complete()  # the reporters' sections (built in a thread: folds of the log)
        await pilot.pause()
        out["report_sections_s"] = time.perf_counter() - t
        t = time.perf_counter()
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, SamplesScreen) and app.screen.ready, "samples screen")
        await pilot.pause()
        out["samples_screen_s"] = time.perf_counter() - t
        out["samples_shown"] = app.screen.counts["all"]
        out["events"] = next(iter(app.indexes.values())).events
    out["peak_hwm_mb"] = hwm_mb()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def child(path: Path, mode: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), mode],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--keep", help="directory to write (and reuse) the logs in")
    a = ap.parse_args()
    from assay_tui.synth import write_big_eval_log, write_eval_log

    tmp = tempfile.TemporaryDirectory() if not a.keep else None
    root = Path(a.keep or tmp.name)  # type: ignore[union-attr]
    big = root / "big" / "events.jsonl"
    if not big.exists():
        write_big_eval_log(big.parent, a.events)
    ten = root / "ten" / "events.jsonl"
    if not ten.exists():
        write_eval_log(ten.parent, run_id="20260101_000000_tenk", groups={"main": 10_000})

    big_runs = [child(big, "big") for _ in range(a.repeat)]
    ten_runs = [child(ten, "ten") for _ in range(a.repeat)]
    result = {
        "log_events": big_runs[0]["events"],
        "log_mb": round(big.stat().st_size / 1e6, 1),
        "first_screen_s": round(median(big_runs, "first_screen_s"), 3),
        "first_screen_peak_rss_mb": round(median(big_runs, "first_screen_hwm_mb"), 1),
        "first_screen_cpu_s": round(median(big_runs, "first_screen_cpu_s"), 3),
        "fully_indexed_s": round(median(big_runs, "indexed_s"), 3),
        "fully_indexed_cpu_s": round(median(big_runs, "indexed_cpu_s"), 3),
        "session_peak_rss_mb": round(median(big_runs, "peak_hwm_mb"), 1),
        "report_screen_s": round(median(big_runs, "report_screen_s"), 3),
        "report_sections_s": round(median(big_runs, "report_sections_s"), 3),
        "samples_screen_33k_s": round(median(big_runs, "samples_screen_s"), 4),
        "samples_screen_10k_s": round(median(ten_runs, "samples_screen_s"), 4),
        "samples_10k_shown": ten_runs[0]["samples_shown"],
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "runs": {"big": big_runs, "ten": ten_runs},
    }
    print(json.dumps(result, indent=2))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
