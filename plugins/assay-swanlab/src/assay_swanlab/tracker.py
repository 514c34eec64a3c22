"""Each assay run becomes one SwanLab experiment, fed from the event stream.

- RunStarted (or RunResumed): an experiment named after the assay run (project ``$SWANLAB_PROJ_NAME``,
  default ``assay``; logs under ``$SWANLAB_LOG_DIR``, default ``swanlog/`` in the run directory; mode
  ``$SWANLAB_MODE``), tagged with the run's kind; its config is the run's config with every secret removed
  (see :func:`assay_reportkit.trackers.run_config`). SwanLab never prompts (``interactive=False``: without a key
  an online run fails, as a warning), does not copy the terminal, and records no command line, host
  or git metadata (a key given as a flag stays out).
- While samples are scored: ``progress/loaded|scored|failed`` and the running mean of each
  ``running/<dataset>/<subset>/<metric>``, at most one point per ``$ASSAY_TRACKER_INTERVAL`` seconds.
- RunFinished: the report folded from the log (the same as ``assay report``): ``<dataset>/<subset>/
  <metric>``, ``.../num``, ``errored_samples``, ``samples_loaded``; for perf runs one step per point
  (``perf/parallel``, ``perf/ttft_s_p99``...) and each point's figures under its own name; the score
  table as an ECharts table named ``report`` and ``report.json`` saved with the run; the experiment
  ends ``success``, ``crashed`` (failed) or ``aborted`` (interrupted).

A failure of swanlab itself raises in the observer: the kernel names it in a Warning event and on stderr
and switches the observer off; the assay run and its scores are unaffected.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from assay_reportkit.trackers import PerRun, Running, perf_points, report_metrics, report_table, run_start, status_of


def name(key: str) -> str:
    """SwanLab keys: letters, digits, ``_ - . /``."""
    return re.sub(r"[^\w\-./]", "_", key)


@contextlib.contextmanager
def _banner_to_stderr():
    """SwanLab prints its banner on stdout, which is assay's report: send it to stderr."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


class Tracker:
    def __init__(self, event: Any, run: Any) -> None:
        import swanlab

        self.swanlab = swanlab
        config, kind, title = run_start(event, run)
        S = swanlab.Settings
        settings = S(
            interactive=False,
            terminal=S.Terminal(proxy_type="none"),
            probe=S.Probe(runtime=False, git=False, hardware=False, monitor=False, conda=False),
        )
        log_dir = None
        if not (os.environ.get("SWANLAB_LOG_DIR") or os.environ.get("SWANLAB_LOGDIR")):
            log_dir = str(Path(run.run_dir) / "swanlog")
        main = threading.current_thread() is threading.main_thread()
        sigint, excepthook = signal.getsignal(signal.SIGINT) if main else None, sys.excepthook
        with _banner_to_stderr():
            self.run = swanlab.init(
                project=None if os.environ.get("SWANLAB_PROJ_NAME") else "assay",
                name=title,
                log_dir=log_dir,
                config=config,
                tags=[kind],
                job_type=kind,
                settings=settings,
                reinit=True,
            )
        # SwanLab takes over Ctrl-C and uncaught exceptions to end its run; assay ends it (interrupted or
        # failed runs included) from RunFinished, so the process keeps assay's own handling
        if main:
            signal.signal(signal.SIGINT, sigint)
        sys.excepthook = excepthook
        self.step = 0
        self.running = Running()

    def log(self, data: dict[str, Any]) -> None:
        self.step += 1
        self.run.log({name(k): v for k, v in data.items()}, step=self.step)

    def observe(self, event: Any) -> None:
        self.running.observe(event)
        if self.running.due():
            self.log(self.running.point())

    def finish(self, event: Any, run: Any) -> None:
        from assay.report import build_report

        if self.running.pending:
            self.log(self.running.point())
        run.flush()  # RunFinished is in the log before the report is folded from it
        report = build_report(run.log_path, run.plugins, workers=1)
        self.log(report_metrics(report))
        for section, _where, figures in perf_points(report):
            self.log({f"{section}/{k}": v for k, v in figures.items()})
        columns, rows = report_table(report)
        if rows:
            table = self.swanlab.echarts.Table()
            table.add(columns, [["" if v is None else v for v in r] for r in rows])
            self.log({"report": table})
        out = Path(self.run.dir) / "report.json"
        out.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
        with _banner_to_stderr():
            self.swanlab.save(str(out), base_path=str(self.run.dir), policy="now")
        status = status_of(event)
        with _banner_to_stderr():
            if status == "completed":
                self.swanlab.finish(state="success")
            elif status == "interrupted":
                self.swanlab.finish(state="aborted")
            else:
                self.swanlab.finish(state="crashed", error=str(getattr(event.body, "error", None) or status))


_RUNS = PerRun(Tracker)
observe = _RUNS.observe
