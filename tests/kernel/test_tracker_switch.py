"""`--visualizer` and the trackers' key flags (EvalScope's) become $ASSAY_TRACKERS and the trackers'
own variables, through the real parser of `assay eval` / `assay perf`; keys are remembered as secrets."""

from __future__ import annotations

import os

import pytest

from assay.api import AssayError
from assay.cli import build_parser, switch_on_trackers
from assay.plugins import host
from assay.redact import scrub

_SWITCHES = ("ASSAY_TRACKERS", "WANDB_API_KEY", "SWANLAB_API_KEY", "SWANLAB_MODE")
_BEFORE = {k: os.environ.get(k) for k in _SWITCHES}


@pytest.fixture
def env():
    """switch_on_trackers sets os.environ: the whole environment is put back after each test (else the
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
    switch_on_trackers(build_parser().parse_args(["eval", "--visualizer", "wandb", "mlflow"]))
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
    switch_on_trackers(args)
    assert os.environ["ASSAY_TRACKERS"] == "wandb,swanlab"
    assert os.environ["WANDB_API_KEY"] == "wb-flag-key-0123456789" and os.environ["SWANLAB_MODE"] == "local"
    assert "SWANLAB_API_KEY" not in os.environ
    assert "wb-flag-key-0123456789" not in scrub("key: wb-flag-key-0123456789")


def test_nothing_asked_changes_nothing(env):
    switch_on_trackers(build_parser().parse_args(["eval", "--datasets", "gsm8k"]))
    assert "ASSAY_TRACKERS" not in os.environ


def test_a_tracker_that_is_not_installed_is_named(env, monkeypatch):
    # the host as it is where assay-wandb is not installed: its plugin not among the loaded ones
    monkeypatch.setattr(host(), "loaded", [p for p in host().loaded if p.name != "wandb"])
    with pytest.raises(
        AssayError,
        match=r"^--visualizer wandb: the assay-wandb distribution is not installed: pip install assay-wandb$",
    ):
        switch_on_trackers(build_parser().parse_args(["eval", "--visualizer", "wandb"]))
    assert "ASSAY_TRACKERS" not in os.environ


def test_the_environment_is_put_back_after_each_test():
    # runs after the tests above (file order): none of what they switched on is left
    assert {k: os.environ.get(k) for k in _SWITCHES} == _BEFORE
