"""assay-wandb in W&B's offline mode, driven by real `assay eval` / `assay perf` subprocesses against the
repo's test server on the real GSM8K file; what W&B wrote is read back from its offline run directory
(the ``run-<id>.wandb`` transaction log, W&B's protobuf records, and the run's files)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

pytest.importorskip("wandb")

from assay_testserver.testing import assay, bodies, events, gsm8k_rules, no_network, run_dirs  # noqa: E402


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """The `assay` subprocesses: no W&B or tracker setting of this environment, W&B offline, no network."""
    no_network(monkeypatch, drop=("WANDB_", "ASSAY_TRACKER"), WANDB_MODE="offline", WANDB_SILENT="true")


def records(path: Path) -> list[tuple[str, object]]:
    """The records of a ``.wandb`` file: a LevelDB-style log (7-byte header, 32 KiB blocks, records
    split FIRST/MIDDLE/LAST), each a ``wandb_internal_pb2.Record``."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    out, pos, block, buf = [], 7, 32768, b""
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if length == 0 and kind == 0:  # zero padding to the block's end
            pos += left
            continue
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 2):
            buf = chunk
        else:
            buf += chunk
        if kind in (1, 4):
            rec = pb.Record()
            rec.ParseFromString(buf)
            which = rec.WhichOneof("record_type")
            out.append((which, getattr(rec, which)))
    return out


class OfflineRun:
    def __init__(self, root: Path) -> None:
        (self.dir,) = root.glob("wandb/offline-run-*")
        (log,) = self.dir.glob("run-*.wandb")
        self.records = records(log)
        (self.run,) = [r for k, r in self.records if k == "run"]
        self.config = {u.key: json.loads(u.value_json) for u in self.run.config.update if u.key != "_wandb"}
        self.summary: dict[str, object] = {}
        for k, r in self.records:
            if k == "summary":
                for u in r.update:
                    self.summary["/".join(u.nested_key) or u.key] = json.loads(u.value_json)
        self.history = [
            {"/".join(i.nested_key) or i.key: json.loads(i.value_json) for i in r.item}
            for k, r in self.records
            if k == "history"
        ]
        (self.exit,) = [r for k, r in self.records if k == "exit"]


def _gsm8k_server(datasets_dir, test_server):
    # 5 GSM8K questions: right, right, wrong, wrong, right; the 4th request answers HTTP 500
    return test_server(rules=gsm8k_rules(datasets_dir, [1, 1, 0, 0, 1]), faults={"http_500": [4]})


