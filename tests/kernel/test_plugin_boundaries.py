"""Plugins import each other only through declared public API (issue 11: plugin boundaries).

A distribution that other plugins may import says so in its ``pyproject.toml``::

    [tool.assay]
    shared-library = true                        # the whole package is public API (assay-mcq, assay-mathkit)
    public = ["assay_openai.http", "assay_openai.sse"]   # or: only these modules

Every module under ``plugins/*/src`` (and the distributions under ``contrib/``) is parsed with ``ast``; an import
of another distribution's package fails the test, named ``file:line``, when (a) that module is not declared
public by its distribution, (b) it reaches a name starting with ``_`` (a private module, name or attribute), or
(c) the importing distribution does not list the other in ``[project].dependencies``. Test directories are
not scanned (they may use ``assay_testserver.testing`` and private names to test them).
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
TOOL_KEYS = {"shared-library", "public"}


@dataclass
class Dist:
    name: str
    root: Path
    packages: set[str]
    deps: set[str]
    shared: bool = False
    public: set[str] = field(default_factory=set)


def _dist(root: Path) -> Dist:
    meta = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    project = meta["project"]
    tool = meta.get("tool", {}).get("assay", {})
    unknown = set(tool) - TOOL_KEYS
    assert not unknown, (
        f"{root}/pyproject.toml: unknown [tool.assay] keys {sorted(unknown)} (known: {sorted(TOOL_KEYS)})"
    )
    shared = tool.get("shared-library", False)
    public = tool.get("public", [])
    assert isinstance(shared, bool), f"{root}/pyproject.toml: [tool.assay] shared-library must be true or false"
    assert isinstance(public, list) and all(isinstance(m, str) for m in public), (
        f"{root}/pyproject.toml: [tool.assay] public must be a list of module names"
    )
    src = root / "src"
    packages = set()
    if src.is_dir():  # its top-level packages and single-file modules
        packages = {p.name for p in src.iterdir() if (p / "__init__.py").exists()} | {p.stem for p in src.glob("*.py")}
    deps = {canonicalize_name(Requirement(r).name) for r in project.get("dependencies", [])}
    return Dist(canonicalize_name(project["name"]), root, packages, deps, shared, set(public))


def distributions(repo: Path) -> list[Dist]:
    """Every distribution with a ``src/`` layout: plugins/*/ and the ones under contrib/."""
    roots = sorted(p.parent for p in (repo / "plugins").glob("*/pyproject.toml"))
    if (repo / "contrib").is_dir():
        roots += sorted(p.parent for p in (repo / "contrib").rglob("pyproject.toml") if (p.parent / "src").is_dir())
    return [_dist(r) for r in roots]


def _module_file(dist: Dist, module: str) -> Path | None:
    base = dist.root / "src" / Path(*module.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _first_private(dotted: str) -> str | None:
    """The first part of ``a.b._c`` that is private (``_c``); dunders such as ``__name__`` are not."""
    for part in dotted.split("."):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return part
    return None


def _imports(tree: ast.Module) -> list[tuple[int, str, list[str] | None]]:
    """(line, module, names imported from it, or None for ``import module``) for each absolute import."""
    out: list[tuple[int, str, list[str] | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module, [a.name for a in node.names]))
        elif (  # importlib.import_module("pkg.mod") / __import__("pkg.mod") with a constant name
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__"))
            )
        ):
            out.append((node.lineno, node.args[0].value, None))
    return sorted(out, key=lambda t: t[0])


