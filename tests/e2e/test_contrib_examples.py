"""What a plugin author copies works out of the repository: installed as a real distribution, its own tests
pass with its own fixtures (no root conftest, no assay-testserver)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from assay_testserver.testing import events as _events
from assay_testserver import testing

CONTRIB = Path(__file__).resolve().parents[2] / "contrib"


def _pip_install_target(project: Path, site: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--target", str(site), str(project)],
        check=True,
        timeout=300,
    )


def _pytest(project: Path, site: Path | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_the_template_works_copied_out_of_the_repository(tmp_path):
    project = tmp_path / "my-plugin"
    shutil.copytree(CONTRIB / "assay-plugin-template", project)
    # not installed yet: the template's fixture says what to do
    proc = _pytest(project, None)
    assert proc.returncode == 1 and "assay-example-qa is not installed: run `pip install -e .`" in proc.stdout
    site = tmp_path / "site"
    _pip_install_target(project, site)
    proc = _pytest(project, site)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout


WALKTHROUGH = CONTRIB / "WALKTHROUGH.md"
CAPITALS = CONTRIB / "walkthrough" / "assay-capitals"


def _sync():
    import importlib.util

    spec = importlib.util.spec_from_file_location("sync_walkthrough", CONTRIB / "sync_walkthrough.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_walkthrough_shows_its_example_files_verbatim():
    sync = _sync()
    text = WALKTHROUGH.read_text(encoding="utf-8")
    refs = [ref for ref, _, _ in sync.blocks(text)]
    every_module = {p.relative_to(CAPITALS).as_posix() for p in (CAPITALS / "src").rglob("*.py")}
    assert set(refs) >= (every_module - {"src/assay_capitals/__init__.py"}) | {"pyproject.toml"}
    regions = {ref.partition("#")[2] for ref in refs if ref.startswith("src/assay_capitals/__init__.py#")}
    assert regions == {"benchmark", "scorer", "reporter", "observer", "model", "perf_dataset"}
    assert sync.synced(text) == text, "WALKTHROUGH.md shows outdated code: run contrib/sync_walkthrough.py"
    # and the check notices a change
    assert sync.synced(text.replace('default_scorers = ["capital"]', 'default_scorers = ["other"]')) == text


@pytest.mark.slow
def test_every_walkthrough_step_runs(tmp_path, test_server):
    site = tmp_path / "site"
    _pip_install_target(CAPITALS, site)
    env = {"PYTHONPATH": str(site) + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def assay(*argv: str) -> subprocess.CompletedProcess[str]:
        return testing.assay(*argv, env=env)

    # 1: discovered, with every step's registration
    listing = json.loads(assay("plugins", "--format", "json").stdout)
    (me,) = [p for p in listing["plugins"] if p["distribution"] == "assay-capitals"]
    assert me["registers"] == {
        "benchmarks": ["capitals"],
        "models": ["atlas"],
        "perf_datasets": ["capitals"],
        "reporters": ["capitals_by_continent"],
        "scorers": ["capital"],
    }
    assert me["observes_events"] is True
    assert not [f for f in listing["failures"] if f["distribution"] == "assay-capitals"]

    # 2-3, 5: the mock model answers a number: six misses, each printed by the observer
    proc = assay("eval", "--model", "mock", "--datasets", "capitals", "--work-dir", str(tmp_path / "mock"))
    assert proc.stderr.count("capitals miss: capitals/default/") == 6
    (run,) = list((tmp_path / "mock").iterdir())
    rows = json.loads(assay("report", str(run), "--format", "json").stdout)
    assert [(r["dataset"], r["metric"], r["num"], r["score"]) for r in rows if "dataset" in r] == [
        ("capitals", "acc", 6, 0.0)
    ]

    # 4-6: the atlas model gets Australia wrong; the reporter's section is in the JSON report
    proc = assay("eval", "--model", "atlas", "--datasets", "capitals", "--work-dir", str(tmp_path / "atlas"))
    assert [line for line in proc.stderr.splitlines() if "capitals miss" in line] == [
        "capitals miss: capitals/default/5 answered 'Sydney'"
    ]
    (run,) = list((tmp_path / "atlas").iterdir())
    rows = json.loads(assay("report", str(run), "--format", "json").stdout)
    assert rows[0]["dataset"] == "capitals" and rows[0]["num"] == 6 and rows[0]["score"] == 5 / 6
    assert rows[1:] == [
        {
            "reporter": "capitals_by_continent",
            "section": {
                "continents": {
                    "Africa": {"num": 1, "acc": 1.0},
                    "Asia": {"num": 2, "acc": 1.0},
                    "Europe": {"num": 2, "acc": 1.0},
                    "Oceania": {"num": 1, "acc": 0.0},
                }
            },
        }
    ]
    table = assay("report", str(run)).stdout
    assert "│ Oceania   │ 1   │ 0.0000 │" in table and "│ Asia      │ 2   │ 1.0000 │" in table

    # 7: the perf dataset feeds assay perf (against the repository's OpenAI-compatible test server)
    srv = test_server()
    assay(
        *("perf", "--url", srv.url, "--model", "m", "--dataset", "capitals", "--number", "6"),
        *("--work-dir", str(tmp_path / "perf"), "--quiet"),
    )
    (run,) = list((tmp_path / "perf").iterdir())
    events = _events(run, whole=True)
    timed = [e["body"] for e in events if e["type"] == "RequestTimed"]
    assert len(timed) == 6 and [t.get("ok", True) for t in timed] == [True] * 6
    asked = sorted(m["content"] for body in srv.requests for m in body["messages"])
    assert asked[:2] == ["What is the capital of Australia?", "What is the capital of France?"] and len(asked) == 6
    section = json.loads(assay("report", str(run), "--format", "json").stdout)
    assert [(p["requests"], p["succeeded"]) for p in section["points"]] == [(6, 6)]
