"""What experiment-tracker plugins (assay-wandb, assay-swanlab, assay-mlflow) share: their hooks, the
switch, and the figures they log, folded from the event stream.

A tracker is an ``assay_event`` observer that is off unless ``$ASSAY_TRACKERS`` (a comma list) names it;
``--visualizer NAME`` on ``assay eval`` / ``assay perf`` adds to that variable (EvalScope's switch).
It logs the run's config (secrets removed), running figures while samples are scored (at most one
point per ``$ASSAY_TRACKER_INTERVAL`` seconds, default 2; ``0``: one per scored sample), and at the end
the report folded from the log, the same as ``assay report`` prints.
"""

from __future__ import annotations

import os
import sys
import time
import weakref
from collections.abc import Callable
from typing import Any

from assay import hookimpl

DEFAULT_INTERVAL = 2.0
COMMANDS = frozenset({"eval", "perf"})  # the commands that take the trackers' flags
_ORDER = ("wandb", "swanlab", "mlflow")  # as --visualizer's help lists them (EvalScope's); others after
_KEY_FLAGS: dict[str, str] = {}  # tracker -> the dest of its key flag (--NAME-api-key)
_VISUALIZER: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()  # parser -> its --visualizer


def _ordered(names: Any) -> list[str]:
    return sorted(names, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))


def add_options(parser: Any, name: str, key_help: str = "") -> None:
    """Tracker ``name``'s flags on an argparse ``parser``: ``name`` among the choices of ``--visualizer`` (EvalScope's
    switch, which every installed tracker shares: the first adds it) and, given ``key_help``, ``--NAME-api-key``."""
    action = _VISUALIZER.get(parser)
    if action is None:
        action = _VISUALIZER[parser] = parser.add_argument("--visualizer", nargs="+", choices=[], metavar="TRACKER")
    action.choices = sorted({*action.choices, name})
    action.help = (
        f"log the run to experiment trackers: {', '.join(_ordered(action.choices))} (adds them to $ASSAY_TRACKERS)"
    )
    if key_help:
        _KEY_FLAGS[name] = parser.add_argument(f"--{name}-api-key", help=key_help).dest


def switch_on(args: Any) -> None:
    """Add to ``$ASSAY_TRACKERS`` the trackers that ``--visualizer`` names and those whose key flag is given.
    Each tracker plugin calls it with the parsed flags; calls after the first change nothing."""
    names = list(getattr(args, "visualizer", None) or [])
    names += [n for n in _ordered(_KEY_FLAGS) if getattr(args, _KEY_FLAGS[n], None) and n not in names]
    if names:
        on = [t.strip() for t in os.environ.get("ASSAY_TRACKERS", "").split(",") if t.strip()]
        os.environ["ASSAY_TRACKERS"] = ",".join(dict.fromkeys(on + names))


class TrackerHooks:
    """The hooks of a tracker plugin, written once: its package binds them as module attributes,

        _hooks = TrackerHooks("mlflow", __name__ + ".tracker")
        assay_event, assay_options, assay_option_values = _hooks.assay_event, _hooks.assay_options, ...

    ``assay_event`` hands each event to ``observe(event, run)`` of ``tracker`` (a module path), imported
    when a run starts with ``name`` switched on (a tracker's SDK is slow to import) and not consulted
    otherwise; ``assay eval`` and ``assay perf`` get ``--visualizer NAME`` and, given ``key_help``,
    ``--NAME-api-key``, whose value ``use_key(key)`` puts where the SDK reads it (never in an event: it is
    remembered as a secret)."""

    def __init__(
        self, name: str, tracker: str, key_help: str = "", use_key: Callable[[str], None] | None = None
    ) -> None:
        self.name, self.tracker, self.key_help, self.use_key = name, tracker, key_help, use_key

    @hookimpl
    def assay_event(self, event: Any, run: Any) -> None:
        if event.type in ("RunStarted", "RunResumed"):
            if not enabled(self.name):
                return
        elif self.tracker not in sys.modules:
            return  # no run is tracked: the tracker module is imported when a tracked run starts (issue 18)
        from importlib import import_module

        import_module(self.tracker).observe(event, run)

    @hookimpl
    def assay_options(self, command: str, parser: Any) -> None:
        if command in COMMANDS:
            add_options(parser, self.name, self.key_help)

    @hookimpl
    def assay_option_values(self, command: str, args: Any) -> None:
        """``--visualizer NAME`` or ``--NAME-api-key``: ``$ASSAY_TRACKERS`` names the tracker."""
        if command not in COMMANDS:
            return
        key = getattr(args, f"{self.name}_api_key", None)
        if key and self.use_key is not None:
            from assay.redact import remember

            remember({f"{self.name}_api_key": key})
            self.use_key(key)
        switch_on(args)


