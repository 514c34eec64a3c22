"""Break-it suite: deliberately broken plugins, installed as real distributions, never break the host.

Each plugin below is a real distribution (a ``*.dist-info`` with ``METADATA`` and an ``assay``
entry point, beside its module, on ``PYTHONPATH``: what ``pip install --target`` leaves), found by
``importlib.metadata`` like any installed plugin. All of them are installed together, and the
``assay`` CLI runs in subprocesses: each is named with its error (and the closest correct name),
and ``assay --help``, ``assay plugins``, ``assay eval``, ``assay report`` and ``assay rescore``
still work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from assay_testserver.testing import events as _events
from assay_testserver import testing

# its module-scoped fixture is costly: every test of the module in one pytest-xdist worker, so it runs once
pytestmark = pytest.mark.xdist_group("broken_plugins")

_QA = """
from assay import hookimpl
from assay.api import Sample


class QA:
    name = "{bench}"
    default_scorers = ["exact_match"]

    def __init__(self, args):
        self.args = args

    def load(self, args):
        for i, (q, a) in enumerate([("France?", "Paris"), ("Texas?", "Paris"), ("Italy?", "Rome")]):
            yield Sample(id=str(i), messages=[{{"role": "user", "content": q}}], target=a)


class ExactWord:
    def score(self, sample, generated):
        return []
"""

BROKEN = {
    # a hookimpl parameter that is not the hookspec's
    "brk_param": """
@hookimpl
def assay_scorers(reg):
    reg("brk_param_scorer", ExactWord())


@hookimpl
def assay_benchmarks(register):
    register("brk_param_qa", QA)
""",
    # register(obj, name): the arguments swapped
    "brk_swapped": """
@hookimpl
def assay_scorers(register):
    register(ExactWord(), "brk_swapped_scorer")
    register("brk_swapped_ok", ExactWord())
""",
    # a hook name that no hookspec has
    "brk_misspelled": """
@hookimpl
def assay_scorer(register):
    register("brk_never", ExactWord())
""",
    # a keyword typo in register()
    "brk_keyword": """
@hookimpl
def assay_benchmarks(register):
    register("brk_keyword_qa", QA, descripton="typo")
""",
    # a hook function without @hookimpl
    "brk_unmarked": """
def assay_benchmarks(register):
    register("brk_unmarked_qa", QA)
""",
    # an observer that raises on the first Scored event (its benchmark is the one the eval runs)
    "brk_observer": """
@hookimpl
def assay_benchmarks(register):
    register("brk_observer_qa", QA, description="three capitals")


@hookimpl
def assay_event(event, run):
    if event.type == "Scored":
        raise RuntimeError("observer broke on purpose")