def _bound_names(tree: ast.Module) -> dict[str, str]:
    """Local name -> the module (or module.name) an import binds it to."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def _attribute_chains(tree: ast.Module) -> list[tuple[int, str, str]]:
    """Outermost ``name.a.b`` expressions: (line, root name, dotted)."""
    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            parts = []
            cur: ast.expr = node
            while isinstance(cur, ast.Attribute):
                parts.append(cur.attr)
                cur = cur.value
            if isinstance(cur, ast.Name):
                out.append((node.lineno, cur.id, ".".join([cur.id, *reversed(parts)])))
    return sorted(out, key=lambda t: t[0])


def check_module(path: Path, own: Dist, owners: dict[str, Dist], shown: Path) -> list[str]:
    """The boundary violations of one module of ``own``, each as ``file:line: import: why``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    problems: list[str] = []

    def report(line: int, what: str, why: str) -> None:
        msg = f"{shown}:{line}: {what}: {why}"
        if msg not in problems:
            problems.append(msg)

    for line, module, names in _imports(tree):
        other = owners.get(module.split(".")[0])
        if other is None or other is own:
            continue
        what = f"import {module}" if names is None else f"from {module} import {', '.join(names)}"
        if other.name not in own.deps:
            report(line, what, f"{own.name} does not list {other.name} in [project].dependencies")
        targets = [module] if names is None or names == ["*"] else [f"{module}.{n}" for n in names]
        for target in targets:
            private = _first_private(target)
            if private:
                report(line, what, f"{private} is private to {other.name}")
            elif not (other.shared or module in other.public or target in other.public):
                declared = sorted(other.public) or "nothing"
                report(
                    line,
                    what,
                    f"{module} is not public API of {other.name} (its pyproject's [tool.assay] declares {declared})",
                )
    bound = _bound_names(tree)
    for line, root, dotted in _attribute_chains(tree):
        other = owners.get(bound.get(root, "").split(".")[0])
        if other is None or other is own:
            continue
        private = _first_private(dotted)
        if private:
            report(line, dotted, f"{private} is private to {other.name}")
    return problems


def violations(repo: Path) -> list[str]:
    dists = distributions(repo)
    owners = {pkg: d for d in dists for pkg in d.packages}
    # the kernel's API is every module of it, but not its private names (assay.evaluate._helper)
    owners.setdefault("assay", Dist("assay", repo, {"assay"}, set(), shared=True))
    problems: list[str] = []
    for dist in dists:
        for path in sorted((dist.root / "src").rglob("*.py")):
            if "tests" in path.relative_to(dist.root).parts:
                continue
            problems += check_module(path, dist, owners, path.relative_to(repo))
    return problems


# -- the repository ------------------------------------------------------------------------------------------


def test_no_plugin_imports_another_plugins_undeclared_or_private_modules():
    problems = violations(REPO)
    assert problems == [], "cross-plugin imports outside the declared API:\n" + "\n".join(problems)


def test_every_declared_public_module_exists_and_is_public():
    for dist in distributions(REPO):
        for module in sorted(dist.public):
            assert module.split(".")[0] in dist.packages, f"{dist.name}: public {module!r} is not in its src packages"
            assert not _first_private(module), f"{dist.name}: public {module!r} has a private (_) part"
            assert _module_file(dist, module), f"{dist.name}: public module {module!r} has no file under src/"


def test_the_readme_names_every_declared_api():
    text = README.read_text(encoding="utf-8")
    assert "\n## Plugin boundaries" in text, "README has no 'Plugin boundaries' section"
    section = text.split("\n## Plugin boundaries", 1)[1].split("\n## ", 1)[0]
    for dist in distributions(REPO):
        if dist.shared:
            assert f"`{dist.name}`" in section, f"README's Plugin boundaries section does not name {dist.name}"
        for module in dist.public:
            assert f"`{module}`" in section, f"README's Plugin boundaries section does not name {module}"