def enabled(name: str) -> bool:
    """Whether ``$ASSAY_TRACKERS`` names the tracker ``name``."""
    return name in {t.strip().lower() for t in os.environ.get("ASSAY_TRACKERS", "").split(",")}


def interval() -> float:
    try:
        return max(0.0, float(os.environ.get("ASSAY_TRACKER_INTERVAL", DEFAULT_INTERVAL)))
    except ValueError:
        return DEFAULT_INTERVAL


def run_config(body: Any, run: Any) -> dict[str, Any]:
    """The run's config as a tracker shows it: what the user gave, with every secret removed (the log
    already has them out; removed again here so that a config from elsewhere cannot bring one in)."""
    from assay.redact import redact_secrets

    config = dict(redact_secrets(getattr(body, "config", None) or {}))
    resolved = redact_secrets(getattr(body, "resolved", None) or {})
    model = resolved.get("model_id") or resolved.get("model") or config.get("model")
    out = {k: v for k, v in config.items() if v not in (None, "", [], {})}
    out.update(
        {
            "kind": getattr(body, "kind", None) or "eval",
            "model": model,
            "seed": getattr(body, "seed", None),
            "assay_version": getattr(body, "assay_version", None),
            "run_id": run.run_id,
            "run_dir": str(run.run_dir),
        }
    )
    return {k: v for k, v in out.items() if v is not None}


def run_start(event: Any, run: Any) -> tuple[dict[str, Any], str, str]:
    """What a tracker opens its run with, from the run's first event: (config, kind, display name). A run
    resumed (``RunResumed``) brings no config: its id and directory, kind ``eval``, the name marked resumed."""
    resumed = event.type == "RunResumed"
    config = {"run_id": run.run_id, "run_dir": str(run.run_dir)} if resumed else run_config(event.body, run)
    return config, config.get("kind", "eval"), run.run_id + (" (resumed)" if resumed else "")


def key(*parts: Any) -> str:
    return "/".join(str(p) for p in parts)


class Running:
    """Progress of a run as its events arrive: samples loaded, scored and failed, the running mean of
    each ``<dataset>/<subset>/<metric>``; requests timed (eval and perf) with the mean latency and TTFT
    of the current perf point (``requests/parallel``...; an eval's requests are one point). ``due()``
    says when to log a point."""

    def __init__(self) -> None:
        self.loaded = 0
        self.failed = 0
        self.scored: set[str] = set()
        self.sums: dict[str, list[float]] = {}
        self.requests = 0
        self.request_errors = 0
        self.point_key: dict[str, Any] | None = None
        self.request_sums: dict[str, list[float]] = {}  # of the current perf point (eval: the whole run)
        self.point_figures: dict[str, Any] = {}
        self.every = interval()
        self.last = 0.0
        self.pending = False

    def observe(self, event: Any) -> None:
        t, b = event.type, event.body
        if t == "SampleLoaded":
            self.loaded += 1
        elif t == "SampleFailed" and getattr(b, "final", True):
            self.failed += 1
            self.pending = True
        elif t == "Scored":
            bench = b.benchmark or b.sample_id.split("/", 1)[0]
            acc = self.sums.setdefault(key(bench, b.subset, b.metric), [0.0, 0])
            acc[0] += b.value
            acc[1] += 1
            self.scored.add(b.sample_id)
            self.pending = True
        elif t == "RequestTimed" and b.phase == "measure":
            self.request(b)

    def request(self, b: Any) -> None:
        point = b.point or {}
        if point != self.point_key:  # a new perf sweep point: its own means
            self.point_key, self.request_sums = point, {}
            self.point_figures = {f"requests/{k}": v for k, v in point.items() if isinstance(v, int | float)}
        self.requests += 1
        self.pending = True
        if not b.ok:
            self.request_errors += 1
            return
        figures = {"latency_s": b.end - b.sent}
        if b.first_byte is not None:
            figures["ttft_s"] = b.first_byte - b.sent
        for k, v in figures.items():
            acc = self.request_sums.setdefault(k, [0.0, 0])
            acc[0] += v
            acc[1] += 1

    def due(self) -> bool:
        """A new point is there to log, and the last was logged at least the interval ago."""
        if not self.pending or time.monotonic() - self.last < self.every:
            return False
        self.last = time.monotonic()
        self.pending = False
        return True

    def point(self) -> dict[str, float]:
        out: dict[str, float] = {
            "progress/loaded": self.loaded,
            "progress/scored": len(self.scored),
            "progress/failed": self.failed,
        }
        for k, (total, n) in self.sums.items():
            out[f"running/{k}"] = total / n
        if self.requests:
            out["progress/requests"] = self.requests
            out["progress/request_errors"] = self.request_errors
            out.update(self.point_figures)
            for k, (total, n) in self.request_sums.items():
                out[f"requests/{k}_mean"] = total / n
        return out


