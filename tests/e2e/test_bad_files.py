"""Bad data files through the real `assay eval` CLI: one paragraph naming the file, exit status 2."""

from __future__ import annotations

import json

import pytest
from assay_testserver.testing import served_eval
from helpers import report_rows, run_dirs

pytestmark = pytest.mark.slow  # starts `assay` subprocesses


def _eval(srv, tmp_path, dataset: str, *more: str, check: bool = False):
    return served_eval(srv.url, tmp_path / "runs", "--datasets", dataset, *more, check=check)


def _finished(run_dir):
    for line in (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines():
        ev = json.loads(line)
        if ev["type"] == "RunFinished":
            return ev["body"]
    return None


def test_empty_gsm8k_file_is_an_error(tmp_path, test_server) -> None:
    data = tmp_path / "data" / "gsm8k"
    data.mkdir(parents=True)
    (data / "test.jsonl").write_bytes(b"")
    srv = test_server()
    proc = _eval(
        srv,
        tmp_path,
        "gsm8k",
        "--dataset-dir",
        str(tmp_path / "data"),
        "--dataset-args",
        '{"gsm8k": {"few_shot_num": 0}}',
    )
    assert proc.returncode == 2
    msg = f"{data / 'test.jsonl'}: holds no samples (the file is empty or has no data rows)"
    (run,) = run_dirs(tmp_path / "runs")
    # the run had started: once the file is fixed, `assay resume` finishes it
    assert proc.stderr.splitlines()[-2:] == [
        f"error: {msg}",
        f"to finish this run once that is fixed: assay resume {run}",
    ]
    assert "Traceback" not in proc.stderr
    fin = _finished(run)
    assert fin["status"] == "failed" and fin["error"] == f"DataError: {msg}"
    assert srv.requests == []


def test_non_utf8_general_mcq_file_names_line_and_offset(tmp_path, test_server) -> None:
    path = tmp_path / "mine_val.csv"
    head = b"question,A,B,answer\nok?,yes,no,A\n"
    path.write_bytes(head + "caf\xe9?,yes,no,B\n".encode("latin-1"))
    srv = test_server()
    proc = _eval(srv, tmp_path, "general_mcq", "--dataset-args", json.dumps({"general_mcq": {"local_path": str(path)}}))
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-2] == (
        f"error: {path}: not UTF-8 text (line 3, byte offset {len(head) + 3}: byte 0xe9, invalid continuation byte); "
        "save the file as UTF-8"
    )
    assert "Traceback" not in proc.stderr


def test_csv_field_over_128_kib_loads_and_scores(tmp_path, test_server) -> None:
    path = tmp_path / "long_val.csv"
    question = "Read this. " + "lorem ipsum " * 20_000 + "Which?"  # 240 KB in one field
    path.write_text(f'question,A,B,answer\n"{question}",yes,no,A\n', encoding="utf-8")
    srv = test_server(rules=[{"match": "Which?", "answer": "The answer is A"}])
    proc = _eval(srv, tmp_path, "general_mcq", "--dataset-args", json.dumps({"general_mcq": {"local_path": str(path)}}))
    assert proc.returncode == 0, proc.stderr
    (run,) = run_dirs(tmp_path / "runs")
    rows = [r for r in report_rows(run) if r["metric"] == "acc"]
    assert [(r["subset"], r["num"], r["score"]) for r in rows] == [("long", 1, 1.0)]
