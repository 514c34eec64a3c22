"""assay-mlflow against a real MLflow file store (offline), driven by real `assay eval` / `assay perf`
subprocesses against the repo's test server on the real GSM8K file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from assay_testserver.testing import assay, events, gsm8k_rules, run_dirs

mlflow = pytest.importorskip("mlflow")


def _env(store: Path, **more: str) -> dict[str, str]:
    return {
        "ASSAY_TRACKERS": "mlflow",
        "MLFLOW_TRACKING_URI": store.resolve().as_uri(),
        "MLFLOW_ALLOW_FILE_STORE": "true",  # MLflow 3 keeps the file store behind this switch
        "MLFLOW_EXPERIMENT_NAME": "assay-tests",
        **more,
    }


def _client(store: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=store.resolve().as_uri())


def test_eval_run_streams_scores_and_logs_the_report(tmp_path, datasets_dir, test_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    # 5 GSM8K questions: right, right, wrong, wrong, right; the 4th request answers HTTP 500
    srv = test_server(rules=gsm8k_rules(datasets_dir, [1, 1, 0, 0, 1]), faults={"http_500": [4]})
    store = tmp_path / "mlruns"
    work = tmp_path / "w"
    proc = assay(
        "eval", "--model", "m", "--api-url", srv.url, "--api-key", "sk-secret-mlflow-key-1234", "--datasets", "gsm8k",
        "--limit", "5", "--dataset-dir", str(datasets_dir), "--work-dir", str(work), "--no-progress",
        "--retries", "0", "--eval-batch-size", "1", env=_env(store), check=3,
    )  # fmt: skip
    assert proc.returncode == 3 and "warning [plugin mlflow]" not in proc.stderr
    (run,) = run_dirs(work)
    client = _client(store)
    exp = client.get_experiment_by_name("assay-tests")
    (mr,) = client.search_runs([exp.experiment_id])
    assert mr.info.run_name == run.name and mr.info.status == "FINISHED"
    assert mr.data.tags["assay.run_id"] == run.name and mr.data.tags["assay.kind"] == "eval"
    assert mr.data.params == {
        "kind": "eval", "model": "m", "datasets": "gsm8k", "limit": "5", "seed": "42", "assay_version": "0.1.0",
    }  # fmt: skip
    # the final figure is the report's: 3 right of 5, the errored sample counted as 0
    assert mr.data.metrics == {"gsm8k/main/acc": 3 / 5, "errored_samples": 1.0, "samples_loaded": 5.0}
    history = [(m.step, m.value) for m in client.get_metric_history(mr.info.run_id, "gsm8k/main/acc")]
    # running means as the 4 scores arrived (1, 1, 0, 1 -> sample 4 errored), then the report's figure at Num
    assert sorted(history) == [(1, 1.0), (2, 1.0), (3, 2 / 3), (4, 3 / 4), (5, 3 / 5)]
    local = Path(client.download_artifacts(mr.info.run_id, "report.json", str(tmp_path / "dl")))
    logged = json.loads(local.read_text())
    assert logged["rows"] == json.loads((run / "report.json").read_text())["rows"]
    everything = "".join(p.read_text(errors="replace") for p in store.rglob("*") if p.is_file())
    assert "sk-secret-mlflow-key-1234" not in everything


def test_perf_run_logs_each_point(tmp_path, test_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    srv = test_server(ttft=0.01, itl=0.001, default_answer="one two three four")
    store = tmp_path / "mlruns"
    assay(
        "perf", "--url", srv.url, "--model", "m", "--parallel", "1", "2", "--number", "2", "4", "--stream",
        "--work-dir", str(tmp_path / "w"), "--name", "p", "--visualizer", "mlflow",
        env={**_env(store), "ASSAY_TRACKERS": ""},  # EvalScope's switch, the same as ASSAY_TRACKERS=mlflow
    )  # fmt: skip
    report = json.loads((tmp_path / "w" / "p" / "report.json").read_text())["sections"]["perf"]
    client = _client(store)
    (mr,) = client.search_runs([client.get_experiment_by_name("assay-tests").experiment_id])
    assert mr.info.run_name == "p" and mr.data.params["kind"] == "perf"
    for pt in report["points"]:
        where = f"parallel_{pt['point']['parallel']}_number_{pt['point']['number']}"
        assert mr.data.metrics[f"perf/{where}/request_throughput"] == pt["request_throughput"]
        assert mr.data.metrics[f"perf/{where}/ttft_s_p99"] == pt["ttft_s"]["p99"]


def test_a_failing_tracker_is_a_warning_and_the_run_goes_on(tmp_path, datasets_dir):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the store should be")
    work = tmp_path / "w"
    proc = assay(
        "eval", "--datasets", "gsm8k", "--limit", "2", "--dataset-dir", str(datasets_dir), "--work-dir", str(work),
        "--no-progress", env=_env(blocked),
    )  # fmt: skip
    assert proc.returncode == 0
    assert "warning [plugin mlflow]: assay_event observer of plugin 'mlflow' (assay-mlflow) raised" in proc.stderr
    (run,) = run_dirs(work)
    evs = events(run)
    assert sum(e["type"] == "Warning" for e in evs) == 1 and sum(e["type"] == "Scored" for e in evs) == 2
    assert json.loads((run / "report.json").read_text())["rows"][0]["num"] == 2


def test_off_without_assay_trackers(tmp_path, datasets_dir):
    store = tmp_path / "mlruns"
    env = {k: v for k, v in _env(store).items() if k != "ASSAY_TRACKERS"}
    assay("eval", "--datasets", "gsm8k", "--limit", "1", "--dataset-dir", str(datasets_dir), "--work-dir",
          str(tmp_path / "w"), "--no-progress", env={**env, "ASSAY_TRACKERS": ""})  # fmt: skip
    assert not store.exists()
