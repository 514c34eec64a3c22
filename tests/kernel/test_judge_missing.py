"""Judges come from a plugin (the ``assay_judge`` hook, assay-judge): with it blocked, settings that ask for a
judge are an error naming the distribution, exit 2, before a run directory exists; runs without a judge are
unaffected. The plugin is blocked in-process (pluggy's ``set_blocked``), as if it were not installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from assay import plugins
from assay.api import AssayError
from assay.cli import main
from assay.config import from_dict

MISSING = (
    "asks for a judge: the assay-judge distribution, which provides judges, is not installed "
    "(or failed to load: see `assay plugins`): pip install assay-judge"
)


@pytest.fixture
def no_judge_plugin(monkeypatch) -> plugins.PluginHost:
    host = plugins.PluginHost()
    assert host.judge() is not None and "llm_judge" in host.scorers()  # installed here: block it
    host = plugins.PluginHost()
    host.pm.set_blocked("judge")  # assay-judge's entry point
    host.loaded = [p for p in host.loaded if p.distribution != "assay-judge"]
    monkeypatch.setattr(plugins, "_host", host)
    return host


def test_the_hook_gives_the_judge_factory_of_assay_judge() -> None:
    from assay_judge.judge import Judge

    host = plugins.PluginHost()
    assert host.judge() is Judge
    assert host.scorers()["llm_judge"].distribution == "assay-judge"


def test_config_asking_for_a_judge_names_the_missing_distribution(no_judge_plugin) -> None:
    assert no_judge_plugin.judge() is None and "llm_judge" not in no_judge_plugin.scorers()
    with pytest.raises(AssayError) as err:
        from_dict({"judge_model_args": {"model_id": "j", "api_url": "http://127.0.0.1:9/v1"}})
    assert str(err.value) == f"invalid config in config: AssayError: judge_model_args {MISSING}"
    with pytest.raises(AssayError) as err:
        from_dict({"judge_strategy": "llm_recall"})
    assert str(err.value) == f"invalid config in config: AssayError: judge_strategy {MISSING}"
    with pytest.raises(AssayError) as err:
        from_dict({"judge_worker_num": 4})
    assert str(err.value) == f"invalid config in config: AssayError: judge_worker_num {MISSING}"
    # settings that ask for no judge need no judge plugin
    assert from_dict({"judge_strategy": "rule"}).judge_model_args == {}
    assert from_dict({"judge_model_args": None}).judge_model_args == {}


@pytest.mark.parametrize(
    "flags",
    [["--judge-model-args", '{"model_id": "j", "api_url": "http://127.0.0.1:9/v1"}'], ["--judge-strategy", "llm"]],
)
def test_eval_has_no_judge_flags_without_the_plugin(no_judge_plugin, datasets_dir, tmp_path, capsys, flags) -> None:
    # the --judge-* flags are assay-judge's (its assay_options hook): without it they are unknown, exit 2
    work = tmp_path / "out"
    args = ["eval", "--model", "mock", "--datasets", "gsm8k", "--limit", "2", "--dataset-dir", str(datasets_dir)]
    with pytest.raises(SystemExit) as exit_:
        main([*args, *flags, "--no-progress", "--work-dir", str(work)])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"assay: error: unrecognized arguments: {' '.join(flags)}"
    assert not work.exists()


def test_a_config_file_asking_for_a_judge_exits_2(no_judge_plugin, datasets_dir, tmp_path, capsys) -> None:
    work = tmp_path / "out"
    config = tmp_path / "task.json"
    config.write_text(
        json.dumps({"model": "mock", "datasets": ["gsm8k"], "judge_model_args": [{"model_id": "a"}, {"model_id": "b"}]})
    )
    code = main(["eval", "--config", str(config), "--dataset-dir", str(datasets_dir), "--work-dir", str(work)])
    assert code == 2
    assert capsys.readouterr().err == f"error: invalid config in {config}: AssayError: judge_model_args {MISSING}\n"
    assert not work.exists()


def test_eval_without_a_judge_runs_without_the_plugin(no_judge_plugin, datasets_dir, tmp_path) -> None:
    work = tmp_path / "out"
    args = ["eval", "--model", "mock", "--datasets", "gsm8k", "--limit", "2", "--dataset-dir", str(datasets_dir)]
    assert main([*args, "--no-progress", "--work-dir", str(work)]) == 0
    [run] = list(work.iterdir())
    types = [json.loads(line)["type"] for line in (Path(run) / "events.jsonl").read_text().splitlines()]
    assert types.count("Scored") == 2 and "Judged" not in types and types[-1] == "RunFinished"
