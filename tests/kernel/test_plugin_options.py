"""Plugins' flags (``assay_options`` / ``assay_option_values``): the kernel names none of them. With the plugin a
flag is there and gives the settings it gave when the kernel defined it; without the plugin it is absent."""

from __future__ import annotations

import os
import subprocess
import sys

import assay_judge
import assay_mlflow
import assay_ray
import assay_swanlab
import assay_wandb
import pytest
from assay import hookimpl, plugins
from assay.api import AssayError
from assay.cli import build_parser, config_from_args

# what `assay eval --help` listed when the kernel defined these flags (wt-kernel, before issue 11's move)
PLUGIN_FLAGS = {
    "judge": [
        "--judge-strategy",
        "--judge-model-args",
        "--judge-worker-num",
        "--judge-aggregation",
        "--judge-min-valid",
    ],
    "ray": ["--ray-address"],
    "wandb": ["--visualizer", "--wandb-api-key"],
    "swanlab": ["--visualizer", "--swanlab-api-key"],
    "mlflow": ["--visualizer"],
}
MODULES = {
    "judge": assay_judge,
    "ray": assay_ray,
    "wandb": assay_wandb,
    "swanlab": assay_swanlab,
    "mlflow": assay_mlflow,
}
ALL = sorted({f for flags in PLUGIN_FLAGS.values() for f in flags})


def _host(monkeypatch, *names: str) -> plugins.PluginHost:
    """The process's plugin host holding only the plugins ``names`` (registered in-process)."""
    host = plugins.PluginHost(entry_points=False)
    for name in names:
        host.register_module(MODULES[name], name)
    monkeypatch.setattr(plugins, "_host", host)
    return host


def _flags(command: str) -> set[str]:
    sub = build_parser(command).get_default("_commands")[command]
    return {o for action in sub._actions for o in action.option_strings}  # noqa: SLF001 - the parser's flags


@pytest.fixture
def env():
    saved = dict(os.environ)
    for k in ("ASSAY_TRACKERS", "WANDB_API_KEY", "SWANLAB_API_KEY", "SWANLAB_MODE", "ASSAY_API_KEY"):
        os.environ.pop(k, None)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.parametrize("plugin", sorted(PLUGIN_FLAGS))
def test_a_plugins_flags_are_there_with_it_and_absent_without_it(monkeypatch, plugin):
    _host(monkeypatch)
    assert not _flags("eval") & set(ALL)
    _host(monkeypatch, plugin)
    assert _flags("eval") & set(ALL) == set(PLUGIN_FLAGS[plugin])
    assert bool(_flags("resume") & set(ALL)) == (plugin == "judge")  # resume: judge only
    assert bool(_flags("rescore") & set(ALL)) == (plugin == "judge")