def report_metrics(report: dict[str, Any]) -> dict[str, float]:
    """The report's figures, flat: ``<dataset>/<subset>/<metric>`` (the score: an errored sample counts
    as 0 unless --ignore-errors) with ``.../num``, ``errored_samples``, ``samples_loaded``, and each perf
    point's throughput and latency percentiles (``perf/parallel_8_number_100/ttft_s_p99``)."""
    out: dict[str, float] = {}
    for r in report.get("rows", []):
        if r.get("score") is not None:
            k = key(r["dataset"], r["subset"], r["metric"])
            out[k] = r["score"]
            out[f"{k}/num"] = r.get("num") or 0
    for k in ("errored_samples", "samples_loaded", "judge_failures"):
        if report.get(k) is not None:
            out[k] = report[k]
    for section, where, figures in perf_points(report):
        for name, value in figures.items():
            out[key(section, where, name)] = value
    return out


def perf_points(report: dict[str, Any]) -> list[tuple[str, str, dict[str, float]]]:
    """Each perf point of the report: (section, ``parallel_8_number_100``, its figures)."""
    out = []
    for name, section in (report.get("sections") or {}).items():
        points = section.get("points", []) if isinstance(section, dict) else []
        for pt in points:
            if not isinstance(pt, dict) or not isinstance(pt.get("point"), dict):
                continue
            where = "_".join(f"{k}_{v}" for k, v in pt["point"].items() if v is not None) or "all"
            figures: dict[str, float] = {}
            for k, v in pt["point"].items():
                if isinstance(v, int | float) and not isinstance(v, bool):
                    figures[k] = v
            for k in ("request_throughput", "output_token_throughput", "total_token_throughput"):
                if isinstance(pt.get(k), int | float):
                    figures[k] = pt[k]
            for stat in ("ttft_s", "tpot_s", "itl_s", "e2e_latency_s"):
                for q, v in (pt.get(stat) or {}).items():
                    if q != "n" and isinstance(v, int | float):
                        figures[f"{stat}_{q}"] = v
            out.append((name, where, figures))
    return out


def report_table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The report's score table: columns and rows, as ``assay report`` shows them."""
    columns = ["dataset", "subset", "metric", "score", "num"]
    rows = [[r.get(c) for c in columns] for r in report.get("rows", [])]
    return columns, rows


def status_of(event: Any) -> str:
    return getattr(event.body, "status", None) or "completed"


class PerRun:
    """A tracker object per run of this process: made at ``RunStarted`` / ``RunResumed`` by
    ``factory(event, run)``, handed every later event (``.observe(event)``), finished and dropped at
    ``RunFinished`` (``.finish(event, run)``). One copy of the dispatch every tracker plugin needs."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.trackers: dict[str, Any] = {}

    def observe(self, event: Any, run: Any) -> None:
        t = event.type
        if t in ("RunStarted", "RunResumed"):
            self.trackers[run.run_id] = self.factory(event, run)
            return
        tracker = self.trackers.get(run.run_id)
        if tracker is None:
            return
        if t == "RunFinished":
            del self.trackers[run.run_id]
            tracker.finish(event, run)
        else:
            tracker.observe(event)
