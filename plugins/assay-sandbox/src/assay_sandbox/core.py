"""Run an untrusted program with limits and report what it did.

The ``bwrap`` backend runs ``prlimit`` (rlimits) -> ``setpriv`` (drop to an unprivileged uid:
as root, bubblewrap does not enforce RLIMIT_NPROC) -> ``bwrap`` (new user, PID, network, IPC,
UTS and mount namespaces; read-only /usr; a size-capped tmpfs as /tmp and working directory;
fresh /proc and /dev; an empty environment; killed with its parent) -> the program.

Concurrent executions are bounded by a process-wide pool sized to the cores, and each slot of
the pool runs under its own uid, so the process limit of one execution (a fork bomb) does not
starve the others.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from assay.events import Executed
from assay.redact import visible

MiB = 1 << 20
TIME = "/usr/bin/time"

VERDICTS = ("passed", "failed", "timeout", "memory", "output_limit", "killed", "sandbox_error")


@attrs.define
class Limits:
    """What one execution may use. ``cpu`` defaults to the wall-clock timeout rounded up, plus one."""

    timeout: float = 10.0  # wall clock, seconds
    cpu: int | None = None  # CPU seconds (RLIMIT_CPU)
    memory: int = 2048 * MiB  # address space (RLIMIT_AS)
    nproc: int = 32  # processes/threads of the sandbox's uid (RLIMIT_NPROC)
    fsize: int = 16 * MiB  # largest file written, stdout and stderr included (RLIMIT_FSIZE)
    nofile: int = 64  # open files (RLIMIT_NOFILE)
    tmpfs: int = 64 * MiB  # size of the private /tmp
    tail: int = 4096  # bytes of stdout/stderr kept in the event

    def cpu_seconds(self) -> int:
        return self.cpu if self.cpu is not None else int(self.timeout) + 1

    def as_dict(self) -> dict[str, Any]:
        d = attrs.asdict(self)
        d["cpu"] = self.cpu_seconds()
        return d

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> Limits:
        known = {f.name for f in attrs.fields(cls)}
        opts = dict(options or {})
        unknown = set(opts) - known
        if unknown:
            raise ValueError(f"unknown sandbox limits: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        return cls(**opts)


@attrs.define
class Execution:
    """What one execution did."""

    backend: str
    verdict: str
    reason: str | None
    limits: dict[str, Any]
    exit_code: int | None = None
    signal: int | None = None
    duration: float = 0.0
    cpu_time: float | None = None
    peak_memory: int | None = None
    stdout: str = ""  # tail
    stderr: str = ""  # tail
    stdout_bytes: int = 0
    stderr_bytes: int = 0

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    def event(self, sample_id: str, tests: str = "") -> Executed:
        return Executed(
            sample_id=sample_id,
            backend=self.backend,
            verdict=self.verdict,
            reason=self.reason,
            tests=tests,
            limits=self.limits,
            exit_code=self.exit_code,
            signal=self.signal,
            duration=self.duration,
            cpu_time=self.cpu_time,
            peak_memory=self.peak_memory,
            stdout_tail=self.stdout,
            stderr_tail=self.stderr,
            stdout_bytes=self.stdout_bytes,
            stderr_bytes=self.stderr_bytes,
        )


class SandboxUnavailable(RuntimeError):
    """The backend cannot run on this machine (the message says why and what to do)."""


# ---- the pool ----------------------------------------------------------------


class _Pool:
    """At most ``size`` executions at once; each holds a slot number (its uid offset)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.free: queue.Queue[int] = queue.Queue()
        for i in range(size):
            self.free.put(i)

    def acquire(self) -> int:
        return self.free.get()

    def release(self, slot: int) -> None:
        self.free.put(slot)


_pool_lock = threading.Lock()
_pool: _Pool | None = None


def pool() -> _Pool:
    """The process-wide execution pool: ``ASSAY_SANDBOX_WORKERS`` slots, default the number of cores."""
    global _pool
    with _pool_lock:
        if _pool is None:
            size = int(os.environ.get("ASSAY_SANDBOX_WORKERS") or 0) or (os.cpu_count() or 1)
            _pool = _Pool(max(1, size))
        return _pool


# ---- running and classifying ---------------------------------------------------


def _tail(path: Path, n: int) -> tuple[str, int]:
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size > n:
            f.seek(size - n)
        data = f.read(n)
    return data.decode("utf-8", "replace"), size


