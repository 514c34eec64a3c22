"""One run lifecycle (assay.lifecycle.RunLifecycle) for eval, resume, rescore, perf and speed."""

from __future__ import annotations

import pytest

from assay import hookimpl
from assay.api import AssayError
from assay.evaluate import run_eval
from assay.resume import run_rescore
from assay.lifecycle import RunLifecycle
from assay.log import iter_events
from assay.plugins import PluginHost


class _Stopping:
    """Scorers that stop the process from inside: Ctrl-C, and a plugin calling sys.exit."""

    class Interrupt:
        def score(self, sample, generated):
            raise KeyboardInterrupt("stopped by the user")

    class Exit:
        def score(self, sample, generated):
            raise SystemExit("plugin called sys.exit")

    @hookimpl
    def assay_scorers(self, register):
        register("interrupt", self.Interrupt())
        register("exit", self.Exit())


def _source(tmp_path, datasets_dir):
    host = PluginHost()
    host.register_module(_Stopping(), "stopping")
    cfg = {
        "datasets": ["gsm8k"],
        "limit": 3,
        "dataset_dir": str(datasets_dir),
        "work_dir": str(tmp_path / "src"),
        "progress": False,
    }
    run_eval(cfg, plugins=host)
    return next((tmp_path / "src").iterdir()), host


@pytest.mark.parametrize(
    ("scorer", "raised", "status", "error"),
    [
        ("interrupt", KeyboardInterrupt, "interrupted", "interrupted by SIGINT"),
        ("exit", SystemExit, "failed", "SystemExit: plugin called sys.exit"),
    ],
)
def test_a_rescore_that_stops_still_finishes_its_log(tmp_path, datasets_dir, scorer, raised, status, error):
    source, host = _source(tmp_path, datasets_dir)
    with pytest.raises(raised):
        run_rescore(source, scorers=[scorer], work_dir=str(tmp_path / "re"), plugins=host)
    (run_dir,) = (tmp_path / "re").iterdir()
    events = list(iter_events(run_dir))
    assert events[0].type == "RunStarted" and events[0].body.source_run == str(source)
    assert events[-1].type == "RunFinished"
    assert (events[-1].body.status, events[-1].body.error) == (status, error)
    assert [e.type for e in events].count("RunFinished") == 1
    assert not (run_dir / "report.json").exists()  # a report only for a run that completed


def test_a_completed_run_gets_its_report_and_a_name_is_not_reused(tmp_path):
    host = PluginHost()
    with RunLifecycle(host, {}, work_dir=tmp_path, name="r1") as life:
        life.start(kind="eval", announce=False)
    assert life.status == "completed" and life.report is not None and life.report["run_id"] == "r1"
    assert (tmp_path / "r1" / "report.json").exists()
    assert [e.type for e in iter_events(tmp_path / "r1")] == ["RunStarted", "RunFinished"]
    with pytest.raises(AssayError, match=r"r1 already holds a run; choose another --name"):
        RunLifecycle(host, {}, work_dir=tmp_path, name="r1")


def test_a_failing_flush_before_the_end_fails_the_run(tmp_path):
    def flush():
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        with RunLifecycle(PluginHost(), {}, work_dir=tmp_path, name="r") as life:
            life.start(kind="perf", announce=False)
            life.before_finish(flush)
    last = list(iter_events(tmp_path / "r"))[-1].body
    assert (last.status, last.error) == ("failed", "OSError: disk full")
