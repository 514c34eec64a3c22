"""What a plugin author copies works out of the repository: installed as a real distribution, its own tests
pass with its own fixtures (no root conftest, no assay-testserver)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