# -- the checker itself, over a synthetic tree ----------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _plugin(repo: Path, name: str, deps: list[str], tool: str = "") -> Path:
    root = repo / "plugins" / name
    pkg = name.replace("-", "_")
    _write(
        root / "pyproject.toml",
        f'[project]\nname = "{name}"\nversion = "0.1"\ndependencies = {deps!r}\n'.replace("'", '"') + tool,
    )
    _write(root / "src" / pkg / "__init__.py", "")
    return root / "src" / pkg


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    lib = _plugin(tmp_path, "lib", [], "[tool.assay]\nshared-library = true\n")
    _write(lib / "_impl.py", "X = 1\n")
    api = _plugin(tmp_path, "api", ["assay"], '[tool.assay]\npublic = ["api.wire"]\n')
    _write(api / "wire.py", "def parse(): ...\ndef _helper(): ...\n")
    _write(api / "runner.py", "class _Load: ...\nclass Load: ...\n")
    _write(api / "tests" / "test_x.py", "from api.runner import _Load\n")  # a tests folder is exempt
    user = _plugin(tmp_path, "user", ["assay", "lib>=0.1", "API"])
    _write(
        user / "ok.py",
        "from __future__ import annotations\n"
        "import json\n"
        "import lib\n"
        "from lib import anything\n"
        "from api.wire import parse\n"
        "from api import wire\n"
        "import api.wire as w\n"
        "from . import ok\n"
        "w.parse()\n"
        "wire.parse()\n",
    )
    _write(
        user / "bad.py",
        "import api.runner\n"  # 1: (a) a module not declared public
        "def f():\n"
        "    from api.runner import Load, _Load\n"  # 3: (a) twice, (b) _Load
        "    from api.wire import _helper\n"  # 4: (b)
        "    from lib._impl import X\n"  # 5: (b) private module of a shared library
        "    import importlib\n"
        "    importlib.import_module('api.runner')\n"  # 7: (a)
        "    from api import wire\n"
        "    return wire._helper()\n",  # 9: (b) through an attribute
    )
    lonely = _plugin(tmp_path, "lonely", ["assay"])
    _write(lonely / "m.py", "from lib import thing\n")  # (c) lib is not a dependency of lonely
    # the kernel: any module, no private name, and listed as a dependency
    _write(lonely / "k.py", "from assay.evaluate import run_eval\nfrom assay.evaluate import _run_async\n")
    _write(lib / "k.py", "import assay.log\n")
    return tmp_path


def test_the_checker_names_each_violation_by_file_and_line(tree: Path):
    bad = "plugins/user/src/user/bad.py"
    assert violations(tree) == [
        "plugins/lib/src/lib/k.py:1: import assay.log: lib does not list assay in [project].dependencies",
        "plugins/lonely/src/lonely/k.py:2: from assay.evaluate import _run_async: _run_async is private to assay",
        "plugins/lonely/src/lonely/m.py:1: from lib import thing: lonely does not list lib in [project].dependencies",
        f"{bad}:1: import api.runner: api.runner is not public API of api (its pyproject's [tool.assay] declares "
        "['api.wire'])",
        f"{bad}:3: from api.runner import Load, _Load: api.runner is not public API of api (its pyproject's "
        "[tool.assay] declares ['api.wire'])",
        f"{bad}:3: from api.runner import Load, _Load: _Load is private to api",
        f"{bad}:4: from api.wire import _helper: _helper is private to api",
        f"{bad}:5: from lib._impl import X: _impl is private to lib",
        f"{bad}:7: import api.runner: api.runner is not public API of api (its pyproject's [tool.assay] "
        "declares ['api.wire'])",
        f"{bad}:9: wire._helper: _helper is private to api",
    ]


def test_the_checker_accepts_a_declared_module_once_it_is_public(tree: Path):
    (tree / "plugins" / "api" / "pyproject.toml").write_text(
        '[project]\nname = "api"\nversion = "0.1"\ndependencies = []\n'
        '[tool.assay]\npublic = ["api.wire", "api.runner"]\n',
        encoding="utf-8",
    )
    bad = "plugins/user/src/user/bad.py"
    assert [p for p in violations(tree) if p.startswith(bad)] == [
        f"{bad}:3: from api.runner import Load, _Load: _Load is private to api",
        f"{bad}:4: from api.wire import _helper: _helper is private to api",
        f"{bad}:5: from lib._impl import X: _impl is private to lib",
        f"{bad}:9: wire._helper: _helper is private to api",
    ]


def test_the_checker_rejects_an_unknown_tool_key(tmp_path: Path):
    _plugin(tmp_path, "typo", [], "[tool.assay]\nshared_library = true\n")
    with pytest.raises(AssertionError, match=r"unknown \[tool.assay\] keys \['shared_library'\]"):
        violations(tmp_path)
