"""The README's commands work as written: the test server's example rules, rescore's run directory."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from assay_testserver.testing import serve
from helpers import assay, report_rows, run_dirs

pytestmark = pytest.mark.slow  # starts `assay` subprocesses

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
RULES = "plugins/assay-testserver/examples/rules.json"


def test_readme_names_the_shipped_rules_file_and_limits_the_checkpoint_example() -> None:
    assert f"python -m assay_testserver --port 8801 --rules {RULES}" in README
    assert (REPO / RULES).is_file()
    checkpoint = [line for line in README.splitlines() if "assay eval --model ./my-checkpoint" in line]
    assert checkpoint and all("--limit" in line for line in checkpoint)


def test_test_server_with_the_example_rules_serves_the_readme_eval(tmp_path, datasets_dir) -> None:
    srv, url = serve("--rules", str(REPO / RULES))
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", url)
        # the README's eval against a served model, with --limit 5 (the questions the rules answer)
        args = ["eval", "--model", "qwen2.5", "--api-url", url, "--api-key", "EMPTY", "--datasets", "gsm8k"]
        args += ["--limit", "5", "--eval-batch-size", "16", "--dataset-dir", str(datasets_dir)]
        assay(*args, "--work-dir", str(tmp_path), "--no-progress")
    finally:
        srv.terminate()
        srv.communicate(timeout=30)
    (run,) = run_dirs(tmp_path)
    (row,) = report_rows(run)
    assert (row["dataset"], row["num"], row["score"], row["errors"]) == ("gsm8k", 5, 1.0, 0)


def test_test_server_rules_errors(tmp_path) -> None:
    bad = tmp_path / "rules.json"
    bad.write_text('{"match": "x"}', encoding="utf-8")
    for path, message in [
        (tmp_path / "none.json", f"error: --rules {tmp_path / 'none.json'}: No such file or directory"),
        (bad, f'error: --rules {bad}: expected a JSON list of {{"match": "...", "answer": "..."}} objects'),
    ]:
        proc = subprocess.run(
            [sys.executable, "-m", "assay_testserver", "--port", "0", "--rules", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2 and proc.stderr == message + "\n" and proc.stdout == ""


def test_rescore_prints_the_new_run_directory(tmp_path, datasets_dir, test_server) -> None:
    srv = test_server(default_answer="#### 0")
    common = ["--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path), "--no-progress"]
    assay("eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", "--limit", "2", *common)
    (source,) = run_dirs(tmp_path)
    proc = assay("rescore", str(source))
    (new,) = [d for d in run_dirs(tmp_path) if d != source]
    assert f"run directory: {new}\n" in proc.stderr
