"""`assay report --format markdown|csv` (the table), and `--format html` without its distribution's format."""

from __future__ import annotations

import csv
import io
import json

import pytest
from helpers import assay, eval_gsm8k, gold, gsm8k_rows, run_dirs


def own(stderr: str) -> str:
    """stderr without warnings about other installed plugins that fail to load (not this test's concern)."""
    return "".join(line for line in stderr.splitlines(keepends=True) if not line.startswith("warning: assay plugin '"))


def test_markdown_and_csv_tables(tmp_path, datasets_dir, test_server):
    rows = gsm8k_rows(datasets_dir, 3)
    answers = [f"#### {gold(rows[0]['answer'])}", "#### 0", f"#### {gold(rows[2]['answer'])}"]
    srv = test_server(rules=[{"match": r["question"], "answer": a} for r, a in zip(rows, answers)])
    eval_gsm8k(srv.url, datasets_dir, tmp_path, "--model-id", "m|<b>\x1b[31m", limit=3)
    (run,) = run_dirs(tmp_path)
    (row,) = [r for r in json.loads(assay("report", str(run), "--format", "json").stdout) if "reporter" not in r]
    md = assay("report", str(run), "--format", "markdown").stdout
    assert md == (
        "| Model | Dataset | Metric | Category | Subset | Num | Score | Errors | CI low | CI high |\n"
        "|---|---|---|---|---|---:|---:|---:|---:|---:|\n"
        f"| m\\|&lt;b&gt;\\\\x1b[31m | gsm8k | acc | default | main | 3 | 0.6667 | 0 | {row['ci_low']:.4f} | "
        f"{row['ci_high']:.4f} |\n"
    )
    assert "\x1b" not in md
    out = assay("report", str(run), "--format", "csv").stdout
    header, values = list(csv.reader(io.StringIO(out)))
    assert header == ["Model", "Dataset", "Metric", "Category", "Subset", "Num", "Score", "Errors", "CI low", "CI high"]
    assert values[:8] == ["m|<b>\\x1b[31m", "gsm8k", "acc", "default", "main", "3", repr(2 / 3), "0"]
    assert [float(values[8]), float(values[9])] == [row["ci_low"], row["ci_high"]]
    bad = assay("report", str(run), "--format", "pdf", check=False)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert (
        own(bad.stderr)
        == "error: no installed reporter writes --format 'pdf'; table, json, markdown and csv are built in\n"
    )
    no = assay("compare", str(run), str(run), "--format", "csv", check=False)
    assert (no.returncode, no.stdout) == (2, "")
    assert own(no.stderr) == "error: assay compare has no --format csv: table, json or a file reporter's (html)\n"


def test_a_run_whose_reporters_give_no_table_is_an_error(tmp_path):
    # a speed run: its reporter shows a Rich table but declares no plain table (it got perf's columns before)
    from assay.events import RunFinished, RunStarted
    from assay.log import LogWriter

    pytest.importorskip("assay_transformers")  # the speed reporter
    with LogWriter(tmp_path / "events.jsonl", "s") as w:
        w.append_many([RunStarted(kind="speed"), RunFinished()])
    for fmt in ("markdown", "csv"):
        out = assay("report", str(tmp_path), "--format", fmt, check=2)
        assert out.stdout == ""
        assert own(out.stderr) == (
            "error: no reporter of this speed run gives a table for --format markdown or csv: "
            "use --format table or json\n"
        )
