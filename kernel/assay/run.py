"""A run as plugins see it: a directory, a single log writer, event dispatch."""

from __future__ import annotations

import inspect
import os
import platform
import socket
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .events import Body, Event, Warning_
from .log import LOG_NAME, LogWriter
from .plugins import Observer, PluginHost
from .redact import Scrubber, redact_argv, remember, scrub, visible


def new_run_id() -> str:
    # secrets.token_hex(3) is os.urandom(3).hex(); the secrets module would import hmac and OpenSSL (start-up)
    return time.strftime("%Y%m%d_%H%M%S") + "_" + os.urandom(3).hex()


def host_facts() -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "pid": os.getpid(),
        "argv": redact_argv(sys.argv),
        "cpus": os.cpu_count(),
    }


def _calls(observers: list[Observer]) -> tuple[tuple[Observer, Any], ...]:
    """Each observer with what to call per event: its function itself for the usual ``(event, run)``
    signature (no wrapper frame per event: issue 18)."""
    return tuple((o, o.function if o.argnames == ("event", "run") else o) for o in observers)


class Run:
    """Implements :class:`assay.api.RunContext` for one run directory."""

    def __init__(
        self, run_dir: Path, run_id: str, config: Any, plugins: PluginHost, *, fsync_interval: float = 1.0
    ) -> None:
        self.run_dir = run_dir
        self.run_id = run_id
        self.config = config
        self.plugins = plugins
        # every event is scrubbed of the config's secret values before it is written (or dispatched)
        self.scrubber = Scrubber(remember(config))
        self.writer = LogWriter(run_dir / LOG_NAME, run_id, fsync_interval=fsync_interval, scrubber=self.scrubber)
        self._observers = plugins.observers()
        self._calls = _calls(self._observers)
        self._observed = bool(self._observers)
        self._awaiting: list[Any] = []
        # samples with a SampleFailed appended by this process: `assay eval` exits 3 on them even when no
        # eval reporter is installed to fold the log (see assay.lifecycle)
        self.failed_samples: set[str] = set()
        # work for the runner to do while it waits on the model: ``idle_work(blocks) -> bool`` (the end of
        # the run's report, folded ahead: assay.lifecycle.fold_while_idle), False once there is none
        self.idle_work: Callable[[int], bool] | None = None

    @property
    def log_path(self) -> Path:
        return self.writer.path

    def emit(self, body: Body) -> Event:
        return self.emit_many([body])[0]

    def emit_many(self, bodies: Iterable[Body]) -> list[Event]:
        events = self.writer.append_many(bodies)
        for ev in events:
            if ev.type == "SampleFailed":
                self.failed_samples.add(ev.body.sample_id)  # type: ignore[attr-defined]
        if self._observed:
            for ev in events:
                self._observe(ev)
        return events

    def _observe(self, ev: Event) -> None:
        """Call each ``assay_event`` observer; one that raises is named, recorded and switched off."""
        for obs, call in self._calls:
            try:
                result = call(ev, self)
            except Exception as exc:  # noqa: BLE001 - an observer's bug must not end the run
                self._observer_failed(obs, ev, exc)
                continue
            if result is not None and inspect.isawaitable(result):
                self._awaiting.append((obs, ev, result))

    def _observer_failed(self, obs: Observer, ev: Event, exc: BaseException) -> None:
        if obs not in self._observers:
            return
        self._observers.remove(obs)  # first, so the warning below is not dispatched to it
        self._calls = _calls(self._observers)
        self.warn(
            f"plugin {obs.plugin}",
            f"assay_event observer of plugin {obs.plugin!r} ({obs.distribution}) raised "
            f"{type(exc).__name__}: {exc} on event seq {ev.seq} ({ev.type}); it is switched off for this run",
        )

    def warn(self, source: str, message: str) -> None:
        body = self.emit(Warning_(source=source, message=message)).body
        print(f"warning [{visible(source)}]: {visible(scrub(body.message))}", file=sys.stderr)

    async def drain_observers(self) -> None:
        while self._awaiting:
            pending, self._awaiting = self._awaiting, []
            for obs, ev, aw in pending:
                try:
                    await aw
                except Exception as exc:  # noqa: BLE001 - as in _observe
                    self._observer_failed(obs, ev, exc)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
