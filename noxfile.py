"""nox sessions: tests, each plugin installed alone with the kernel, lint, schema, benchmarks."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "schema"]
ROOT = Path(__file__).parent
PLUGINS = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").exists())
OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "OMP_NUM_THREADS": "1",
}


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The whole suite in the current environment (after `pip install -r requirements-dev.txt`)."""
    session.run("python3", "-m", "pytest", "-q", *session.posargs, env=OFFLINE)


def _local_deps(plugin: str) -> list[str]:
    """Editable installs for the dependencies of a plugin that live in plugins/ (not on PyPI)."""
    import re
    import tomllib

    deps = tomllib.loads((ROOT / "plugins" / plugin / "pyproject.toml").read_text())["project"].get("dependencies", [])
    out: list[str] = []
    for dep in deps:
        name = re.split(r"[<>=!~\[ ;]", dep, maxsplit=1)[0].strip()
        if name != plugin and (ROOT / "plugins" / name).is_dir():
            out += _local_deps(name) + ["-e", f"plugins/{name}"]
    return out


@nox.session
@nox.parametrize("plugin", PLUGINS)
def plugin_alone(session: nox.Session, plugin: str) -> None:
    """One plugin distribution installed with only the kernel, its local dependencies and what its tests use."""
    if plugin in ("assay-transformers", "assay-embeddings"):
        session.install("torch==2.13.0")
    session.install(
        "-e", ".", "-e", "plugins/assay-testserver", "-e", "plugins/assay-openai", *_local_deps(plugin),
        "-e", f"plugins/{plugin}", "pytest>=8,<9", "httpx",
    )
    session.run("python", "-m", "pytest", "-q", f"plugins/{plugin}", env=OFFLINE)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    session.run("ruff", "check", "kernel", "plugins", "contrib", "tests")


@nox.session(python=False)
def schema(session: nox.Session) -> None:
    """Fail when schemas/ drifts from the msgspec types."""
    session.run("python3", "-m", "pytest", "-q", "tests/kernel/test_schema.py")


@nox.session(python=False)
def benchmarks(session: nox.Session) -> None:
    """Run the benchmarks under benchmarks/ (figures go to stdout; not part of the tests)."""
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python3", str(script), *session.posargs, env=OFFLINE)