def _exception_of(stderr: str) -> str | None:
    """The exception type of a Python traceback's last line (``AssertionError``), if any."""
    for line in reversed(stderr.strip().splitlines()):
        line = line.strip()
        if not line:
            continue
        head = line.split(":", 1)[0].strip()
        if head.replace(".", "").replace("_", "").isalnum() and head[:1].isupper() and " " not in head:
            return head[:80]
        return None
    return None


def classify(
    exit_code: int | None,
    sig: int | None,
    stderr: str,
    timed_out: bool,
    *,
    cpu_exceeded: bool = False,
    output_capped: bool = False,
) -> tuple[str, str | None]:
    """The verdict of one execution and why.

    The program runs as PID 1 of its namespace, where the kernel's SIGXCPU and SIGXFSZ are
    ignored: the CPU limit ends it with SIGKILL at the hard limit, and a write past the file
    size limit fails with EFBIG, so both are recognised by what was used.
    """
    if timed_out:
        return "timeout", "wall-clock limit"
    if sig == signal.SIGXCPU or (cpu_exceeded and sig == signal.SIGKILL):
        return "timeout", "CPU time limit"
    if sig == signal.SIGXFSZ:
        return "output_limit", "file size limit (SIGXFSZ)"
    if output_capped and exit_code != 0:
        return "output_limit", "file size limit (stdout/stderr or a file reached it)"
    if sig is not None:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return "killed", f"signal {name}"
    if exit_code == 0:
        return "passed", None
    exc = _exception_of(stderr)
    if exc == "MemoryError":
        return "memory", "MemoryError (address-space limit)"
    return "failed", exc or f"exit status {exit_code}"