def test_eval_run_streams_progress_and_logs_the_report(tmp_path, datasets_dir, test_server):
    srv = _gsm8k_server(datasets_dir, test_server)
    work = tmp_path / "w"
    proc = assay(
        "eval", "--model", "m", "--api-url", srv.url, "--api-key", "sk-secret-wandb-eval-1234", "--datasets", "gsm8k",
        "--limit", "5", "--dataset-dir", str(datasets_dir), "--work-dir", str(work), "--no-progress",
        "--retries", "0", "--eval-batch-size", "1", "--visualizer", "wandb",
        "--wandb-api-key", "wandb-secret-key-0123456789abcdef",
        env={"ASSAY_TRACKER_INTERVAL": "0"}, check=3,
    )  # fmt: skip
    assert "warning [plugin wandb]" not in proc.stderr, proc.stderr
    (run,) = run_dirs(work)
    wb = OfflineRun(run)  # W&B's files went into the run directory
    assert wb.run.project == "assay" and wb.run.display_name == run.name and list(wb.run.tags) == ["eval"]
    cfg = wb.config
    assert (cfg["kind"], cfg["model"], cfg["datasets"], cfg["limit"], cfg["seed"], cfg["run_id"]) == (
        "eval", "m", ["gsm8k"], 5, 42, run.name,
    )  # fmt: skip
    assert "api_key" not in cfg or cfg["api_key"] == "***"
    # one point per scored (or finally failed) sample: sample 4 failed (HTTP 500, no retry)
    points = [
        (h["progress/scored"], h["progress/failed"], h["running/gsm8k/main/acc"])
        for h in wb.history
        if "running/gsm8k/main/acc" in h
    ]
    # (each request timed also makes a point: the same figures, one more request)
    points = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    assert points == [(1, 0, 1.0), (2, 0, 1.0), (3, 0, 2 / 3), (3, 1, 2 / 3), (4, 1, 3 / 4)]
    assert [h["progress/requests"] for h in wb.history if "progress/requests" in h][-1] == 5
    assert [h["progress/request_errors"] for h in wb.history if "progress/requests" in h][-1] == 1
    # the final figures are the report's: 3 right of 5, the errored sample counted as 0
    assert wb.summary["gsm8k/main/acc"] == 3 / 5 and wb.summary["gsm8k/main/acc/num"] == 5
    assert wb.summary["errored_samples"] == 1 and wb.summary["samples_loaded"] == 5
    assert wb.exit.exit_code == 0
    (table,) = wb.dir.glob("files/media/table/report_*.table.json")
    t = json.loads(table.read_text())
    assert t["columns"] == ["dataset", "subset", "metric", "score", "num"]
    assert t["data"] == [["gsm8k", "main", "acc", 0.6, 5]]
    logged = json.loads((wb.dir / "files" / "report.json").read_text())
    assert logged["rows"] == json.loads((run / "report.json").read_text())["rows"]
    # neither key reaches W&B's files (nor the run's own, nor the terminal)
    everything = "".join(p.read_bytes().decode("utf-8", "replace") for p in run.rglob("*") if p.is_file())
    for secret in ("sk-secret-wandb-eval-1234", "wandb-secret-key-0123456789abcdef"):
        assert secret not in everything and secret not in proc.stdout + proc.stderr
    assert "wandb" not in proc.stdout + proc.stderr  # silent: stdout is the report


def test_perf_run_logs_each_point(tmp_path, test_server):
    srv = test_server(ttft=0.01, itl=0.001, default_answer="one two three four")
    wdir = tmp_path / "wandb-files"
    proc = assay(
        "perf", "--url", srv.url, "--model", "m", "--parallel", "1", "2", "--number", "2", "4", "--stream",
        "--work-dir", str(tmp_path / "w"), "--name", "p", "--visualizer", "wandb",
        env={"WANDB_DIR": str(wdir), "WANDB_PROJECT": "perf_benchmark", "ASSAY_TRACKER_INTERVAL": "0"},
    )  # fmt: skip
    assert "warning [plugin wandb]" not in proc.stderr, proc.stderr
    report = json.loads((tmp_path / "w" / "p" / "report.json").read_text())["sections"]["perf"]
    wb = OfflineRun(wdir)
    # while it ran: one point per request, with the mean latency / TTFT of the point it belongs to
    live = [h for h in wb.history if "progress/requests" in h]
    assert [h["progress/requests"] for h in live] == [1, 2, 3, 4, 5, 6]
    assert [h["requests/parallel"] for h in live] == [1, 1, 2, 2, 2, 2]
    timed = [b for b in bodies(tmp_path / "w" / "p", "RequestTimed") if b.get("phase", "measure") == "measure"]
    last = [b for b in timed if b["point"]["parallel"] == 2]
    assert live[-1]["requests/latency_s_mean"] == pytest.approx(sum(b["end"] - b["sent"] for b in last) / 4, rel=1e-9)
    assert live[-1]["requests/ttft_s_mean"] == pytest.approx(
        sum(b["first_byte"] - b["sent"] for b in last) / 4, rel=1e-9
    )
    assert wb.run.project == "perf_benchmark" and wb.run.display_name == "p" and wb.config["kind"] == "perf"
    rows = [h for h in wb.history if "perf/parallel" in h]
    assert [(h["perf/parallel"], h["perf/number"]) for h in rows] == [(1, 2), (2, 4)]
    for pt, row in zip(report["points"], rows, strict=True):
        where = f"parallel_{pt['point']['parallel']}_number_{pt['point']['number']}"
        assert row["perf/request_throughput"] == pt["request_throughput"]
        assert (
            row["perf/ttft_s_p99"] == pt["ttft_s"]["p99"]
            and row["perf/e2e_latency_s_p50"] == pt["e2e_latency_s"]["p50"]
        )
        assert wb.summary[f"perf/{where}/tpot_s_p90"] == pt["tpot_s"]["p90"]
        assert wb.summary[f"perf/{where}/output_token_throughput"] == pt["output_token_throughput"]
    assert wb.exit.exit_code == 0