def test_without_the_plugin_the_flag_is_unknown(monkeypatch, capsys):
    _host(monkeypatch, "wandb")
    with pytest.raises(SystemExit) as exit_:
        build_parser("eval").parse_args(["eval", "--ray-address", "auto"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == "assay: error: unrecognized arguments: --ray-address auto"
    # --visualizer offers the installed trackers only
    with pytest.raises(SystemExit):
        build_parser("eval").parse_args(["eval", "--visualizer", "mlflow"])
    last = capsys.readouterr().err.splitlines()[-1]
    assert last == "assay eval: error: argument --visualizer: invalid choice: 'mlflow' (choose from 'wandb')"


def test_visualizer_help_lists_the_installed_trackers(monkeypatch):
    _host(monkeypatch, "mlflow", "wandb")
    sub = build_parser("eval").get_default("_commands")["eval"]
    help_text = sub.format_help()
    assert "log the run to experiment trackers: wandb, mlflow (adds them to $ASSAY_TRACKERS)" in " ".join(
        help_text.split()
    )


def _config(*argv: str) -> dict:
    return config_from_args(build_parser("eval").parse_args(["eval", "--model", "m", "--datasets", "gsm8k", *argv]))


JUDGE = '{"model_id": "j", "api_url": "http://127.0.0.1:9/v1", "api_key": "judge-key-0123456789"}'


def test_the_settings_are_those_the_kernel_flags_gave(monkeypatch, env):
    # the values config_from_args gave when cli.py defined these flags (recorded before the move)
    _host(monkeypatch, *MODULES)
    cfg = _config(
        "--judge-strategy", "llm", "--judge-model-args", JUDGE, "--judge-worker-num", "3",
        "--ray-address", "auto", "--executor-args", "workers=2",
    ).to_dict(redact=False)  # fmt: skip
    assert cfg["judge_strategy"] == "llm" and cfg["judge_worker_num"] == 3
    assert cfg["judge_model_args"] == {
        "model_id": "j",
        "api_url": "http://127.0.0.1:9/v1",
        "api_key": "judge-key-0123456789",
    }
    assert (cfg["judge_aggregation"], cfg["judge_min_valid"]) == ("mean", 1)
    assert (cfg["executor"], cfg["executor_args"]) == ("ray", {"workers": 2, "address": "auto"})
    cfg = _config(
        "--judge-aggregation", "majority", "--judge-min-valid", "2",
        "--judge-model-args", '[{"model_id": "a", "api_url": "http://x/v1"}, {"model_id": "b", "api_url": "http://y/v1"}]',
    ).to_dict(redact=False)  # fmt: skip
    assert (cfg["judge_aggregation"], cfg["judge_min_valid"]) == ("majority", 2)
    assert [j["model_id"] for j in cfg["judge_model_args"]] == ["a", "b"]
    assert (cfg["executor"], cfg["executor_args"]) == ("local", {})
    cfg = _config("--executor", "ray", "--executor-args", '{"workers": 4}').to_dict(redact=False)
    assert (cfg["executor"], cfg["executor_args"]) == ("ray", {"workers": 4})


def test_ray_address_merges_with_a_config_files_executor_args(monkeypatch, env, tmp_path):
    _host(monkeypatch, "ray")
    task = tmp_path / "task.json"
    task.write_text('{"model": "m", "datasets": ["gsm8k"], "executor_args": {"workers": 3}}')
    cfg = config_from_args(build_parser("eval").parse_args(["eval", "--config", str(task), "--ray-address", "h:1"]))
    assert (cfg.executor, cfg.executor_args) == ("ray", {"workers": 3, "address": "h:1"})
    with pytest.raises(
        AssayError, match=r"^--ray-address runs on the ray executor: it cannot go with --executor local$"
    ):
        _config("--executor", "local", "--ray-address", "auto")
    with pytest.raises(AssayError, match=r"^the Ray address is given twice \(--ray-address and --executor-args"):
        _config("--executor-args", "address=auto", "--ray-address", "h:1")


def test_trackers_switch_on_in_the_order_given(monkeypatch, env):
    _host(monkeypatch, "wandb", "swanlab", "mlflow")
    os.environ["ASSAY_TRACKERS"] = "mlflow"
    _config("--visualizer", "wandb", "mlflow", "--swanlab-api-key", "local")
    assert os.environ["ASSAY_TRACKERS"] == "mlflow,wandb,swanlab"
    assert os.environ["SWANLAB_MODE"] == "local" and "SWANLAB_API_KEY" not in os.environ


def test_a_hook_that_raises_while_adding_flags_is_named_and_the_others_stand(monkeypatch):
    class Bad:
        @hookimpl
        def assay_options(self, parser):  # fewer parameters than the hookspec: allowed
            raise RuntimeError("no flags today")

    host = _host(monkeypatch, "ray")
    with pytest.warns(RuntimeWarning, match="'bad'"):
        host.register_module(Bad(), "bad")
        assert "--ray-address" in _flags("eval")
    [failure] = host.failures
    assert (failure.plugin, failure.stage, failure.error) == ("bad", "assay_options", "RuntimeError: no flags today")


def test_eval_help_lists_the_installed_plugins_flags():
    # the real CLI, with every plugin of this repository installed: the flags the kernel's cli.py listed
    proc = subprocess.run(
        [sys.executable, "-m", "assay", "eval", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    listed = {w.strip("[],") for w in proc.stdout.split() if w.startswith(("--", "[--"))}
    assert set(ALL) <= listed
