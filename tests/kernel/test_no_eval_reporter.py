"""Without the eval reporter (assay-eval-report blocked, as a plugin that fails to import), a run still
completes and says that no eval reporter is installed; ``assay report`` says so and exits 2."""

from __future__ import annotations

import json
import sys

import pytest
from assay_testserver.testing import events as _events

import assay.plugins


@pytest.fixture
def blocked(monkeypatch):
    """assay-eval-report's entry point fails to import (``None`` in ``sys.modules`` blocks an import)."""
    monkeypatch.setitem(sys.modules, "assay_eval_report", None)
    monkeypatch.setitem(sys.modules, "assay_eval_report.reporter", None)
    monkeypatch.setattr(assay.plugins, "_host", None)  # discovered again, without it
    yield
    assay.plugins._host = None


def test_a_run_completes_and_its_report_says_no_eval_reporter_is_installed(blocked, tmp_path, datasets_dir, capsys):
    from assay.cli import main

    with pytest.warns(RuntimeWarning, match="assay plugin 'eval_report' \\(assay-eval-report\\) failed at import"):
        h = assay.plugins.host()
    assert "eval" not in h.reporters()
    args = ["eval", "--datasets", "gsm8k", "--limit", "3", "--dataset-dir", str(datasets_dir)]
    code = main([*args, "--work-dir", str(tmp_path), "--no-progress"])
    assert code == 0
    (run,) = [p.parent for p in tmp_path.rglob("events.jsonl")]
    events = _events(run, whole=True)
    assert [e["type"] for e in events].count("Scored") == 3
    assert events[-1]["type"] == "RunFinished" and events[-1]["body"].get("status", "completed") == "completed"
    message = (
        "no eval reporter is installed (assay-eval-report failed to load: ModuleNotFoundError: import of "
        "assay_eval_report halted; None in sys.modules): this run has no scores here; its events are in "
        f"{run / 'events.jsonl'}, and `assay report {run}` prints its report once one is installed"
    )
    report = json.loads((run / "report.json").read_text())
    assert report == {"kind": "eval", "status": "completed", "warnings": [message]}
    out = capsys.readouterr().out
    assert "warning: no eval reporter is installed" in out and "Score" not in out

    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"error: {message}"


def test_a_host_without_entry_points_has_no_eval_reporter(tmp_path):
    from assay.events import RunFinished, RunStarted
    from assay.log import LogWriter
    from assay.plugins import PluginHost
    from assay.report import body_reporter, build_report, outcome

    path = tmp_path / "events.jsonl"
    with LogWriter(path, "r1") as w:
        w.append(RunStarted(kind="eval"))
        w.append(RunFinished())
    bare = PluginHost(entry_points=False)
    assert body_reporter(bare) is None
    report = build_report(path, bare)
    assert report["warnings"] == [
        "no eval reporter is installed (pip install assay-eval-report): this run has no scores here; its events "
        f"are in {path}, and `assay report {tmp_path}` prints its report once one is installed"
    ]
    assert outcome(report, path) == (2, report["warnings"][0])


def test_errored_samples_still_exit_3_without_the_eval_reporter(blocked, tmp_path, datasets_dir, test_server, capsys):
    # nothing folds the log into errored_samples here: the runner's own count of failed samples decides
    from assay.cli import main

    srv = test_server(default_answer="#### 0", faults={"http_500": [2]})  # the second request: a 500
    with pytest.warns(RuntimeWarning, match="assay plugin 'eval_report'"):
        assay.plugins.host()
    args = ["eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", "--limit", "3", "--retries", "0"]
    code = main([*args, "--eval-batch-size", "1", "--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path)])
    assert code == 3
    (run,) = [p.parent for p in tmp_path.rglob("events.jsonl")]
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    failed = [e["body"] for e in events if e["type"] == "SampleFailed"]
    assert [(f["stage"], f["error_kind"]) for f in failed] == [("generate", "http_5xx")]
    assert [e["type"] for e in events].count("Scored") == 2
    message = (
        "no eval reporter is installed (assay-eval-report failed to load: ModuleNotFoundError: import of "
        "assay_eval_report halted; None in sys.modules): this run has no scores here; its events are in "
        f"{run / 'events.jsonl'}, and `assay report {run}` prints its report once one is installed"
    )
    errored = f"1 sample errored in this run: their SampleFailed events are in {run / 'events.jsonl'}"
    report = json.loads((run / "report.json").read_text())
    assert set(report.pop("sections")) == {"eval_latency"}  # assay-perf's section of the requests
    assert report == {"kind": "eval", "status": "completed", "warnings": [message, errored], "errored_samples": 1}
    out = capsys.readouterr().out
    assert f"warning: {errored}" in " ".join(out.split())  # printed as a warning (Rich may wrap the line)
    assert main(["report", str(run)]) == 2  # `assay report` still cannot report an eval run without it