def test_a_failing_tracker_is_a_warning_and_the_run_goes_on(tmp_path, datasets_dir):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where W&B's directory should be")
    work = tmp_path / "w"
    proc = assay(
        "eval", "--datasets", "gsm8k", "--limit", "2", "--dataset-dir", str(datasets_dir), "--work-dir", str(work),
        "--no-progress", env={"ASSAY_TRACKERS": "wandb", "WANDB_DIR": str(blocked)},
    )  # fmt: skip
    assert "warning [plugin wandb]: assay_event observer of plugin 'wandb' (assay-wandb) raised FileExistsError" in (
        proc.stderr
    )
    (run,) = run_dirs(work)
    evs = events(run)
    (warning,) = [e for e in evs if e["type"] == "Warning"]
    assert "wandb" in warning["body"]["message"] and sum(e["type"] == "Scored" for e in evs) == 2
    assert json.loads((run / "report.json").read_text())["rows"][0]["num"] == 2
    assert not (run / "wandb").exists() and not list(tmp_path.glob("**/offline-run-*"))


def test_off_unless_named_and_points_are_throttled(tmp_path, datasets_dir):
    args = ("eval", "--datasets", "gsm8k", "--limit", "5", "--dataset-dir", str(datasets_dir), "--no-progress")
    assay(*args, "--work-dir", str(tmp_path / "off"), env={"ASSAY_TRACKERS": "tensorboard"})
    (run,) = run_dirs(tmp_path / "off")
    assert not (run / "wandb").exists()
    # the variable alone switches it on; at most one point per interval, and the last at the end
    assay(*args, "--work-dir", str(tmp_path / "on"), env={"ASSAY_TRACKERS": "wandb", "ASSAY_TRACKER_INTERVAL": "60"})
    (run,) = run_dirs(tmp_path / "on")
    points = [h["progress/scored"] for h in OfflineRun(run).history if "progress/scored" in h]
    assert points == [1, 5]


def test_a_resumed_run_is_a_new_wandb_run_named_resumed(tmp_path, datasets_dir):
    work = tmp_path / "w"
    args = ("--datasets", "gsm8k", "--limit", "2", "--dataset-dir", str(datasets_dir), "--work-dir", str(work))
    assay("eval", *args, "--no-progress", env={"ASSAY_TRACKERS": "wandb"})
    (run,) = run_dirs(work)
    proc = assay("resume", str(run), env={"ASSAY_TRACKERS": "wandb", "WANDB_DIR": str(tmp_path / "again")})
    assert "0 to generate, 0 to score" in proc.stderr
    wb = OfflineRun(tmp_path / "again")
    # the resumed run brings no config of its own: its id and directory; the kind is eval
    assert (wb.run.display_name, list(wb.run.tags)) == (f"{run.name} (resumed)", ["eval"])
    assert wb.config == {"run_id": run.name, "run_dir": str(run)}


def test_visualizer_names_a_known_tracker(tmp_path):
    proc = assay("eval", "--datasets", "gsm8k", "--visualizer", "tensorboard", check=2)
    assert (
        "argument --visualizer: invalid choice: 'tensorboard' (choose from 'mlflow', 'swanlab', 'wandb')" in proc.stderr
    )