""",
    # a module that fails to import
    "brk_import": None,
}


def _install(site: Path, name: str, body: str | None) -> None:
    dist_name = "assay-" + name.replace("_", "-")
    info = site / f"assay_{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[assay]\n{name} = assay_{name}\n")
    module = "raise ImportError('this plugin is broken on purpose')\n"
    if body is not None:
        module = textwrap.dedent(_QA.format(bench=f"{name}_qa")) + textwrap.dedent(body)
    (site / f"assay_{name}.py").write_text(module)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """Run the CLI once per command in an environment holding every broken plugin."""
    tmp = tmp_path_factory.mktemp("broken")
    site = tmp / "site"
    site.mkdir()
    for name, body in BROKEN.items():
        _install(site, name, body)
    env = {"PYTHONPATH": str(site) + os.pathsep + os.environ.get("PYTHONPATH", ""), "NO_COLOR": "1"}

    def assay(*argv: str) -> subprocess.CompletedProcess[str]:
        return testing.assay(*argv, check=None, env=env, timeout=180)

    out = tmp / "out"
    res: dict[str, subprocess.CompletedProcess[str]] = {
        "help": assay("--help"),
        "plugins": assay("plugins", "--format", "json"),
        "plugins_text": assay("plugins"),
        "eval": assay(
            "eval",
            *("--model", "mock", "--model-args", "answer=Paris", "--datasets", "brk_observer_qa"),
            *("--work-dir", str(out), "--no-progress"),
        ),
    }
    (run,) = list(out.iterdir())
    res["report"] = assay("report", str(run), "--format", "json")
    res["rescore"] = assay("rescore", str(run), "--scorers", "includes", "--work-dir", str(tmp / "rescored"))
    return res, run


EXPECTED = {
    "brk_param": (
        "assay_scorers",
        "assay_scorers(reg): unknown parameter 'reg' (did you mean 'register'?); "
        "the hook's parameters are (register); it is not called",
    ),
    "brk_swapped": (
        "assay_scorers",
        "register(...): the name must be a non-empty string, got ExactWord (arguments swapped? the name comes first)",
    ),
    "brk_misspelled": (
        "assay_scorer",
        "unknown hook 'assay_scorer' (did you mean 'assay_scorers'?); it is never called",
    ),
    "brk_keyword": (
        "assay_benchmarks",
        "register('brk_keyword_qa', ...): unknown keyword 'descripton' (did you mean 'description'?); "
        "it takes description",
    ),
    "brk_unmarked": ("assay_benchmarks", "assay_benchmarks() is not marked @hookimpl, so it is never called"),
}


@pytest.mark.parametrize("plugin", sorted(EXPECTED))
def test_each_broken_plugin_is_named_with_the_closest_correct_name(host, plugin):
    res, _ = host
    stage, error = EXPECTED[plugin]
    failures = json.loads(res["plugins"].stdout)["failures"]
    mine = [f for f in failures if f["entry_point"] == plugin]
    dist = "assay-" + plugin.replace("_", "-")
    assert mine == [{"entry_point": plugin, "distribution": dist, "stage": stage, "error": f"PluginError: {error}"}]
    warning = f"warning: assay plugin {plugin!r} ({dist}) failed at {stage}: PluginError: {error}\n"
    assert warning in res["plugins"].stderr
    assert f"FAILED {dist} (entry point {plugin}) at {stage}: PluginError: {error}" in res["plugins_text"].stdout


def test_an_import_error_is_named(host):
    res, _ = host
    failures = json.loads(res["plugins"].stdout)["failures"]
    assert [f for f in failures if f["entry_point"] == "brk_import"] == [
        {
            "entry_point": "brk_import",
            "distribution": "assay-brk-import",
            "stage": "import",
            "error": "ImportError: this plugin is broken on purpose",
        }
    ]


def test_the_valid_parts_of_broken_plugins_still_register(host):
    res, _ = host
    plugins = {p["entry_point"]: p for p in json.loads(res["plugins"].stdout)["plugins"]}
    assert plugins["brk_param"]["registers"] == {"benchmarks": ["brk_param_qa"]}
    assert plugins["brk_param"]["hooks"] == ["assay_benchmarks"]
    assert plugins["brk_swapped"]["registers"] == {"scorers": ["brk_swapped_ok"]}
    assert plugins["brk_keyword"]["registers"] == {}
    assert plugins["brk_observer"]["observes_events"] is True
    assert plugins["brk_observer"]["descriptions"] == {"benchmarks": {"brk_observer_qa": "three capitals"}}
    assert "brk_import" not in plugins
    assert plugins["builtin"]["registers"] == {
        "executors": ["local"],
        "models": ["mock"],
        "scorers": ["exact_match", "includes"],
    }
    # the judges are a plugin of their own (assay-judge), reached through the assay_judge hook; its --judge-*
    # flags come through assay_options / assay_option_values
    assert plugins["judge"]["registers"] == {"scorers": ["llm_judge"]}
    assert plugins["judge"]["hooks"] == ["assay_judge", "assay_option_values", "assay_options", "assay_scorers"]
    # the eval report is a plugin of its own (assay-eval-report)
    assert plugins["eval_report"]["registers"] == {"reporters": ["eval"]}


def test_help_and_plugins_still_run(host):
    res, _ = host
    assert res["help"].returncode == 0 and "plugins" in res["help"].stdout
    assert res["plugins"].returncode == 0 and res["plugins_text"].returncode == 0
    assert "observes: every event (assay_event)" in res["plugins_text"].stdout


def test_a_raising_observer_is_recorded_and_the_eval_goes_on(host):
    res, run = host
    assert res["eval"].returncode == 0, res["eval"].stderr
    events = _events(run, whole=True)
    first_scored = next(e["seq"] for e in events if e["type"] == "Scored")
    message = (
        "assay_event observer of plugin 'brk_observer' (assay-brk-observer) raised RuntimeError: "
        f"observer broke on purpose on event seq {first_scored} (Scored); it is switched off for this run"
    )
    assert f"warning [plugin brk_observer]: {message}" in res["eval"].stderr
    warnings = [e for e in events if e["type"] == "Warning"]
    assert [(w["body"]["source"], w["body"]["message"]) for w in warnings] == [("plugin brk_observer", message)]
    assert events[-1]["type"] == "RunFinished" and events[-1]["body"].get("status", "completed") == "completed"
    assert sum(e["type"] == "Scored" for e in events) == 3


def test_report_and_rescore_still_run(host):
    res, _ = host
    assert res["report"].returncode == 0, res["report"].stderr
    rows = json.loads(res["report"].stdout)
    assert [(r["dataset"], r["metric"], r["subset"], r["num"], r["errors"], r["score"]) for r in rows] == [
        ("brk_observer_qa", "exact_match", "default", 3, 0, 2 / 3)
    ]
    assert res["rescore"].returncode == 0, res["rescore"].stderr


def test_a_command_whose_distribution_failed_to_load_names_it(tmp_path):
    # a module that shadows assay_tui and fails to import: the tui entry point of assay-tui fails
    (tmp_path / "assay_tui.py").write_text("raise ImportError('textual is missing')\n")
    env = {"PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = testing.assay("view", check=2, env=env, timeout=60)
    assert proc.stderr.endswith(
        "assay: error: 'view' is a command of the assay-tui distribution, which failed to load: "
        "ImportError: textual is missing\n"
    )


def test_a_command_whose_distribution_is_not_installed_names_it():
    code = (
        "import assay.plugins as p, sys; from assay.cli import main; "
        "p._host = p.PluginHost(entry_points=False); sys.exit(main(['view']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (
        2,
        "assay: error: 'view' is a command of the assay-tui distribution, which is not installed: pip install assay-tui\n",
    )


def test_an_unknown_command_names_the_closest_one():
    proc = testing.assay("evl", "--limit", "1", check=2, timeout=60)
    last = proc.stderr.splitlines()[-1]  # (after any warning about other installed plugins)
    head, _, listed = last.partition("; commands: ")
    assert head == "assay: error: unknown command 'evl' (did you mean 'eval'?)"
    names = listed.split(", ")
    assert names == sorted(names) and {"compare", "eval", "report"} <= set(names)