class _Base:
    name = "?"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        opts = dict(options or {})
        self.python = opts.pop("python", None) or self.default_python()
        self.uid_base = int(opts.pop("uid_base", 0) or 0)
        if opts:
            raise ValueError(f"{self.name}: unknown options {', '.join(sorted(opts))}")

    def uid_of(self, slot: int) -> int:
        """The uid a pool slot runs as: its own, and not another harness process's (256 slots per process)."""
        return self.uid_base + (os.getpid() % 16384) * 256 + slot % 256

    @staticmethod
    def default_python() -> str:
        # the system interpreter, not the harness's (its venv and site-packages stay out of reach)
        for cand in ("/usr/bin/python3", "/usr/local/bin/python3"):
            if os.access(cand, os.X_OK):
                return cand
        return shutil.which("python3") or "python3"

    def available(self) -> str | None:
        return None

    def execute_python(self, source: str, *, stdin: bytes = b"", limits: Limits | None = None) -> Execution:
        return self.execute({"main.py": source}, [self.python, "main.py"], stdin=stdin, limits=limits)

    def execute(
        self, files: Mapping[str, str | bytes], argv: list[str], *, stdin: bytes = b"", limits: Limits | None = None
    ) -> Execution:
        """Run ``argv`` with ``files`` in its code directory. Never raises for the program's faults."""
        limits = limits or Limits()
        p = pool()
        slot = p.acquire()
        try:
            with tempfile.TemporaryDirectory(prefix="assay-sbx-") as tmp:
                return self._execute(Path(tmp), files, argv, stdin, limits, slot)
        except SandboxUnavailable as exc:
            return Execution(self.name, "sandbox_error", str(exc), limits.as_dict())
        except OSError as exc:
            return Execution(self.name, "sandbox_error", f"{type(exc).__name__}: {exc}", limits.as_dict())
        finally:
            p.release(slot)

    def _command(self, code_dir: Path, argv: list[str], limits: Limits, slot: int) -> tuple[list[str], str]:
        raise NotImplementedError

    @staticmethod
    def _timer() -> list[str]:
        """GNU time, where installed, as the program's parent inside the sandbox: it measures the program's own
        peak memory (the harness's maxrss is inherited by every process it spawns, so wait4 cannot)."""
        if os.access(TIME, os.X_OK):
            return [TIME, "-f", "assay-rusage %M", "-o", "{rusage_path}"]
        return []

    def _prlimit(self, limits: Limits) -> list[str]:
        nproc = limits.nproc
        if os.geteuid() != 0:
            # RLIMIT_NPROC counts every process of the real uid: not root, the program shares this user's
            # uid, so its budget comes on top of what the user already runs
            nproc += _processes_of(os.getuid())
        return [
            shutil.which("prlimit") or "prlimit",
            f"--as={limits.memory}",
            f"--cpu={limits.cpu_seconds()}",
            f"--nproc={nproc}",
            f"--fsize={limits.fsize}",
            f"--nofile={limits.nofile}",
            "--core=0",
            "--",
        ]

    def _execute(
        self, tmp: Path, files: Mapping[str, str | bytes], argv: list[str], stdin: bytes, limits: Limits, slot: int
    ) -> Execution:
        code_dir = tmp / "code"
        code_dir.mkdir()
        for name, content in files.items():
            target = code_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
            target.chmod(0o644)
        for d in (tmp, code_dir):
            d.chmod(0o755)
        (tmp / "stdin").write_bytes(stdin)
        cmd, status_mode = self._command(code_dir, argv, limits, slot)
        status_r, status_w = os.pipe()
        rusage_r, rusage_w = os.pipe()
        os.fchmod(rusage_w, 0o622)  # GNU time reopens it by path, as the sandbox's uid
        fds = (status_w, rusage_w) if status_mode != "none" else ()
        timed_out = threading.Event()
        started = time.perf_counter()
        with (
            open(tmp / "stdin", "rb") as fin,
            open(tmp / "stdout", "wb") as fout,
            open(tmp / "stderr", "wb") as ferr,
        ):
            try:
                proc = subprocess.Popen(
                    [
                        arg.replace("{status_fd}", str(status_w)).replace("{rusage_path}", f"/proc/self/fd/{rusage_w}")
                        for arg in cmd
                    ],
                    stdin=fin,
                    stdout=fout,
                    stderr=ferr,
                    env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
                    cwd=str(code_dir) if status_mode == "none" else "/",
                    start_new_session=True,
                    pass_fds=fds,
                    close_fds=True,
                )
            finally:
                os.close(status_w)
                os.close(rusage_w)

            status_seen: list[bytes] = []

            def killpg() -> None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

            def kill() -> None:
                timed_out.set()
                # kill the program (PID 1 of its namespace: everything in it dies) and let bwrap reap it,
                # so its CPU time and memory are still measured; the whole group goes a moment later
                os.set_blocking(status_r, False)
                try:
                    status_seen.append(os.read(status_r, 65536))
                except (BlockingIOError, OSError):
                    pass
                child = next(
                    (d["child-pid"] for d in _json_docs(b"".join(status_seen).decode()) if "child-pid" in d), None
                )
                if child is not None:
                    try:
                        os.kill(int(child), signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                    grace.start()
                else:
                    killpg()

            grace = threading.Timer(1.0, killpg)
            grace.daemon = True
            timer = threading.Timer(limits.timeout, kill)
            timer.daemon = True
            timer.start()
            try:
                _, wstatus, usage = os.wait4(proc.pid, 0)
            finally:
                timer.cancel()
                grace.cancel()
            proc.returncode = os.waitstatus_to_exitcode(wstatus)  # keep Popen from waiting again
            # whatever the program left in its session (a daemon outside the PID namespace) goes too
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        duration = time.perf_counter() - started
        os.set_blocking(rusage_r, False)
        try:
            rusage_text = os.read(rusage_r, 65536).decode("utf-8", "replace")
        except (BlockingIOError, OSError):
            rusage_text = ""
        os.close(rusage_r)
        peak: int | None = None
        for line in rusage_text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "assay-rusage" and parts[1].isdigit():
                peak = int(parts[1]) * 1024
        os.set_blocking(status_r, True)
        with os.fdopen(status_r, "rb") as f:
            status = b"".join([*status_seen, f.read()]).decode("utf-8", "replace")
        stdout, out_n = _tail(tmp / "stdout", limits.tail)
        stderr, err_n = _tail(tmp / "stderr", limits.tail)
        exit_code: int | None = None
        sig: int | None = None
        if os.WIFSIGNALED(wstatus):
            sig = os.WTERMSIG(wstatus)
        else:
            exit_code = os.WEXITSTATUS(wstatus)
        if status_mode == "bwrap":
            docs = _json_docs(status)
            # bwrap reports its own failures on one "bwrap: ..." line: before the child started, or its exec
            own_failure = exit_code == 1 and stderr.startswith("bwrap: ") and stderr.count("\n") <= 1
            if (own_failure or not any("child-pid" in d for d in docs)) and not timed_out.is_set():
                return Execution(
                    self.name,
                    "sandbox_error",
                    "bubblewrap did not start the program: " + visible(stderr.strip()[-300:], multiline=False),
                    limits.as_dict(),
                    exit_code=exit_code,
                    signal=sig,
                    duration=duration,
                    stderr=stderr,
                    stderr_bytes=err_n,
                )
            for d in docs:
                if "exit-code" in d:
                    code = int(d["exit-code"])
                    # bwrap's init reports a child killed by signal N as 128 + N
                    if code > 128 and code - 128 in signal.Signals._value2member_map_ and sig is None:
                        sig, exit_code = code - 128, None
                    else:
                        exit_code = code
        if exit_code in (126, 127) and stderr.startswith(f"{TIME}: cannot run ") and stderr.count("\n") <= 1:
            return Execution(
                self.name,
                "sandbox_error",
                "the sandbox could not start the program: " + visible(stderr.strip()[-300:], multiline=False),
                limits.as_dict(),
                exit_code=exit_code,
                duration=duration,
                stderr=stderr,
                stderr_bytes=err_n,
            )
        if status_mode == "unshare" and sig is None and exit_code is not None and exit_code > 128:
            # GNU time (and a shell) report a child killed by signal N as 128 + N
            if exit_code - 128 in signal.Signals._value2member_map_:
                sig, exit_code = exit_code - 128, None
        cpu_time = usage.ru_utime + usage.ru_stime
        last = stderr.rstrip("\n").rsplit("\n", 1)
        if status_mode == "unshare" and last[-1].startswith("unshare: sigprocmask unblock failed"):
            # unshare passes its child's death by a signal on by raising it; SIGKILL it cannot, and says so
            sig, exit_code = signal.SIGKILL.value, None
            stderr = last[0] + "\n" if len(last) == 2 else ""
        if status_mode == "unshare" and not timed_out.is_set():
            setup_failed = exit_code == 121 and "assay-sandbox: setup failed" in stderr
            tool_failed = exit_code in (1, 126, 127) and stderr.startswith(
                ("unshare: ", "setpriv: ", "prlimit: ", "env: ")
            )
            if setup_failed or (tool_failed and stderr.count("\n") <= 1):
                return Execution(
                    self.name,
                    "sandbox_error",
                    "the unshare sandbox did not start the program: " + visible(stderr.strip()[-300:], multiline=False),
                    limits.as_dict(),
                    exit_code=exit_code,
                    duration=duration,
                    stderr=stderr,
                    stderr_bytes=err_n,
                )
        verdict, reason = classify(
            exit_code,
            sig,
            stderr,
            timed_out.is_set(),
            # the kernel enforces RLIMIT_CPU on tick-sampled CPU time, wait4 reports the exact run time: on a loaded
            # host a program SIGKILLed at its 1 s limit was measured at 0.93 s (1 run in 12)
            cpu_exceeded=cpu_time >= 0.8 * limits.cpu_seconds(),
            output_capped=max(out_n, err_n) >= limits.fsize,
        )
        return Execution(
            self.name,
            verdict,
            reason,
            limits.as_dict(),
            exit_code=exit_code,
            signal=sig,
            duration=duration,
            # a program killed at the wall-clock limit is not reaped by its sandbox: its use is unknown
            cpu_time=None if timed_out.is_set() else cpu_time,
            peak_memory=None if timed_out.is_set() else peak,
            stdout=stdout,
            stderr=stderr,
            stdout_bytes=out_n,
            stderr_bytes=err_n,
        )


def _processes_of(uid: int) -> int:
    n = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                n += entry.stat().st_uid == uid
            except OSError:
                pass
    return n


def _json_docs(text: str) -> list[dict[str, Any]]:
    docs = []
    decoder = json.JSONDecoder()
    i = 0
    text = text.strip()
    while i < len(text):
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            break
        if isinstance(obj, dict):
            docs.append(obj)
        i = end
        while i < len(text) and text[i].isspace():
            i += 1
    return docs


class BwrapSandbox(_Base):
    """bubblewrap, run as an unprivileged uid (one per pool slot) when the harness is root."""

    name = "bwrap"
    DEFAULT_UID_BASE = 1_500_000  # uids from 1500000 (no user owns them); nobody (65534) is shared with others
    _checked: dict[str, str | None] = {}

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        opts = dict(options or {})
        opts.setdefault("uid_base", self.DEFAULT_UID_BASE)
        super().__init__(opts)

    def available(self) -> str | None:
        for tool in ("bwrap", "prlimit") + (("setpriv",) if os.geteuid() == 0 else ()):
            if shutil.which(tool) is None:
                pkg = "bubblewrap" if tool == "bwrap" else "util-linux"
                return f"{tool} not found: install it (apt-get install {pkg})"
        key = self.python
        if key not in self._checked:
            probe = self.execute_python("print('ok')", limits=Limits(timeout=10))
            self._checked[key] = (
                None if probe.passed and probe.stdout.strip() == "ok" else f"bwrap probe failed: {probe.reason}"
            )
        return self._checked[key]

    def _binds(self) -> list[str]:
        args = ["--ro-bind", "/usr", "/usr"]
        for top in ("bin", "lib", "lib32", "lib64", "sbin"):
            p = Path("/") / top
            if p.is_symlink():
                args += ["--symlink", os.readlink(p), str(p)]
            elif p.is_dir():
                args += ["--ro-bind", str(p), str(p)]
        py = Path(self.python).resolve()
        root = py.parent.parent  # <prefix>/bin/python3 -> <prefix>; never / or a top-level directory
        if py.is_file() and not str(py).startswith("/usr/") and len(root.parts) >= 3:
            args += ["--ro-bind", str(root), str(root)]
        return args

    def _command(self, code_dir: Path, argv: list[str], limits: Limits, slot: int) -> tuple[list[str], str]:
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable("bwrap not found: install bubblewrap (apt-get install bubblewrap)")
        cmd = self._prlimit(limits)
        if os.geteuid() == 0:
            uid = self.uid_of(slot)
            cmd += [shutil.which("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        cmd += [
            bwrap,
            "--unshare-all",  # ipc, pid, net, uts, cgroup namespaces: no network
            "--unshare-user",
            "--die-with-parent",
            "--new-session",
            "--disable-userns",
            "--as-pid-1",  # the program is PID 1: bwrap reaps it (its rusage is ours); when it ends, all end
            *self._binds(),
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            str(limits.tmpfs),
            "--tmpfs",
            "/dev/shm",
            "--remount-ro",
            "/dev",
            "--size",
            str(limits.tmpfs),
            "--tmpfs",
            "/tmp",
            "--ro-bind",
            str(code_dir),
            "/code",
            "--remount-ro",  # bubblewrap's own root tmpfs: nothing may be written outside /tmp and /dev/shm
            "/",
            "--chdir",
            "/tmp",
            "--clearenv",
            "--setenv",
            "PATH",
            "/usr/bin:/bin",
            "--setenv",
            "HOME",
            "/tmp",
            "--setenv",
            "LANG",
            "C.UTF-8",
            "--setenv",
            "PYTHONDONTWRITEBYTECODE",
            "1",
            "--setenv",
            "PYTHONPATH",
            "/code",
            "--json-status-fd",
            "{status_fd}",
            "--",
            *self._timer(),
            # file arguments are relative to the code directory, mounted at /code
            *[a if i == 0 or os.path.isabs(a) or a.startswith("-") else f"/code/{a}" for i, a in enumerate(argv)],
        ]
        return cmd, "bwrap"


_UNSHARE_SETUP = r"""
fail() { echo "assay-sandbox: setup failed: $1" >&2; exit 121; }
R="$1"; CODE="$2"; SIZE="$3"; shift 3
mount -t tmpfs -o size=4m,mode=755 tmpfs "$R" || fail "tmpfs root"
mkdir "$R/usr" "$R/tmp" "$R/proc" "$R/code" "$R/dev" "$R/dev/shm" "$R/old" || fail mkdir
mount --rbind /usr "$R/usr" && mount -o remount,bind,ro "$R/usr" || fail /usr
for l in bin lib lib32 lib64 sbin; do
  if [ -L "/$l" ]; then ln -s "$(readlink "/$l")" "$R/$l" || fail "/$l"; fi
done
mount --bind "$CODE" "$R/code" && mount -o remount,bind,ro "$R/code" || fail /code
mount -t tmpfs -o "size=$SIZE,mode=1777" tmpfs "$R/tmp" || fail /tmp
mount -t tmpfs -o "size=$SIZE,mode=1777" tmpfs "$R/dev/shm" || fail /dev/shm
for d in null zero urandom random; do
  touch "$R/dev/$d" && mount --bind "/dev/$d" "$R/dev/$d" || fail "/dev/$d"
done
mount -t proc proc "$R/proc" || fail /proc
cd "$R" && pivot_root . old && umount -l /old && rmdir /old || fail pivot_root
mount -o remount,bind,ro / || fail "read-only root"
cd /tmp || fail /tmp
exec setpriv --no-new-privs --inh-caps=-all --bounding-set=-all -- env -i PATH=/usr/bin:/bin HOME=/tmp \
  LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/code "$@"
"""


class UnshareSandbox(_Base):
    """util-linux ``unshare`` where bubblewrap is missing: user, PID, mount, network, IPC and UTS namespaces,
    a new root (read-only /usr and code, private /tmp and /dev/shm, fresh /proc) entered with ``pivot_root``,
    every capability dropped before the program starts, the same rlimits and unprivileged uid as ``bwrap``."""

    name = "unshare"
    DEFAULT_UID_BASE = 1_500_000
    _checked: dict[str, str | None] = {}
    TOOLS = ("unshare", "prlimit", "mount", "umount", "pivot_root", "setpriv")

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        opts = dict(options or {})
        opts.setdefault("uid_base", self.DEFAULT_UID_BASE)
        super().__init__(opts)

    def available(self) -> str | None:
        for tool in self.TOOLS:
            if shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin") is None:
                return f"{tool} not found: install util-linux"
        if self.python not in self._checked:
            probe = self.execute_python("print('ok')", limits=Limits(timeout=10))
            self._checked[self.python] = (
                None if probe.passed and probe.stdout.strip() == "ok" else f"unshare probe failed: {probe.reason}"
            )
        return self._checked[self.python]

    def _command(self, code_dir: Path, argv: list[str], limits: Limits, slot: int) -> tuple[list[str], str]:
        root = code_dir.parent / "root"
        root.mkdir()
        root.chmod(0o755)
        cmd = self._prlimit(limits)
        if os.geteuid() == 0:
            uid = self.uid_of(slot)
            cmd += [shutil.which("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        cmd += [
            shutil.which("unshare") or "unshare",
            "--user",
            "--map-root-user",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount",
            "--net",
            "--ipc",
            "--uts",
            "--",
            "/bin/sh",
            "-c",
            _UNSHARE_SETUP,
            "sh",
            str(root),
            str(code_dir),
            str(limits.tmpfs),
            *self._timer(),
            *[a if i == 0 or os.path.isabs(a) or a.startswith("-") else f"/code/{a}" for i, a in enumerate(argv)],
        ]
        return cmd, "unshare"


class NoSandbox(_Base):
    """No isolation at all: the program runs as this user, with rlimits, a timeout and an empty environment.

    Only for machines where nothing else runs; chosen by its name, never as a fallback.
    """

    name = "unsafe_no_sandbox"

    def _command(self, code_dir: Path, argv: list[str], limits: Limits, slot: int) -> tuple[list[str], str]:
        return [*self._prlimit(limits), *argv], "none"


def get_sandbox(name: str = "auto", options: Mapping[str, Any] | None = None) -> _Base:
    """The sandbox registered as ``name``, ready to run.

    ``auto`` is ``bwrap``, else ``unshare`` where bubblewrap cannot run; where neither can, an error says why.
    Running without a sandbox is never a fallback: only ``unsafe_no_sandbox`` by name does it.
    """
    from assay.api import AssayError
    from assay.plugins import host

    registry = host().sandboxes()
    chosen = ["bwrap", "unshare"] if name in ("auto", "", None) else [name]
    reasons = []
    for candidate in chosen:
        if candidate not in registry:
            if name in ("auto", "", None):
                reasons.append(f"{candidate}: not installed")
                continue
            raise AssayError(f"unknown sandbox {candidate!r}; installed: {', '.join(sorted(registry)) or 'none'}")
        sandbox = registry[candidate].obj(options or {})
        why = sandbox.available()
        if why is None:
            return sandbox
        reasons.append(f"{candidate}: {why}")
    raise AssayError(
        f"no sandbox can run here ({'; '.join(reasons)}). Model-written code is never run unsandboxed "
        "unless you choose sandbox 'unsafe_no_sandbox' explicitly."
    )
