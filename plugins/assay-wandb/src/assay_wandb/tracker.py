"""Each assay run becomes one W&B run, fed from the event stream.

- RunStarted (or RunResumed): a W&B run named after the assay run (project ``$WANDB_PROJECT``, default
  ``assay``; files under ``$WANDB_DIR``, default the run directory), tagged and typed with the run's kind;
  its config is the run's config with every secret removed (see :func:`assay_reportkit.trackers.run_config`).
- While samples are scored: ``progress/loaded|scored|failed`` and the running mean of each
  ``running/<dataset>/<subset>/<metric>``, at most one point per ``$ASSAY_TRACKER_INTERVAL`` seconds,
  charted against ``progress/scored``.
- RunFinished: the report folded from the log (the same as ``assay report``) in the run's summary
  (``<dataset>/<subset>/<metric>``, ``.../num``, ``errored_samples``, ``samples_loaded``, perf points'
  throughput and latency percentiles), one history row per perf point (``perf/parallel``,
  ``perf/ttft_s_p99``...), the score table as a ``wandb.Table`` named ``report``, and ``report.json`` in
  the run's files; the W&B run ends with exit code 0 (completed) or 1 (failed, interrupted).

A failure of wandb itself raises in the observer: the kernel names it in a Warning event and on stderr
and switches the observer off; the assay run and its scores are unaffected.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from assay_reportkit.trackers import PerRun, Running, perf_points, report_metrics, report_table, run_start, status_of


class Tracker:
    def __init__(self, event: Any, run: Any) -> None:
        import wandb

        self.wandb = wandb
        config, kind, title = run_start(event, run)
        settings = wandb.Settings(
            silent=True,
            console="off",  # the terminal is assay's: nothing of it goes to W&B
            disable_git=True,
            save_code=False,
            x_disable_meta=True,  # no command line, host or environment (a key given as a flag stays here)
            x_disable_stats=True,
        )
        root = Path(os.environ.get("WANDB_DIR") or run.run_dir)
        root.mkdir(parents=True, exist_ok=True)  # raises where a file is in the way (wandb would fall back to /tmp)
        if not os.access(root, os.W_OK | os.X_OK):
            raise PermissionError(f"W&B directory {root} is not writable")
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT") or "assay",
            name=title,
            dir=str(root),
            config=config,
            tags=[kind],
            job_type=kind,
            settings=settings,
            reinit="create_new",
        )
        self.run.define_metric("progress/scored")
        self.run.define_metric("running/*", step_metric="progress/scored")
        self.run.define_metric("progress/requests")
        self.run.define_metric("requests/*", step_metric="progress/requests")
        self.running = Running()

    def observe(self, event: Any) -> None:
        self.running.observe(event)
        if self.running.due():
            self.run.log(self.running.point())

    def finish(self, event: Any, run: Any) -> None:
        from assay.report import build_report

        if self.running.pending:
            self.run.log(self.running.point())
        run.flush()  # RunFinished is in the log before the report is folded from it
        report = build_report(run.log_path, run.plugins, workers=1)
        self.run.summary.update(report_metrics(report))
        for section, _where, figures in perf_points(report):
            self.run.log({f"{section}/{k}": v for k, v in figures.items()})
        columns, rows = report_table(report)
        if rows:
            self.run.log({"report": self.wandb.Table(columns=columns, data=rows)})
        path = Path(self.run.dir) / "report.json"
        path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
        self.run.save(str(path), base_path=self.run.dir, policy="now")
        self.run.finish(exit_code=0 if status_of(event) == "completed" else 1)


_RUNS = PerRun(Tracker)
observe = _RUNS.observe
