"""Each assay run becomes one MLflow run, fed from the event stream.

- RunStarted (or RunResumed): an MLflow run named after the assay run, in experiment
  ``$MLFLOW_EXPERIMENT_NAME`` (default ``assay``), tagged with the run id, directory and kind; params are
  the model, datasets, limit, seed and kind (never the config whole: it is the user's, keys included).
- Scored: the running mean of each ``<dataset>/<subset>/<metric>`` as it arrives, step = samples scored
  so far, sent in batches by a background thread (the run never waits on MLflow).
- RunFinished: the report folded from the log (the same as ``assay report``): each row's score as
  ``<dataset>/<subset>/<metric>`` at step = its Num (errored samples counted as 0 unless
  --ignore-errors), ``errored_samples``, ``samples_loaded``; for perf runs each point's throughput and
  latency percentiles; ``report.json`` as an artifact; the MLflow run ends FINISHED, FAILED or KILLED.

A failure of MLflow itself raises in the observer: the kernel names it in a Warning event and on stderr
and switches the observer off; the assay run and its scores are unaffected.
"""

from __future__ import annotations

import os
import queue
import re
import threading
import time
from typing import Any

_STATUS = {"completed": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}
_trackers: dict[str, Tracker] = {}


def metric_name(*parts: Any) -> str:
    """MLflow allows letters, digits, ``_ - . /`` and spaces in names."""
    return "/".join(re.sub(r"[^\w\-. ]", "_", str(p)) for p in parts)


class Tracker:
    def __init__(self, event: Any, run: Any) -> None:
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient()
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or "assay"
        exp = self.client.get_experiment_by_name(name)
        exp_id = exp.experiment_id if exp is not None else self.client.create_experiment(name)
        b = event.body
        kind = getattr(b, "kind", None) or "eval"
        self.mlflow_run = self.client.create_run(
            exp_id,
            run_name=run.run_id + (" (resumed)" if event.type == "RunResumed" else ""),
            tags={"assay.run_id": run.run_id, "assay.run_dir": str(run.run_dir), "assay.kind": kind},
        )
        self.id = self.mlflow_run.info.run_id
        if event.type == "RunStarted":
            resolved = b.resolved or {}
            config = b.config or {}
            params = {
                "kind": kind,
                "model": resolved.get("model_id") or resolved.get("model") or config.get("model"),
                "datasets": ",".join(config.get("datasets") or []),
                "limit": config.get("limit"),
                "seed": b.seed,
                "assay_version": b.assay_version,
            }
            from mlflow.entities import Param

            self.client.log_batch(
                self.id, params=[Param(k, str(v)[:500]) for k, v in params.items() if v not in (None, "")]
            )
        self.sums: dict[str, list[float]] = {}
        self.queue: queue.Queue[Any] = queue.Queue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._send, name=f"mlflow-{run.run_id}", daemon=True)
        self.thread.start()

    def scored(self, b: Any) -> None:
        bench = b.benchmark or b.sample_id.split("/", 1)[0]
        key = metric_name(bench, b.subset, b.metric)
        acc = self.sums.setdefault(key, [0.0, 0])
        acc[0] += b.value
        acc[1] += 1
        self.queue.put((key, acc[0] / acc[1], int(acc[1])))

    def _send(self) -> None:
        from mlflow.entities import Metric

        done = False
        while not done:
            items = [self.queue.get()]
            time.sleep(0.2)  # gather what arrives meanwhile into one request
            while True:
                try:
                    items.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            done = items[-1] is None
            metrics = [Metric(k, v, int(time.time() * 1000), step) for k, v, step in (i for i in items if i)]
            try:
                for start in range(0, len(metrics), 1000):
                    self.client.log_batch(self.id, metrics=metrics[start : start + 1000])
            except Exception as exc:  # noqa: BLE001 - raised in the observer at the end of the run
                self.error = exc
                return

    def finish(self, event: Any, run: Any) -> None:
        self.queue.put(None)
        self.thread.join(timeout=120)
        if self.error is not None:
            raise self.error
        from assay.report import build_report
        from mlflow.entities import Metric

        run.flush()  # RunFinished is in the log before the report is folded from it
        report = build_report(run.log_path, run.plugins, workers=1)
        now = int(time.time() * 1000)
        metrics: list[Metric] = []
        for r in report.get("rows", []):
            if r.get("score") is not None:
                metrics.append(Metric(metric_name(r["dataset"], r["subset"], r["metric"]), r["score"], now, r["num"]))
        for k in ("errored_samples", "samples_loaded"):
            if k in report:
                metrics.append(Metric(k, float(report[k]), now, 0))
        for name, section in (report.get("sections") or {}).items():
            for pt in (section or {}).get("points", []) if isinstance(section, dict) else []:
                where = "_".join(f"{k}_{v}" for k, v in pt["point"].items() if v is not None) or "all"
                for k in ("request_throughput", "output_token_throughput", "total_token_throughput"):
                    if pt.get(k) is not None:
                        metrics.append(Metric(metric_name(name, where, k), pt[k], now, 0))
                for stat in ("ttft_s", "tpot_s", "itl_s", "e2e_latency_s"):
                    for q, v in (pt.get(stat) or {}).items():
                        if q != "n" and v is not None:
                            metrics.append(Metric(metric_name(name, where, f"{stat}_{q}"), v, now, 0))
        for start in range(0, len(metrics), 1000):
            self.client.log_batch(self.id, metrics=metrics[start : start + 1000])
        self.client.log_dict(self.id, report, "report.json")
        self.client.set_terminated(self.id, status=_STATUS.get(event.body.status, "FINISHED"))


def observe(event: Any, run: Any) -> None:
    t = event.type
    if t in ("RunStarted", "RunResumed"):
        _trackers[run.run_id] = Tracker(event, run)
        return
    tracker = _trackers.get(run.run_id)
    if tracker is None:
        return
    if t == "Scored":
        tracker.scored(event.body)
    elif t == "RunFinished":
        del _trackers[run.run_id]
        tracker.finish(event, run)
