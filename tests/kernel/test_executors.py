"""The executor seam: ``assay_executors`` registers where generation runs; local is built in."""

from __future__ import annotations

import collections

import pytest
from assay import hookimpl
from assay.api import AssayError
from assay.evaluate import LocalExecutor, run_eval
from assay.resume import run_resume
from assay.plugins import PluginHost
from assay_testserver.testing import events as _events


def _cfg(tmp_path, datasets_dir, **kw):
    return {
        "datasets": ["gsm8k"],
        "limit": 4,
        "dataset_dir": str(datasets_dir),
        "work_dir": str(tmp_path),
        "progress": False,
        **kw,
    }


class Halfway:
    """Generates the first ``stop`` samples with the local executor, then fails the run."""

    seen: list[str] = []

    def __init__(self, cfg, plugins, stop=2):
        self.local = LocalExecutor(cfg, plugins)
        self.stop = stop

    async def generate(self, pending, run, scoring):
        samples = list(pending)
        Halfway.seen = [s.sample_id for s in samples]
        await self.local.generate(samples[: self.stop], run, scoring)
        raise AssayError("the executor stopped halfway")


class Plugin:
    @hookimpl
    def assay_executors(self, register):
        register("halfway", Halfway, description="test executor")


def _host():
    h = PluginHost()
    h.register_module(Plugin(), "halfway-plugin")
    return h


def test_the_local_executor_is_registered_like_any_plugin():
    entry = PluginHost().executors()["local"]
    assert entry.plugin == "builtin" and entry.distribution == "assay" and entry.obj is LocalExecutor


def test_an_unknown_executor_fails_before_the_run_exists(tmp_path, datasets_dir):
    with pytest.raises(AssayError, match=r"unknown executor 'locl' \(did you mean 'local'\?\)"):
        run_eval(_cfg(tmp_path, datasets_dir, executor="locl"), PluginHost())
    assert not list(tmp_path.iterdir())


def test_the_local_executor_takes_no_options(tmp_path, datasets_dir):
    with pytest.raises(AssayError, match=r"--executor-args \{'workerz': 4\}: the local executor takes no options"):
        run_eval(_cfg(tmp_path, datasets_dir, executor_args={"workerz": 4}), PluginHost())
    assert not list(tmp_path.iterdir())


def test_a_run_whose_executor_is_not_installed_resumes_locally(tmp_path, datasets_dir, capsys):
    with pytest.raises(AssayError, match="the executor stopped halfway"):
        run_eval(_cfg(tmp_path, datasets_dir, executor="halfway", executor_args={"speed": 2}), _host())
    (run_dir,) = list(tmp_path.iterdir())
    assert len(Halfway.seen) == 4
    before = _events(run_dir)
    assert before[0]["body"]["config"]["executor"] == "halfway"
    assert before[0]["body"]["config"]["executor_args"] == {"speed": 2}  # halfway's own: not the local executor's
    assert sum(e["type"] == "Generated" for e in before) == 2
    capsys.readouterr()

    report = run_resume(run_dir, plugins=PluginHost())  # a host without the "halfway" executor
    err = capsys.readouterr().err
    assert "note: executor 'halfway' is not installed; resuming with the local executor" in err
    assert "2 to generate, 0 to score" in err
    assert report["rows"][0]["num"] == 4
    evs = _events(run_dir)
    assert [e["seq"] for e in evs] == list(range(len(evs)))
    generated = collections.Counter(e["body"]["sample_id"] for e in evs if e["type"] == "Generated")
    assert sorted(generated) == sorted(Halfway.seen) and set(generated.values()) == {1}


def test_resuming_on_another_executor_leaves_the_runs_executor_options(tmp_path, datasets_dir):
    with pytest.raises(AssayError, match="the executor stopped halfway"):
        run_eval(_cfg(tmp_path, datasets_dir, executor="halfway", executor_args={"speed": 2}), _host())
    (run_dir,) = list(tmp_path.iterdir())
    log = (run_dir / "events.jsonl").read_bytes()
    with pytest.raises(AssayError, match="the local executor takes no options"):
        run_resume(run_dir, {"executor": "local", "executor_args": {"speed": 3}}, plugins=_host())
    with pytest.raises(AssayError, match=r"unknown executor 'locl' \(did you mean 'local'\?\)"):
        run_resume(run_dir, {"executor": "locl"}, plugins=_host())
    assert (run_dir / "events.jsonl").read_bytes() == log  # refused before the log was touched
    # halfway is installed here; --executor local finishes the run without halfway's options
    report = run_resume(run_dir, {"executor": "local"}, plugins=_host())
    assert report["rows"][0]["num"] == 4
