"""Untrusted text (file names, --model-id, server messages) reaches the terminal inert: escape
sequences shown as text (\\x1b), Rich markup shown with its brackets, never a live link."""

from __future__ import annotations

import json
import os

from helpers import assay, eval_gsm8k, gold, gsm8k_rows, run_dirs

TITLE = "\x1b]0;pwned\x07"  # OSC: sets the terminal window title
CLEAR = "\x1b[2J"  # CSI: clears the screen
SUBSET = f"q{TITLE}[bold red]hot{CLEAR}"  # a file name (no '/')
MODEL_ID = f"[link=http://x]y[/link]{TITLE}[bold red]m\u202e"


def _general_qa(tmp_path, datasets_dir):
    data = tmp_path / "data"
    data.mkdir()
    with open(data / f"{SUBSET}.jsonl", "w", encoding="utf-8") as f:
        for r in gsm8k_rows(datasets_dir, 3):
            f.write(json.dumps({"query": r["question"], "response": gold(r["answer"])}) + "\n")
    return data


def _assert_inert(out: str, *, styled: bool = False) -> None:
    assert "\x07" not in out and "\x9b" not in out and "\u202e" not in out
    assert "\x1b]" not in out, "an OSC sequence (title, hyperlink) reached the terminal"
    assert "\x1b[2J" not in out
    if not styled:
        assert "\x1b" not in out


def test_report_shows_names_and_model_id_inert(tmp_path, datasets_dir):
    data = _general_qa(tmp_path, datasets_dir)
    args = [
        "eval",
        "--datasets",
        "general_qa",
        "--dataset-args",
        json.dumps({"general_qa": {"local_path": str(data)}}),
        "--model-id",
        MODEL_ID,
        "--work-dir",
        str(tmp_path / "out"),
        "--no-progress",
    ]
    proc = assay(*args)
    _assert_inert(proc.stdout + proc.stderr)
    assert "[link=http://x]y[/link]" in proc.stdout  # the markup is shown, not applied
    assert "q\\x1b]0;pwned\\x07[bold" in proc.stdout  # (a 160-column table wraps the cell at the space)
    assert "\\x1b[2J" in proc.stdout and "\\u202e" in proc.stdout
    (run,) = run_dirs(tmp_path / "out")
    # the log keeps the text as it was (a fact); only the screen shows it escaped
    loaded = [json.loads(x)["body"] for x in (run / "events.jsonl").read_text().splitlines() if "SampleLoaded" in x]
    assert {b["subset"] for b in loaded} == {SUBSET}
    # JSON output: control characters as \\u escapes, the values exact once parsed
    out = assay("report", str(run), "--format", "json").stdout
    _assert_inert(out)
    rows = json.loads(out)
    assert {(r["model"], r["subset"]) for r in rows} == {(MODEL_ID, SUBSET)} and len(rows) == 5

    # a terminal that takes colours: our own styles, but still no injected sequence and no link
    colour = {"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "300"}
    again = [*args[:-3], "--work-dir", str(tmp_path / "out2"), "--no-progress"]
    for proc in (assay(*again, env=colour), assay("report", str(run), env=colour)):
        assert "\x1b[" in proc.stdout  # styled output indeed
        _assert_inert(proc.stdout + proc.stderr, styled=True)
        assert "[link=http://x]y[/link]\\x1b]0;pwned\\x07[bold red]m\\u202e" in proc.stdout
        assert "q\\x1b]0;pwned\\x07[bold red]hot\\x1b[2J" in proc.stdout


def test_error_message_quoting_untrusted_names_is_inert(tmp_path, datasets_dir):
    data = _general_qa(tmp_path, datasets_dir)
    wanted = f"x{TITLE}[link=http://x]y[/link]{CLEAR}"
    proc = assay(
        "eval",
        "--datasets",
        "general_qa",
        "--dataset-args",
        json.dumps({"general_qa": {"local_path": str(data), "subset_list": [wanted]}}),
        "--work-dir",
        str(tmp_path / "out"),
        "--no-progress",
        check=False,
    )
    assert proc.returncode == 2
    _assert_inert(proc.stdout + proc.stderr)
    assert "\nerror: general_qa: no file for subset(s)" in proc.stderr
    assert "x\\x1b]0;pwned\\x07[link=http://x]y[/link]\\x1b[2J" in proc.stderr
    assert "q\\x1b]0;pwned\\x07[bold red]hot\\x1b[2J" in proc.stderr  # the file found, named inert too


def test_server_error_messages_are_inert_on_screen(tmp_path, datasets_dir, test_server):
    """A model id and a server's failure text shown by `assay report`: no sequence gets through."""
    srv = test_server(default_answer=f"{TITLE}[link=http://x]y[/link]{CLEAR}", faults={"http_400_headers": [1]})
    proc = eval_gsm8k(srv.url, datasets_dir, tmp_path, "--retries", "0", limit=2, model=f"m{TITLE}", check=False)
    _assert_inert(proc.stdout + proc.stderr)
    (run,) = run_dirs(tmp_path)
    report = assay("report", str(run), check=False)
    _assert_inert(report.stdout + report.stderr)
    assert "m\\x1b]0;pwned\\x07" in report.stdout


def test_plugins_listing_shows_a_broken_plugins_error_inert(tmp_path):
    site = tmp_path / "site"
    dist = site / "assay_evil-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: assay-evil\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[assay]\nevil = assay_evil_plugin\n")
    message = f"{TITLE}[link=http://x]y[/link]{CLEAR}"
    (site / "assay_evil_plugin.py").write_text(f"raise ImportError({message!r})\n")
    env = {"PYTHONPATH": str(site) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = assay("plugins", env=env)
    _assert_inert(proc.stdout + proc.stderr)
    shown = "ImportError: \\x1b]0;pwned\\x07[link=http://x]y[/link]\\x1b[2J"
    assert f"FAILED assay-evil (entry point evil) at import: {shown}" in proc.stdout.splitlines()
    assert f"assay plugin 'evil' (assay-evil) failed at import: {shown}" in proc.stderr
