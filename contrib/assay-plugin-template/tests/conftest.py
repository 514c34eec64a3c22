"""The template's own fixtures: nothing here comes from the assay repository.

The tests run the installed plugin through the ``assay`` command, as a user would: install it
first (``pip install -e .``), then ``pytest``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

import pytest

DISTRIBUTION = "assay-example-qa"


@pytest.fixture(scope="session", autouse=True)
def installed() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pytest.fail(f"{DISTRIBUTION} is not installed: run `pip install -e .` in the plugin's directory first")


@pytest.fixture
def assay():
    """Run the ``assay`` CLI in a subprocess; return the completed process (it must succeed)."""

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "assay", *argv], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc

    return run


@pytest.fixture
def report_rows(assay):
    """The report rows of a run directory, as ``assay report --format json`` prints them."""

    def rows(run_dir) -> list[dict]:
        return json.loads(assay("report", str(run_dir), "--format", "json").stdout)

    return rows
