"""requirements.lock pins every third-party dependency that the distributions in this repo declare."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line)
        if m:
            pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def _installed_extras() -> dict[str, set[str]]:
    """The extras that requirements-dev.in installs, by distribution directory name."""
    extras: dict[str, set[str]] = {}
    for line in (ROOT / "requirements-dev.in").read_text().splitlines():
        m = re.match(r"^-e plugins/([\w\-]+)\[([\w,\-]+)\]", line)
        if m:
            extras[m.group(1)] = set(m.group(2).split(","))
    return extras


def _declared() -> list[tuple[Path, Requirement]]:
    local = {"assay"} | {p.name for p in (ROOT / "plugins").iterdir()}
    wanted = _installed_extras()
    out = []
    for pyproject in [ROOT / "pyproject.toml", *sorted((ROOT / "plugins").glob("*/pyproject.toml"))]:
        project = tomllib.loads(pyproject.read_text())["project"]
        reqs = list(project.get("dependencies", []))
        for extra, specs in project.get("optional-dependencies", {}).items():
            if extra in wanted.get(pyproject.parent.name, ()):
                reqs += specs
        for spec in reqs:
            req = Requirement(spec)
            if canonicalize_name(req.name) not in local:
                out.append((pyproject, req))
    return out


def test_every_declared_dependency_is_pinned_within_its_range():
    pins = _pins()
    assert pins, "requirements.lock holds no pins"
    for pyproject, req in _declared():
        name = canonicalize_name(req.name)
        if name == "torch":  # pinned in requirements-dev.in: its CPU build is a local wheel
            continue
        assert name in pins, (
            f"{pyproject.relative_to(ROOT)}: {req.name} is not pinned in requirements.lock (nox -s lock)"
        )
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{pyproject.relative_to(ROOT)}: {req} does not admit the locked {req.name}=={pins[name]}"
        )


def test_the_install_command_uses_the_lock():
    lines = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert "-c requirements.lock" in lines and "-r requirements-dev.in" in lines


def _build_backends(text: str, where: str) -> list[str]:
    """The packages of the install step that goes before `--no-build-isolation` (README, .ci/run)."""
    m = re.search(r"python3 -m pip install (?:-q )?-c requirements\.lock ([\w\- ]+?)(?: &&|\n)", text)
    assert m, f"{where}: no `python3 -m pip install -c requirements.lock ...` build-backend step"
    return m.group(1).split()


def test_the_build_backends_go_in_first_pinned_and_able_to_build_source_only_packages():
    readme = _build_backends((ROOT / "README.md").read_text(encoding="utf-8"), "README.md")
    ci = _build_backends((ROOT / ".ci" / "run").read_text(encoding="utf-8"), ".ci/run")
    assert readme == ci  # CI installs what README tells a newcomer to
    pins = _pins()
    for name in readme:
        assert canonicalize_name(name) in pins, f"{name} is not pinned in requirements.lock"
    # --no-build-isolation builds the sdist-only packages (langdetect) with the installed setuptools; a venv's
    # setuptools 65 has no bdist_wheel without `wheel`, setuptools 70.1 and later build wheels by themselves
    assert "setuptools" in readme
    assert Version(pins["setuptools"]) >= Version("70.1")
