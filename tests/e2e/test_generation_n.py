"""``generation_config.n > 1`` (EvalScope's key): every one of the n completions is kept and
scored, as n repeats of each sample (mean@n, pass@k), through the real CLI against the test server."""

from __future__ import annotations

import json

import pytest
from assay_testserver.testing import served_eval
from assay_testserver.testing import events as _events
from helpers import gold, gsm8k_rows, report_rows, run_dirs

pytestmark = pytest.mark.slow  # starts `assay` subprocesses


def _eval(tmp_path, datasets_dir, url, gen, *more, check=True):
    args = ["--datasets", "gsm8k", "--dataset-args", json.dumps({"gsm8k": {"limit": 2, "few_shot_num": 0}})]
    args += ["--generation-config", json.dumps(gen), "--dataset-dir", str(datasets_dir)]
    return served_eval(url, tmp_path / "runs", *args, *more, check=check)


def test_n_completions_are_all_kept_and_scored(tmp_path, datasets_dir, test_server) -> None:
    rows = gsm8k_rows(datasets_dir, 2)
    g0 = gold(rows[0]["answer"])
    srv = test_server(
        rules=[
            {"match": rows[0]["question"], "answers": [f"#### {g0}", "#### 1", "#### 2", "#### 3"]},
            {"match": rows[1]["question"], "answer": "no idea"},
        ]
    )
    _eval(tmp_path, datasets_dir, srv.url, {"n": 4, "temperature": 0.7}, "--eval-batch-size", "1")
    # one request a completion, none asking the server for n choices
    assert len(srv.requests) == 8
    assert all("n" not in r and r["temperature"] == 0.7 for r in srv.requests)
    (run,) = run_dirs(tmp_path / "runs")
    events = _events(run, whole=True)
    started = next(e["body"] for e in events if e["type"] == "RunStarted")
    assert started["resolved"]["repeats"] == 4
    assert started["config"]["generation_config"] == {"temperature": 0.7}
    outputs = sorted(
        e["body"]["output"]
        for e in events
        if e["type"] == "Generated" and e["body"]["sample_id"].startswith("gsm8k/main/0#")
    )
    assert outputs == sorted([f"#### {g0}", "#### 1", "#### 2", "#### 3"])
    scored = [e["body"] for e in events if e["type"] == "Scored"]
    assert len(scored) == 8 and sum(s["value"] for s in scored) == 1
    got = {r["metric"]: (r["num"], r["score"]) for r in report_rows(run)}
    # problem 0: 1 of 4 right, problem 1: 0 of 4; pass@2 = (1 - C(3,2)/C(4,2)) / 2 = 0.25
    assert got == {
        "acc": (8, 0.125),
        "mean@4": (2, 0.125),
        "pass@1": (2, 0.125),
        "pass@2": (2, 0.25),
        "pass@4": (2, 0.5),
    }


@pytest.mark.parametrize(
    ("gen", "more", "message"),
    [
        ({"n": 0}, [], "generation_config.n = 0: expected a whole number >= 1"),
        ({"n": "4"}, [], "generation_config.n = '4': expected a whole number >= 1"),
        (
            {"n": 4},
            ["--repeats", "2"],
            "generation_config.n = 4 and repeats = 2: n completions are n repeats; give one of them",
        ),
    ],
)
def test_a_bad_n_is_an_error_before_the_run(tmp_path, datasets_dir, gen, more, message) -> None:
    proc = _eval(tmp_path, datasets_dir, "http://127.0.0.1:9/v1", gen, *more, check=False)
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("warning: assay plugin ")]
    # as every TaskConfig check, the message names where the config came from
    assert (proc.returncode, lines) == (2, [f"error: invalid config in command line: AssayError: {message}"])
    assert not (tmp_path / "runs").exists()
