"""assay-swanlab in SwanLab's offline and local modes, driven by real `assay eval` / `assay perf`
subprocesses against the repo's test server on the real GSM8K file; what SwanLab wrote is read back from
its run directory (the ``run-<id>.swanlab`` record log, with SwanLab's own reader, and the run's files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("swanlab")

from assay_testserver.testing import assay, bodies, events, gsm8k_rules, no_network, run_dirs  # noqa: E402


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """The `assay` subprocesses: no SwanLab or tracker setting of this environment, SwanLab offline, no network."""
    no_network(monkeypatch, drop=("SWANLAB_", "ASSAY_TRACKER"), SWANLAB_MODE="offline")


class SwanRun:
    """A SwanLab run directory read back: its records (start, config, scalars, media, finish)."""

    def __init__(self, root: Path) -> None:
        from swanlab.proto.swanlab.record.v1.record_pb2 import Record
        from swanlab.sdk.internal.core_python.store import DataStoreReader

        (self.dir,) = root.glob("run-*")
        (log,) = self.dir.glob("run-*.swanlab")
        reader = DataStoreReader()
        reader.open(str(log))
        self.records = []
        for data in reader:
            rec = Record()
            rec.ParseFromString(data)
            which = rec.WhichOneof("record_type")
            self.records.append((which, getattr(rec, which)))
        reader.close()
        (self.start,) = [r for k, r in self.records if k == "start"]
        (self.finish,) = [r for k, r in self.records if k == "finish"]
        self.scalars: dict[str, list[tuple[int, float]]] = {}
        for k, r in self.records:
            if k == "scalar":
                self.scalars.setdefault(r.key, []).append((r.step, r.value.number))
        self.media = [r for k, r in self.records if k == "media"]

    def last(self, key: str) -> float:
        return self.scalars[key][-1][1]

    def config(self) -> dict:
        import yaml

        return {k: v["value"] for k, v in yaml.safe_load((self.dir / "files" / "config.yaml").read_text()).items()}


def _gsm8k_server(datasets_dir, test_server):
    # 5 GSM8K questions: right, right, wrong, wrong, right; the 4th request answers HTTP 500
    return test_server(rules=gsm8k_rules(datasets_dir, [1, 1, 0, 0, 1]), faults={"http_500": [4]})


def test_eval_run_streams_progress_and_logs_the_report(tmp_path, datasets_dir, test_server):
    from swanlab.proto.swanlab.run.v1.run_pb2 import RunState

    srv = _gsm8k_server(datasets_dir, test_server)
    work = tmp_path / "w"
    proc = assay(
        "eval", "--model", "m", "--api-url", srv.url, "--api-key", "sk-secret-swanlab-eval-1234", "--datasets",
        "gsm8k", "--limit", "5", "--dataset-dir", str(datasets_dir), "--work-dir", str(work), "--no-progress",
        "--retries", "0", "--eval-batch-size", "1", "--visualizer", "swanlab",
        env={"ASSAY_TRACKER_INTERVAL": "0", "SWANLAB_API_KEY": "swanlab-secret-key-0123456789abcdef"}, check=3,
    )  # fmt: skip
    assert "warning [plugin swanlab]" not in proc.stderr, proc.stderr
    (run,) = run_dirs(work)
    sl = SwanRun(run / "swanlog")  # SwanLab's files went into the run directory
    assert (sl.start.project, sl.start.name, list(sl.start.tags)) == ("assay", run.name, ["eval"])
    cfg = sl.config()
    assert (cfg["kind"], cfg["model"], cfg["datasets"], cfg["limit"], cfg["seed"], cfg["run_id"]) == (
        "eval", "m", ["gsm8k"], 5, 42, run.name,
    )  # fmt: skip
    # one point per scored (or finally failed) sample: sample 4 failed (HTTP 500, no retry)
    scored, failed = dict(sl.scalars["progress/scored"]), dict(sl.scalars["progress/failed"])
    points = [(scored[step], failed[step], acc) for step, acc in sl.scalars["running/gsm8k/main/acc"]]
    # (each request timed also makes a point: the same figures, one more request)
    points = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    assert points == [(1, 0, 1.0), (2, 0, 1.0), (3, 0, 2 / 3), (3, 1, 2 / 3), (4, 1, 3 / 4)]
    assert sl.last("progress/requests") == 5 and sl.last("progress/request_errors") == 1
    # the final figures are the report's, at the next step: 3 right of 5, the errored sample counted as 0
    last_step = max(s for s, _ in sl.scalars["progress/scored"])
    assert sl.scalars["gsm8k/main/acc"] == [(last_step + 1, 3 / 5)] and sl.last("gsm8k/main/acc/num") == 5
    assert sl.last("errored_samples") == 1 and sl.last("samples_loaded") == 5
    assert sl.finish.state == RunState.RUN_STATE_FINISHED
    (table,) = [m for m in sl.media if m.key == "report"]
    (item,) = table.value.items
    chart = json.loads((sl.dir / "media" / "echarts" / item.filename).read_text())
    assert [c["field"] for c in chart["colDefs"]] == ["dataset", "subset", "metric", "score", "num"]
    assert chart["rowData"] == [{"dataset": "gsm8k", "subset": "main", "metric": "acc", "score": 0.6, "num": 5}]
    logged = json.loads((sl.dir / "files" / "report.json").read_text())
    assert logged["rows"] == json.loads((run / "report.json").read_text())["rows"]
    # neither key reaches SwanLab's files (nor the run's own, nor the terminal); its banner is on stderr
    everything = "".join(p.read_bytes().decode("utf-8", "replace") for p in run.rglob("*") if p.is_file())
    for secret in ("sk-secret-swanlab-eval-1234", "swanlab-secret-key-0123456789abcdef"):
        assert secret not in everything and secret not in proc.stdout + proc.stderr
    assert "swanlab" not in proc.stdout and "swanlab: " in proc.stderr


def test_perf_run_logs_each_point_in_local_mode(tmp_path, test_server):
    srv = test_server(ttft=0.01, itl=0.001, default_answer="one two three four")
    logdir = tmp_path / "swanlog"
    proc = assay(
        "perf", "--url", srv.url, "--model", "m", "--parallel", "1", "2", "--number", "2", "4", "--stream",
        "--work-dir", str(tmp_path / "w"), "--name", "p", "--swanlab-api-key", "local",  # EvalScope's local switch
        env={"SWANLAB_LOG_DIR": str(logdir), "SWANLAB_PROJ_NAME": "perf_benchmark", "ASSAY_TRACKER_INTERVAL": "0"},
    )  # fmt: skip
    assert "warning [plugin swanlab]" not in proc.stderr, proc.stderr
    report = json.loads((tmp_path / "w" / "p" / "report.json").read_text())["sections"]["perf"]
    sl = SwanRun(logdir)
    assert (sl.start.project, sl.start.name) == ("perf_benchmark", "p") and sl.config()["kind"] == "perf"
    assert (sl.dir / "logs").is_dir()  # local mode: the dashboard's files (`swanlab watch`)
    # while it ran: one step per request, with the mean latency of the point it belongs to
    assert [v for _, v in sl.scalars["progress/requests"]] == [1, 2, 3, 4, 5, 6]
    assert [v for _, v in sl.scalars["requests/parallel"]] == [1, 1, 2, 2, 2, 2]
    last = [b for b in bodies(tmp_path / "w" / "p", "RequestTimed") if b["point"]["parallel"] == 2]
    assert sl.last("requests/latency_s_mean") == pytest.approx(sum(b["end"] - b["sent"] for b in last) / 4, rel=1e-9)
    assert [v for _, v in sl.scalars["perf/parallel"]] == [1, 2]
    assert [v for _, v in sl.scalars["perf/number"]] == [2, 4]
    for i, pt in enumerate(report["points"]):
        where = f"parallel_{pt['point']['parallel']}_number_{pt['point']['number']}"
        assert sl.scalars["perf/ttft_s_p99"][i][1] == pt["ttft_s"]["p99"]
        assert sl.scalars["perf/request_throughput"][i][1] == pt["request_throughput"]
        assert sl.last(f"perf/{where}/tpot_s_p90") == pt["tpot_s"]["p90"]
        assert sl.last(f"perf/{where}/e2e_latency_s_p50") == pt["e2e_latency_s"]["p50"]


def test_a_failing_tracker_is_a_warning_and_the_run_goes_on(tmp_path, datasets_dir):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where SwanLab's directory should be")
    work = tmp_path / "w"
    proc = assay(
        "eval", "--datasets", "gsm8k", "--limit", "2", "--dataset-dir", str(datasets_dir), "--work-dir", str(work),
        "--no-progress", env={"ASSAY_TRACKERS": "swanlab", "SWANLAB_LOG_DIR": str(blocked)},
    )  # fmt: skip
    assert "warning [plugin swanlab]: assay_event observer of plugin 'swanlab' (assay-swanlab) raised" in proc.stderr
    assert f"Log directory {blocked} exists but is not a directory" in proc.stderr
    (run,) = run_dirs(work)
    evs = events(run)
    (warning,) = [e for e in evs if e["type"] == "Warning"]
    assert "swanlab" in warning["body"]["message"] and sum(e["type"] == "Scored" for e in evs) == 2
    assert json.loads((run / "report.json").read_text())["rows"][0]["num"] == 2


def test_online_without_a_key_fails_at_once_instead_of_prompting(tmp_path, datasets_dir):
    work = tmp_path / "w"
    proc = assay(
        "eval", "--datasets", "gsm8k", "--limit", "1", "--dataset-dir", str(datasets_dir), "--work-dir", str(work),
        "--no-progress", "--visualizer", "swanlab", env={"SWANLAB_MODE": "online", "HOME": str(tmp_path)},
    )  # fmt: skip
    assert "no API key was provided, and interactive prompts are disabled" in proc.stderr
    (run,) = run_dirs(work)
    assert json.loads((run / "report.json").read_text())["rows"][0]["num"] == 1


def test_off_unless_named_and_points_are_throttled(tmp_path, datasets_dir):
    args = ("eval", "--datasets", "gsm8k", "--limit", "5", "--dataset-dir", str(datasets_dir), "--no-progress")
    assay(*args, "--work-dir", str(tmp_path / "off"), env={"ASSAY_TRACKERS": "tensorboard"})
    (run,) = run_dirs(tmp_path / "off")
    assert not (run / "swanlog").exists()
    # the variable alone switches it on; at most one point per interval, and the last at the end
    assay(*args, "--work-dir", str(tmp_path / "on"), env={"ASSAY_TRACKERS": "swanlab", "ASSAY_TRACKER_INTERVAL": "60"})
    (run,) = run_dirs(tmp_path / "on")
    assert [v for _, v in SwanRun(run / "swanlog").scalars["progress/scored"]] == [1, 5]
