"""No silent failure: exit statuses, fail-fast on a systematic error, interruption by signals.

Exit statuses of ``assay eval`` and ``assay resume`` (documented in the README):

- 0: the run completed and every sample was evaluated;
- 1: the run failed (stopped early on a systematic error, or an unexpected error);
- 2: the command was wrong (a bad flag, config or data file; nothing was evaluated);
- 3: the run completed but some samples errored (the report says why);
- 128 + the signal number when interrupted: 130 (Ctrl-C, SIGINT), 143 (SIGTERM), 129 (SIGHUP).
"""

from __future__ import annotations

import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from .api import AssayError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ERRORS = 3

# Errors that retrying cannot fix and that hit every request alike: nothing listens at the URL
# (after the retries), the key is refused, the model or the path does not exist. A 400 is left out:
# it is often about one sample (a prompt longer than the context).
SYSTEMATIC = {"connection", "auth", "not_found"}
FAIL_FAST_SAMPLES = 3

_HINTS = {
    "connection": "check --api-url and that the server is up",
    "auth": "check --api-key (or $ASSAY_API_KEY)",
    "not_found": "check --model (a name the server serves) and --api-url (usually ending in /v1)",
}


class RunFailed(AssayError):
    """The run stopped early: continuing could only produce more of the same error."""

    exit_code = EXIT_FAILED


def error_kind(exc: BaseException) -> str:
    """The kind of a generation failure, named as in ``RequestTimed.error_kind``."""
    kind = getattr(exc, "kind", None)
    if kind:
        return str(kind)
    if isinstance(exc, TimeoutError):
        return "timeout"
    return type(exc).__name__


class FailureWatch:
    """Stops a run whose first samples all fail for the same systematic reason.

    The rule: until some sample has been generated, if ``FAIL_FAST_SAMPLES`` samples in a row
    (or every sample, when the run has fewer) fail, after their retries, with the same error
    kind of :data:`SYSTEMATIC` and the same HTTP status, :class:`RunFailed` is raised. After the
    first success the watch is off: later errors are counted and reported, the run goes on.
    """

    def __init__(self, total: int | None) -> None:
        # total: None while samples are still being loaded (an eval streams them)
        self.needed = max(1, min(FAIL_FAST_SAMPLES, total)) if total is not None else FAIL_FAST_SAMPLES
        self.succeeded = False
        self.streak: tuple[str, Any] | None = None
        self.count = 0

    def success(self) -> None:
        self.succeeded = True

    def finished(self, total: int) -> None:
        """Every sample was sent: a run with fewer samples than the streak, all failed alike, failed too."""
        if not self.succeeded and total and self.count == total and self.streak[0] in SYSTEMATIC:
            raise self._stopped(self._last)

    def failure(self, exc: BaseException) -> None:
        if self.succeeded:
            return
        self._last = exc
        key = (error_kind(exc), getattr(exc, "status", None))
        if key != self.streak:
            self.streak, self.count = key, 0
        self.count += 1
        if key[0] in SYSTEMATIC and self.count >= self.needed:
            raise self._stopped(exc)

    def _stopped(self, exc: BaseException) -> RunFailed:
        url = getattr(exc, "url", None)
        hint = _HINTS.get(error_kind(exc))
        return RunFailed(
            f"the run stopped: its first {self.count} sample(s) all failed the same way and none succeeded: "
            + (f"{url}: " if url else "")
            + str(exc)
            + (f"; {hint}" if hint else "")
        )


def mark_resumable(exc: BaseException, run_dir: Path | str) -> None:
    """Attach the command that finishes the run to the exception that ended it (the CLI prints it)."""
    try:
        exc.assay_resume = f"assay resume {shlex.quote(str(run_dir))}"  # type: ignore[attr-defined]
    except AttributeError:
        pass


def print_resume_hint(exc: BaseException, when: str = "") -> None:
    command = getattr(exc, "assay_resume", None)
    if command and command not in str(exc):  # a message that already says how to finish is not repeated
        print(f"to finish this run{when}: {command}", file=sys.stderr)


# ---- signals ---------------------------------------------------------------------

_received: list[int] = []


def _on_signal(signum: int, frame: Any) -> None:
    # Behave exactly as Ctrl-C does: the SIGINT handler in place (asyncio's runner cancels the
    # main task, then raises KeyboardInterrupt; outside a loop it raises KeyboardInterrupt here).
    _received.append(signum)
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    else:
        raise KeyboardInterrupt


def install_signal_handlers() -> None:
    """Treat SIGTERM and SIGHUP like Ctrl-C (the run is recorded as interrupted).

    A signal that is ignored (``nohup`` ignores SIGHUP) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, _on_signal)


def interrupted_exit_code() -> int:
    """128 + the number of the signal that interrupted the run (SIGINT when it was Ctrl-C)."""
    return 128 + (_received[0] if _received else signal.SIGINT)


def signal_name() -> str:
    return signal.Signals(_received[0]).name if _received else "SIGINT"
