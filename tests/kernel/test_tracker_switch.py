"""`--visualizer` and the trackers' key flags (EvalScope's) become $ASSAY_TRACKERS and the trackers'
own variables, through the real parser of `assay eval` / `assay perf` and the tracker plugins' flag hooks
(``assay_option_values``); keys are remembered as secrets."""

from __future__ import annotations

import os

import pytest

from assay import plugins
from assay.cli import build_parser, option_values
from assay.plugins import host
from assay.redact import scrub

_SWITCHES = ("ASSAY_TRACKERS", "WANDB_API_KEY", "SWANLAB_API_KEY", "SWANLAB_MODE")
_BEFORE = {k: os.environ.get(k) for k in _SWITCHES}


@pytest.fixture
def env():
    """the trackers' hooks set os.environ: the whole environment is put back after each test (else the
    trackers it switched on would log every later in-process run of the session)."""
    saved = dict(os.environ)
    for k in _SWITCHES:
        os.environ.pop(k, None)
    yield
    os.environ.clear()
    os.environ.update(saved)


def _loaded(*names: str) -> None:
    missing = set(names) - {p.name for p in host().loaded}
    if missing:
        pytest.skip(f"not installed: {sorted(missing)}")


def test_visualizer_adds_to_assay_trackers(env):
    _loaded("wandb", "mlflow")
    os.environ["ASSAY_TRACKERS"] = "mlflow"
    option_values("eval", build_parser().parse_args(["eval", "--visualizer", "wandb", "mlflow"]))
    assert os.environ["ASSAY_TRACKERS"] == "mlflow,wandb"


def test_key_flags_imply_the_tracker_and_stay_secret(env):
    _loaded("wandb", "swanlab")
    args = build_parser().parse_args(
        [
            "perf",
            "--url",
            "http://127.0.0.1:1/v1",
            "--wandb-api-key",
            "wb-flag-key-0123456789",
            "--swanlab-api-key",
            "local",
        ]
    )
    option_values("perf", args)
    assert os.environ["ASSAY_TRACKERS"] == "wandb,swanlab"
    assert os.environ["WANDB_API_KEY"] == "wb-flag-key-0123456789" and os.environ["SWANLAB_MODE"] == "local"
    assert "SWANLAB_API_KEY" not in os.environ
    assert "wb-flag-key-0123456789" not in scrub("key: wb-flag-key-0123456789")


def test_nothing_asked_changes_nothing(env):
    option_values("eval", build_parser().parse_args(["eval", "--datasets", "gsm8k"]))
    assert "ASSAY_TRACKERS" not in os.environ


def test_a_tracker_that_is_not_installed_is_no_choice(env, monkeypatch, capsys):
    # the host as it is where assay-wandb is not installed (blocked in-process): --visualizer offers the others
    _loaded("wandb", "swanlab", "mlflow")
    without = plugins.PluginHost()
    without.pm.set_blocked("wandb")
    monkeypatch.setattr(plugins, "_host", without)
    with pytest.raises(SystemExit) as exit_:
        build_parser("eval").parse_args(["eval", "--visualizer", "wandb"])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last == "assay eval: error: argument --visualizer: invalid choice: 'wandb' (choose from 'mlflow', 'swanlab')"
    assert "ASSAY_TRACKERS" not in os.environ


def test_the_environment_is_put_back_after_each_test():
    # runs after the tests above (file order): none of what they switched on is left
    assert {k: os.environ.get(k) for k in _SWITCHES} == _BEFORE
