"""A misspelled scorer is an error before the run directory exists and before any model call."""

from __future__ import annotations

import pytest
from helpers import eval_gsm8k


@pytest.mark.parametrize(
    ("dataset_args", "message"),
    [
        (
            '{"gsm8k": {"metric_list": ["exact_match", "gsm8k_ac"]}}',
            "error: dataset_args.gsm8k.metric_list: unknown scorer 'gsm8k_ac' (did you mean 'gsm8k_acc'?).",
        ),
        (
            '{"gsm8k": {"metric_list": ["includs"]}}',
            "error: dataset_args.gsm8k.metric_list: unknown scorer 'includs' (did you mean 'includes'?).",
        ),
    ],
)
def test_a_misspelled_scorer_fails_before_the_run(tmp_path, datasets_dir, test_server, dataset_args, message):
    srv = test_server(default_answer="#### 18")
    work = tmp_path / "out"
    proc = eval_gsm8k(srv.url, datasets_dir, work, "--dataset-args", dataset_args, limit=2, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith(message)
    assert "Installed: " in proc.stderr and "gsm8k_acc" in proc.stderr
    assert not work.exists()  # no run directory, no log
    assert srv.requests == []  # and no model call
