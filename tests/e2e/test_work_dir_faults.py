"""A work dir that is read-only or full: one error naming the path, exit 2, nothing lost, resume finishes.

File systems are real: a tmpfs of a few pages, mounted (and remounted read-only or larger) in a private
mount namespace (`unshare -rm`, no root needed where user namespaces are enabled); where that is not
available, the file size limit RLIMIT_FSIZE of the `assay` process makes the same write fail (EFBIG).
"""

from __future__ import annotations

import re
import resource
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from helpers import assay, report_rows
from assay_testserver.testing import events as _events

pytestmark = pytest.mark.slow  # starts `assay` subprocesses

N = 30
# sizes of the log of this run (gsm8k, 30 samples, 4-shot): ~84 KB once every SampleLoaded is written,
# ~115 KB at the end; a 96 KiB file system fills during generation
FULL_AT = 96 * 1024


def _can_unshare() -> bool:
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _eval_args(url: str, datasets_dir: Path, work: Path) -> list[str]:
    return [
        *("eval", "--model", "m", "--api-url", url, "--datasets", "gsm8k", "--limit", str(N)),
        *("--dataset-dir", str(datasets_dir), "--work-dir", str(work), "--no-progress"),
    ]


def _check_failed_then_resumed(stderr: str, run: Path, before: list[dict]) -> None:
    log = run / "events.jsonl"
    assert "Traceback" not in stderr
    why = r"(No space left on device \[ENOSPC\]|File too large \[EFBIG\])"
    assert re.search(
        rf"^error: cannot write the event log {re.escape(str(log))}: {why}\. Nothing written before is lost: "
        rf"free space \(or make it writable\), then finish the run with `assay resume {re.escape(str(run))}`$",
        stderr.splitlines()[-1],
    ), stderr
    kinds = Counter(e["type"] for e in before)
    assert kinds["SampleLoaded"] == N and 0 < kinds["Scored"] < N and kinds["RunFinished"] == 0
    after = _events(log)
    assert after[: len(before)] == before, "what was written before the failure is kept as it was"
    for kind in ("SampleLoaded", "Generated", "Scored"):
        per = Counter(e["body"]["sample_id"] for e in after if e["type"] == kind)
        assert len(per) == N and set(per.values()) == {1}, kind  # each sample once: nothing lost, nothing twice
    assert [e["seq"] for e in after] == list(range(len(after)))
    assert after[-1]["type"] == "RunFinished" and after[-1]["body"].get("status", "completed") == "completed"
    (row,) = report_rows(run)
    assert (row["num"], row["errors"], row["score"]) == (N, 0, 0.0)


@pytest.mark.skipif(not _can_unshare(), reason="needs user+mount namespaces (unshare -rm)")
def test_full_file_system_then_resume(tmp_path, datasets_dir, test_server) -> None:
    srv = test_server(default_answer="#### 0")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    py = shlex.quote(sys.executable)
    run_glob = f"{mnt}/runs/*"
    script = f"""
        mount -t tmpfs -o size={FULL_AT} tmpfs {mnt}
        {py} -m assay {" ".join(map(shlex.quote, _eval_args(srv.url, datasets_dir, mnt / "runs")))} 2> {out}/eval.err
        echo $? > {out}/eval.rc
        cp {run_glob}/events.jsonl {out}/before.jsonl
        echo {run_glob} > {out}/run
        mount -o remount,size=4m {mnt}
        {py} -m assay resume {run_glob} > /dev/null 2> {out}/resume.err
        echo $? > {out}/resume.rc
        cp -r {run_glob} {out}/run_after
    """
    subprocess.run(["unshare", "-rm", "sh", "-c", script], check=True, timeout=300)
    assert (out / "eval.rc").read_text() == "2\n"
    assert (out / "resume.rc").read_text() == "0\n", (out / "resume.err").read_text()
    before = _events(out / "before.jsonl")
    run_in_ns = Path((out / "run").read_text().strip())
    stderr = (out / "eval.err").read_text().replace(str(run_in_ns), str(out / "run_after"))
    _check_failed_then_resumed(stderr, out / "run_after", before)


def test_file_size_limit_then_resume(tmp_path, datasets_dir, test_server) -> None:
    srv = test_server(default_answer="#### 0")
    work = tmp_path / "runs"

    def limit() -> None:  # in the child: its files may not grow past FULL_AT bytes
        resource.setrlimit(resource.RLIMIT_FSIZE, (FULL_AT, FULL_AT))

    proc = assay(*_eval_args(srv.url, datasets_dir, work), check=2, preexec_fn=limit)
    (run,) = list(work.iterdir())
    before = _events(run / "events.jsonl")
    assert (run / "events.jsonl").stat().st_size == FULL_AT  # filled up to the limit, the last line torn
    assay("resume", str(run))
    _check_failed_then_resumed(proc.stderr, run, before)


@pytest.mark.skipif(not _can_unshare(), reason="needs user+mount namespaces (unshare -rm)")
def test_read_only_work_dir(tmp_path, datasets_dir, test_server) -> None:
    srv = test_server(default_answer="#### 0")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    py = shlex.quote(sys.executable)
    script = f"""
        mount -t tmpfs -o size=1m tmpfs {mnt} && mount -o remount,ro {mnt}
        {py} -m assay {" ".join(map(shlex.quote, _eval_args(srv.url, datasets_dir, mnt / "runs")))}
    """
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert re.fullmatch(
        rf"error: cannot write the run directory {re.escape(str(mnt))}/runs/\d{{8}}_\d{{6}}_[0-9a-f]{{6}}: "
        r"Read-only file system \[EROFS\]\. Choose a writable --work-dir with free space \(nothing was written\)\n",
        proc.stderr,
    ), proc.stderr
    assert srv.requests == []
