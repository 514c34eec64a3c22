"""A run's life, written once: directory and id, ``RunStarted``, ``RunFinished``, the report.

Every command that writes a run (eval, resume, rescore, perf, the speed benchmark) does::

    with RunLifecycle(plugins, config, work_dir=..., name=...) as life:
        life.start(kind="perf", config=..., resolved=..., seed=...)
        ...  # emit through life.run
    report = life.report

On leaving the block the run gets its ``RunFinished`` whatever happened: ``completed``, or
``interrupted`` (Ctrl-C) / ``failed`` with the error, which then propagates; a completed run's
report is folded from the log and written as ``report.json``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from . import __version__
from .api import AssayError
from .events import PluginInfo, RunFinished, RunStarted
from .failures import mark_resumable, signal_name
from .log import LOG_NAME
from .plugins import PluginHost
from .redact import visible
from .run import Run, host_facts, new_run_id

__all__ = ["RunLifecycle", "finish_status", "fold_while_idle"]

_OFF = "off"  # the report's folds are not fed while the run waits (see RunLifecycle._fold_written)
_IDLE_BLOCK = 1 << 16  # what one block of that feeding reads: ~1 ms of folding for an eval's report
_IDLE_TICK = 0.01  # s between two looks at the process's CPU
_IDLE_SHARE = 0.5  # a tick is idle when less than this share of it went to CPU
_IDLE_BLOCKS = 2  # blocks fed after an idle tick


def finish_status(exc: BaseException | None) -> str:
    if exc is None:
        return "completed"
    return "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"


class RunLifecycle:
    """Owns one run from its directory to its report (a context manager).

    A new run: ``work_dir`` (and ``name``, else a fresh run id); a directory that already
    holds a log is refused. An existing run (``resume``): ``run_dir`` and ``run_id``.
    """

    def __init__(
        self,
        plugins: PluginHost,
        config: Any,
        *,
        work_dir: str | Path | None = None,
        name: str | None = None,
        run_dir: str | Path | None = None,
        run_id: str | None = None,
        fsync_interval: float = 1.0,
        report: bool = True,
        resumable: bool = False,
    ) -> None:
        if run_dir is None:
            if work_dir is None:
                raise TypeError("RunLifecycle needs work_dir (a new run) or run_dir (an existing one)")
            run_id = name or new_run_id()
            run_dir = Path(work_dir) / run_id
            if (run_dir / LOG_NAME).exists():
                raise AssayError(f"{run_dir} already holds a run; choose another --name")
        self.plugins = plugins
        self.config = config
        self.run_dir = Path(run_dir)
        self.run_id = run_id or self.run_dir.name
        self.fsync_interval = fsync_interval
        self.want_report = report
        self.resumable = resumable  # an unfinished run's error says how to finish it (assay resume)
        self.report: dict[str, Any] | None = None
        self.status: str | None = None
        self._before_finish: list[Callable[[], None]] = []
        self._run: Run | None = None
        self._t0 = 0.0
        self._early: Any = None  # the report's folds, fed while the run waits (ReportFolds), or _OFF

    @property
    def run(self) -> Run:
        if self._run is None:
            raise RuntimeError("the run is open only inside its `with` block")
        return self._run

    def __enter__(self) -> RunLifecycle:
        self._run = Run(self.run_dir, self.run_id, self.config, self.plugins, fsync_interval=self.fsync_interval)
        if self.want_report:
            self._run.idle_work = self._fold_written
        self._t0 = time.perf_counter()
        return self

    def _fold_written(self, blocks: int) -> bool:
        """Feed the report's folds ``blocks`` blocks (at most) of what the log writer has written (the run's
        ``idle_work``: see :func:`fold_while_idle`); False once they cannot be fed before the end (the report
        is then folded from the whole log, as without this)."""
        if self._early is _OFF:
            return False
        run = self.run
        if not run.writer.written:
            return True  # not even RunStarted yet
        try:
            if self._early is None:
                from .report import ReportFolds

                self._early = ReportFolds(run.log_path, self.plugins, workers=1, files=True)
            self._early.feed(run.writer.written, block=_IDLE_BLOCK, blocks=blocks)
        except Exception:  # noqa: BLE001 - the end folds the whole log again, and reports what is wrong
            self._early = _OFF
            return False
        return True

    def start(self, *, kind: str, announce: bool = True, **fields: Any) -> None:
        """Emit ``RunStarted``; plugins, host and assay version are filled in."""
        self.run.emit(
            RunStarted(
                kind=kind,
                plugins=[
                    PluginInfo(distribution=p["distribution"], version=p["version"], entry_point=p["entry_point"])
                    for p in self.plugins.versions()
                ],
                host=host_facts(),
                assay_version=__version__,
                **fields,
            )
        )
        if announce:
            print(f"run directory: {visible(self.run_dir)}", file=sys.stderr)

    def before_finish(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` before ``RunFinished`` is written (e.g. flush buffered events)."""
        self._before_finish.append(fn)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        run = self.run
        failure = exc
        for fn in self._before_finish:
            try:
                fn()
            except BaseException as late:  # noqa: BLE001 - recorded in RunFinished, then raised
                failure = failure or late
        self.status = finish_status(failure)
        if failure is None:
            error = None
        elif isinstance(failure, KeyboardInterrupt):
            error = f"interrupted by {signal_name()}"  # Ctrl-C, SIGTERM or SIGHUP
        else:
            error = f"{type(failure).__name__}: {failure}"
        run.emit(RunFinished(status=self.status, duration=time.perf_counter() - self._t0, error=error))
        run.close()
        if failure is not None and self.resumable:
            mark_resumable(failure, self.run_dir)
        if failure is not None and exc is None:
            raise failure
        if exc is None and self.want_report:
            from .report import build_report, write_files, write_report

            # in-process, after a run whose backend may hold threads: no forking here
            folded: dict[str, Any] = {}  # the file reporters' folds, made in the report's one read of the log
            early = self._early if self._early is not _OFF else None
            self.report = build_report(run.log_path, self.plugins, workers=1, folded=folded, started=early)
            if "errored_samples" not in self.report and run.failed_samples:  # no eval reporter folded the log
                n = len(run.failed_samples)
                self.report["errored_samples"] = n  # the exit status: 3 (assay.cli)
                self.report.setdefault("warnings", []).append(
                    f"{n} sample{'s' * (n != 1)} errored in this run: their SampleFailed events are in {run.log_path}"
                )
            write_report(self.run_dir, self.report)
            write_files(self.run_dir, self.report, self.plugins, folded)  # report.html...


async def fold_while_idle(run: Run) -> None:
    """While a run waits on its model, feed its report's folds what the log holds (``run.idle_work``), so
    that its end folds only the rest: after each tick of ``_IDLE_TICK`` s in which this process used less
    than ``_IDLE_SHARE`` of it in CPU (feeding excluded), ``_IDLE_BLOCKS`` blocks. A process whose CPU is
    busy (a fast server, many streams) feeds nothing until its requests thin out."""
    import anyio

    work = run.idle_work
    if work is None:
        return
    wall, cpu = time.perf_counter(), time.process_time()
    while True:
        await anyio.sleep(_IDLE_TICK)
        now, used = time.perf_counter(), time.process_time()
        if used - cpu < _IDLE_SHARE * (now - wall) and not work(_IDLE_BLOCKS):
            return
        wall, cpu = time.perf_counter(), time.process_time()
