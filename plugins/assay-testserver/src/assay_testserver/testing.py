"""Helpers for tests that run the real ``assay`` CLI in a subprocess and read what it wrote.

One copy for the kernel's end-to-end tests and every plugin's (they all depend on the test server):

- :func:`assay` runs ``python -m assay ARGS`` and checks its exit status exactly, :func:`assay_popen` starts
  it (for a test that watches or kills it), :func:`own_lines` is its stderr without other plugins' warnings;
- :func:`serve` / :func:`server_processes` run the test server in a process of its own;
- :func:`run_dir_of` is the run directory the command announced, :func:`run_dirs` those of a work dir;
- :func:`events` / :func:`bodies` read ``events.jsonl`` with the json module (not assay's reader),
  :func:`wait_for_events` waits for a running command's log to hold some;
- :func:`report_items` / :func:`report_rows` / :func:`section` read ``assay report --format json``;
- :func:`no_network` keeps the subprocesses of a test off the network and off this environment's settings;
- :func:`table_cells` reads the cells of a Rich table a command printed;
- :func:`main_eval` runs ``assay eval`` in this process and reads its report, :func:`served_eval` runs it
  against a served model (the test server);
- :func:`cli_eval` runs one eval and reads its report, :func:`rows_by` keys a report's rows;
- :func:`fake_hf_cache` / :func:`cli_eval_hub` run an eval offline against a Hugging Face cache;
- :func:`ray_start` / :func:`stop_trees` start a local Ray node and stop processes with their descendants.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "assay",
    "assay_popen",
    "bodies",
    "cli_eval",
    "cli_eval_hub",
    "events",
    "fake_hf_cache",
    "main_eval",
    "no_network",
    "own_lines",
    "ray_start",
    "report_items",
    "report_rows",
    "rows_by",
    "run_dir_of",
    "run_dirs",
    "section",
    "serve",
    "served_eval",
    "server_processes",
    "session_members",
    "stop_trees",
    "table_cells",
    "wait_for_events",
]

_TAIL = 3000  # characters of stdout / stderr shown when the exit status is not the expected one


def _environ(env: Mapping[str, str | None] | None) -> dict[str, str]:
    """This process's environment with ``env`` added (a value None removes the variable)."""
    out = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def assay(
    *args: str,
    check: int | Iterable[int] | bool | None = 0,
    timeout: float = 300,
    env: Mapping[str, str | None] | None = None,
    **run: Any,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m assay ARGS`` (``env`` added to this process's environment, None removing a variable;
    ``run``: more of ``subprocess.run``'s arguments, e.g. ``preexec_fn``).

    ``check``: the exit status expected (an int, or several), True for 0; None or False for any.
    """
    proc = subprocess.run(
        [sys.executable, "-m", "assay", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_environ(env),
        check=False,
        **run,
    )
    if check is True:
        check = 0
    if check is not None and check is not False:
        codes = (check,) if isinstance(check, int) else tuple(check)
        if proc.returncode not in codes:
            raise AssertionError(
                f"assay {' '.join(args)}: exit {proc.returncode}, expected {' or '.join(map(str, codes))}\n"
                f"{proc.stdout[-_TAIL:]}\n{proc.stderr[-_TAIL:]}"
            )
    return proc


def assay_popen(
    *args: str,
    env: Mapping[str, str | None] | None = None,
    prefix: Iterable[str] = (),
    **popen: Any,
) -> subprocess.Popen[str]:
    """Start ``python -m assay ARGS`` (after ``prefix``, e.g. ``nohup``; ``env`` as for :func:`assay`) and
    return the process: stdout and stderr piped as text unless ``popen`` says otherwise."""
    popen = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **popen}
    return subprocess.Popen([*prefix, sys.executable, "-m", "assay", *args], env=_environ(env), **popen)


def served_eval(
    url: str, work_dir: Path, *args: str, model: str | None = "m", **kw: Any
) -> subprocess.CompletedProcess[str]:
    """``assay eval --model MODEL --api-url URL ARGS --work-dir WORK_DIR --no-progress`` (``model`` None: no
    ``--model``; ``kw`` as for :func:`assay`: by default exit 0 expected)."""
    named = ["--model", model] if model is not None else []
    return assay("eval", *named, "--api-url", url, *args, "--work-dir", str(work_dir), "--no-progress", **kw)


def own_lines(stderr: str) -> list[str]:
    """The lines of a command's stderr without the import warnings of broken plugins that another test
    or this environment installed (``warning: assay plugin ...``)."""
    return [line for line in stderr.splitlines() if not line.startswith("warning: assay plugin ")]


def serve(
    *flags: str, prefix: Iterable[str] = (), stderr: int | None = subprocess.STDOUT, **settings: Any
) -> tuple[subprocess.Popen[str], str]:
    """Start ``python -m assay_testserver --port 0 FLAGS`` in a process of its own (after ``prefix``, e.g.
    ``taskset -c 0``) and return (the process, its base URL ``http://127.0.0.1:PORT/v1``) once it listens.

    ``settings`` are flags too: ``ttft=0.05`` is ``--ttft 0.05``, ``no_usage=True`` is ``--no-usage`` (False
    or None: left out), a dict or list is given as JSON (``faults={"http_500": [1]}``). Its first line of
    output (stderr with stdout, unless ``stderr`` is None: this process's) must say where it listens;
    stop it with ``terminate()``."""
    for key, value in settings.items():
        if value is None or value is False:
            continue
        flags += (f"--{key.replace('_', '-')}",)
        if value is not True:
            flags += (json.dumps(value) if isinstance(value, dict | list) else str(value),)
    cmd = [*prefix, sys.executable, "-m", "assay_testserver", "--port", "0", *flags]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True)
    first = proc.stdout.readline()  # type: ignore[union-attr]
    if not first.startswith("listening on "):
        proc.kill()
        said = first + proc.communicate()[0]
        raise RuntimeError(f"test server did not start (exit {proc.returncode}): {said[-_TAIL:]!r}")
    return proc, first.split("listening on ", 1)[1].strip()


@contextlib.contextmanager
def server_processes() -> Iterator[Any]:
    """A factory of test servers in processes of their own, all stopped on exit (a fixture's body):
    ``url = start("--ttft", "0.05", itl=0.01)`` takes :func:`serve`'s arguments and returns the base URL."""
    procs: list[subprocess.Popen[str]] = []

    def start(*flags: str, **settings: Any) -> str:
        proc, url = serve(*flags, **settings)
        procs.append(proc)
        return url

    try:
        yield start
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)


def run_dir_of(proc: subprocess.CompletedProcess[str]) -> Path:
    """The run directory a command announced on stderr (``run directory: PATH``)."""
    m = re.search(r"run directory: (\S+)", proc.stderr)
    assert m, proc.stderr[-2000:]
    return Path(m.group(1))


def run_dirs(work_dir: Path) -> list[Path]:
    """The run directories of a work dir (those holding a log), sorted."""
    return sorted(p for p in Path(work_dir).iterdir() if (p / "events.jsonl").exists())


def events(run: Path, type_: str | None = None, *, whole: bool = False) -> list[dict[str, Any]]:
    """The events of a run (its directory or its ``events.jsonl``), optionally of one type.

    Every complete line is decoded (a broken one fails the test); an unterminated last line (a torn
    tail, left by a killed writer) is not an event and is skipped, as the kernel's reader does; with
    ``whole`` (a run that ended) there must be none."""
    path = Path(run)
    if path.is_dir():
        path = path / "events.jsonl"
    *lines, torn = path.read_text(encoding="utf-8").split("\n")
    assert not (whole and torn), f"{path}: a torn last line: {torn[:200]!r}"
    out = [json.loads(line) for line in lines]
    return [e for e in out if type_ is None or e["type"] == type_]


def wait_for_events(
    work_dir: Path,
    type_: str,
    count: int = 1,
    proc: subprocess.Popen[str] | None = None,
    timeout: float = 60,
) -> tuple[Path, list[dict[str, Any]]]:
    """Wait until the run directory of ``work_dir`` (the first, as :func:`run_dirs` sorts them) holds at
    least ``count`` events of ``type_``; return (the run directory, those events). Fails when ``timeout``
    seconds pass first, or when ``proc`` (the command writing it) exits first (its stderr shown if piped)."""
    deadline = time.monotonic() + timeout
    while True:
        runs = run_dirs(work_dir) if Path(work_dir).is_dir() else []
        found = events(runs[0], type_) if runs else []
        if len(found) >= count:
            return runs[0], found
        if proc is not None and proc.poll() is not None:
            said = proc.stderr.read()[-_TAIL:] if proc.stderr else ""
            raise AssertionError(f"assay exited with {proc.returncode} before {count} {type_} events: {said}")
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {count} {type_} events under {work_dir} in {timeout} s")
        time.sleep(0.02)


def bodies(run: Path, type_: str) -> list[dict[str, Any]]:
    """The bodies of a run's events of one type."""
    return [e["body"] for e in events(run, type_)]


def report_items(run: Path, check: int | Iterable[int] = (0, 3)) -> list[dict[str, Any]]:
    """The items of ``assay report RUN --format json`` (table rows and reporter sections).

    ``check``: the exit status expected; by default 0 (every sample evaluated) or 3 (completed with errored
    samples, which the rows count)."""
    return json.loads(assay("report", str(run), "--format", "json", check=check).stdout)


def report_rows(run_dir: Path, sections: bool = False) -> list[dict[str, Any]]:
    """The table's rows of ``assay report --format json`` (with ``sections``, the reporters' items too)."""
    items = report_items(run_dir)
    return items if sections else [i for i in items if "reporter" not in i]


def section(items: list[dict[str, Any]], reporter: str) -> dict[str, Any]:
    """The JSON section of one reporter among a report's items (there must be exactly one)."""
    (found,) = [i["section"] for i in items if i.get("reporter") == reporter]
    return found


def no_network(monkeypatch: Any, drop: tuple[str, ...] = (), **settings: str) -> None:
    """For the ``assay`` subprocesses of a test (through pytest's ``monkeypatch``): the variables of this
    environment whose names start with one of ``drop`` removed, ``settings`` set, and every proxied
    request sent to a closed local port, so an attempt to reach the network fails at once (a hang is a
    failure) while the loopback test server stays reachable."""
    for key in list(os.environ):
        if key.startswith(drop):
            monkeypatch.delenv(key)
    closed = "http://127.0.0.1:9"
    local = "127.0.0.1,localhost"
    for key, value in {"HTTP_PROXY": closed, "HTTPS_PROXY": closed, "NO_PROXY": local, "no_proxy": local}.items():
        monkeypatch.setenv(key, value)
    for key, value in settings.items():
        monkeypatch.setenv(key, value)


def table_cells(out: str, title: str) -> list[list[str]]:
    """The cells of the body rows of the first Rich table printed in ``out`` after the line that holds
    ``title`` (the start of its title: a long title wraps), each stripped; the header row comes first."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if title in line)
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith(("┃", "│")):
            rows.append([c.strip() for c in line.strip()[1:-1].split(line[0])])
        elif line.startswith("└"):
            return rows
    raise AssertionError(f"no table after {title!r} in:\n{out[-_TAIL:]}")


def main_eval(work_dir: Path, *args: str) -> tuple[Path, Any]:
    """``assay eval ARGS --work-dir WORK_DIR --no-progress`` in this process (``assay.cli.main``, exit 0
    expected); return (the one run directory of ``work_dir``, its ``report.json``)."""
    from assay.cli import main

    code = main(["eval", *args, "--work-dir", str(work_dir), "--no-progress"])
    assert code == 0, f"assay eval {' '.join(args)}: exit {code}, expected 0"
    (run,) = run_dirs(work_dir)
    return run, json.loads((run / "report.json").read_text(encoding="utf-8"))


def cli_eval(
    dataset: str,
    *,
    api_url: str | None,
    datasets_dir: Path,
    work_dir: Path,
    limit: int | None = None,
    dataset_args: dict[str, Any] | None = None,
    extra: list[str] | None = None,
) -> tuple[Path, Any]:
    """Run one eval through the CLI (exit 0 expected); return (run directory, ``assay report --format json``).

    Without ``api_url`` the kernel's ``mock`` model answers (it gives log-likelihoods)."""
    args = ["eval", "--model", "test-model" if api_url else "mock", "--datasets", dataset]
    args += ["--dataset-dir", str(datasets_dir), "--work-dir", str(work_dir), "--no-progress"]
    if api_url:
        args += ["--api-url", api_url, "--api-key", "EMPTY"]
    if limit is not None:
        args += ["--limit", str(limit)]
    if dataset_args:
        args += ["--dataset-args", json.dumps({dataset: dataset_args})]
    args += extra or []
    run_dir = run_dir_of(assay(*args, timeout=120, env=_ONE_THREAD))
    return run_dir, json.loads(assay("report", str(run_dir), "--format", "json", timeout=120, env=_ONE_THREAD).stdout)


_ONE_THREAD = {"OMP_NUM_THREADS": "1"}


def rows_by(report: Any, metric: str = "acc") -> dict[tuple[str, str], dict[str, Any]]:
    """Report rows of one metric keyed by (category, subset); ``report`` is the row list
    ``assay report --format json`` prints or a report dict with "rows"."""
    rows = report["rows"] if isinstance(report, dict) else report
    return {
        (r["category"], r["subset"]): r for r in rows if r.get("metric") == metric
    }  # report sections have no metric


def fake_hf_cache(cache: Path, repo_id: str, files: dict[str, Path]) -> Path:
    """Lay out a Hugging Face hub cache holding one dataset snapshot (``files``: path in the repo ->
    source file) and return the snapshot folder. With ``HF_HUB_OFFLINE=1 HF_HUB_CACHE=cache`` the
    kernel's hub download (``huggingface_hub.snapshot_download``) resolves ``repo_id`` to it."""
    import shutil

    repo = cache / ("datasets--" + repo_id.replace("/", "--"))
    commit = "0123456789abcdef0123456789abcdef01234567"
    snap = repo / "snapshots" / commit
    for rel, src in files.items():
        (snap / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, snap / rel)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    return snap


def cli_eval_hub(dataset: str, hub: str, cache: Path, work_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``assay eval --datasets DATASET --dataset-hub HUB`` (mock model) with no local files, offline,
    the Hugging Face cache at ``cache``; returns the finished process (not checked)."""
    env = {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache), "OMP_NUM_THREADS": "1", "ASSAY_DATA_DIR": None}
    args = ["eval", "--datasets", dataset, "--dataset-hub", hub, "--work-dir", str(work_dir), "--no-progress"]
    return assay(*args, *extra, check=None, env=env, timeout=120)


def gsm8k_rules(datasets_dir: Path, right: Iterable[bool]) -> list[dict[str, str]]:
    """Test-server rules for the first GSM8K test questions (one per entry of ``right``): the gold answer
    where ``right`` says so, ``#### 0`` (wrong) otherwise."""
    right = list(right)
    rows: list[dict[str, Any]] = []
    with open(Path(datasets_dir) / "gsm8k" / "test.jsonl", encoding="utf-8") as f:
        for line in f:
            if len(rows) == len(right):
                break
            rows.append(json.loads(line))
    return [
        {"match": r["question"], "answer": "#### " + (r["answer"].rsplit("####", 1)[1].strip() if ok else "0")}
        for r, ok in zip(rows, right)
    ]


def ray_start(*flags: str, log: Path, env: dict[str, str], own_session: bool = True, timeout: float = 120):
    """``ray start --block FLAGS``, its output to ``log``; returns the process once the log says the node
    started. Run by this interpreter (``python -m ray.scripts.scripts``): Ray starts its workers with the
    Python that ran ``ray start``, so the actors import this checkout's assay. ``own_session``: in a session
    (and process group) of its own, which a reaper process watches (:func:`session_members`): when this
    process ends however it ends (a finished run, Ctrl-C, SIGTERM, an xdist worker killed with SIGKILL)
    without :func:`stop_trees`, the reaper stops every process of that session, the node's raylet and
    workers included, and nothing else. RuntimeError with the log's tail when it exits first or after
    ``timeout`` seconds (the node stopped)."""
    argv = [sys.executable, "-m", "ray.scripts.scripts", "start", "--block", *flags]
    with open(log, "w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=own_session)
    if own_session:
        _watch_session(proc)
    deadline = time.monotonic() + timeout
    while "Ray runtime started" not in Path(log).read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            said = (
                "exited with " + str(proc.returncode) if proc.poll() is not None else f"did not come up in {timeout} s"
            )
            stop_trees([proc])
            raise RuntimeError(f"ray start {said}: {Path(log).read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    return proc


def session_members(sid: int) -> list[int]:
    """The live processes (zombies left out) of session ``sid``, from /proc."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()  # (the command in parentheses may hold anything)
        except (OSError, IndexError):
            continue  # gone meanwhile
        if len(fields) > 3 and int(fields[3]) == sid and fields[0] not in (b"Z", b"X"):
            found.append(int(name))
    return found


# The reaper: blocks on a pipe whose only writer is the test process, so EOF comes when that process closes it
# (stop_trees) or dies, however. Then SIGTERM to the session's leader (`ray start --block` stops its node on
# it; to all when it is gone), to the rest of the session after 15 s and SIGKILL after 25 s. Meanwhile, every 2 s, it leaves once the
# session has no process left: a session id is only reused after that.
_REAPER_MAIN = """
import os, select, signal, sys, time
sid, me = int(sys.argv[1]), os.getpid()
def alive():
    return [p for p in session_members(sid) if p != me]
while not select.select([0], [], [], 2.0)[0]:
    if not alive():
        sys.exit(0)
start = time.monotonic()
sent = {}
while alive() and time.monotonic() - start < 30:
    late = time.monotonic() - start
    pids = alive()
    for pid in pids:
        first = pid == sid or sid not in pids  # the leader, or everyone once the leader is gone
        sig = signal.SIGKILL if late > 25 else signal.SIGTERM if first or late > 15 else None
        if sig is not None and sent.get(pid) != sig:
            try:
                os.kill(pid, sig)
                sent[pid] = sig
            except OSError:
                pass
    time.sleep(0.1)
"""
_reapers: dict[int, tuple[subprocess.Popen[bytes], int]] = {}  # session leader's pid -> (reaper, pipe's writer)


def _watch_session(proc: subprocess.Popen[Any]) -> None:
    import inspect

    read, write = os.pipe()  # (neither end is inherited by other children: Python's pipes are non-inheritable)
    code = inspect.getsource(session_members) + _REAPER_MAIN
    try:
        reaper = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", code, str(proc.pid)],
            stdin=read,
            stdout=subprocess.DEVNULL,
            start_new_session=True,  # not in the test's process group: Ctrl-C does not end it
        )
    finally:
        os.close(read)
    _reapers[proc.pid] = (reaper, write)


def stop_trees(procs: list[subprocess.Popen[Any]]) -> None:
    """Stop processes and all their descendants (a Ray node's raylet, workers, ...): SIGTERM, the last first
    (``ray start --block`` cleans up on it), 15 s, then SIGKILL to what is left of each family. Without
    psutil, each process's group, where it leads one."""
    try:
        import psutil
    except ImportError:
        for p in reversed(procs):
            try:
                if os.getpgid(p.pid) == p.pid:
                    os.killpg(p.pid, 15)
                else:
                    p.terminate()
            except ProcessLookupError:
                pass
        for p in procs:
            p.wait(30)
        _release_reapers(procs)
        return
    family: list[Any] = []
    for p in procs:
        try:
            root = psutil.Process(p.pid)
            family += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
    _gone, alive = psutil.wait_procs(family, timeout=5)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    _release_reapers(procs)


def _release_reapers(procs: list[subprocess.Popen[Any]]) -> None:
    """Close each process's reaper pipe: it stops what is left of the session (a worker the family missed),
    and ends."""
    for p in procs:
        reaper, write = _reapers.pop(p.pid, (None, -1))
        if reaper is None:
            continue
        os.close(write)
        try:
            reaper.wait(40)
        except subprocess.TimeoutExpired:
            reaper.kill()
            reaper.wait()
