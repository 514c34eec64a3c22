"""Discovery is lazy and isolated; the CLI stays light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from assay_testserver.testing import assay

HEAVY = ("torch", "transformers", "openai", "textual", "sentence_transformers", "modelscope")


def _broken_plugin(tmp_path: Path) -> dict[str, str]:
    """A real installed-looking distribution whose module raises on import."""
    site = tmp_path / "site"
    dist = site / "assay_broken-9.9.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: assay-broken\nVersion: 9.9\n")
    (dist / "entry_points.txt").write_text("[assay]\nbroken = assay_broken_plugin\n")
    (site / "assay_broken_plugin.py").write_text("raise ImportError('this plugin is broken on purpose')\n")
    return {**os.environ, "PYTHONPATH": str(site) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_a_plugin_that_fails_to_import_is_named_and_the_rest_work(tmp_path):
    env = _broken_plugin(tmp_path)
    proc = assay("plugins", "--format", "json", env=env, timeout=60)
    data = json.loads(proc.stdout)
    failures = [f for f in data["failures"] if f["entry_point"] == "broken"]
    assert failures and failures[0]["distribution"] == "assay-broken" and "broken on purpose" in failures[0]["error"]
    assert any(p["distribution"] == "assay" for p in data["plugins"])
    assert "assay plugin 'broken' (assay-broken) failed at import" in proc.stderr
    # and an eval still runs
    proc = assay("eval", "--datasets", "nope", env=env, timeout=60, check=2)
    assert "unknown benchmark 'nope'" in proc.stderr and "broken" in proc.stderr


def test_a_hook_that_raises_is_isolated():
    from assay import hookimpl
    from assay.plugins import PluginHost

    class Bad:
        @hookimpl
        def assay_benchmarks(self, register):
            raise RuntimeError("boom")

    host = PluginHost()
    with pytest.warns(RuntimeWarning, match="boom"):
        host.register_module(Bad(), "bad")
        benchmarks = host.benchmarks()
    assert "gsm8k" in benchmarks  # the others still registered
    assert any(f.plugin == "bad" and f.stage == "assay_benchmarks" for f in host.failures)


@pytest.mark.parametrize("argv", [["plugins"], ["--help"], ["eval", "--help"], ["perf", "--help"]])
def test_cli_listing_imports_no_heavy_library(argv):
    code = textwrap.dedent(
        f"""
        import sys
        from assay.cli import main
        try:
            main({argv!r})
        except SystemExit:
            pass
        heavy = [m for m in {HEAVY!r} if m in sys.modules]
        print("HEAVY=" + ",".join(heavy), file=sys.stderr)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY=\n" in proc.stderr or proc.stderr.rstrip().endswith("HEAVY="), proc.stderr


def _hook_reference():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "contrib" / "hook_reference.py"
    spec = importlib.util.spec_from_file_location("hook_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hookspecs_are_all_documented_and_the_reference_has_not_drifted():
    from assay import hookspecs

    ref = _hook_reference()
    names = [n for n, _ in ref.hookspecs()]
    assert names == [n for n in vars(hookspecs) if n.startswith("assay_")] and len(names) == 14
    generated = ref.render()
    for name in names:
        assert f"### `{name}(" in generated
    assert ref.current() == generated, "contrib/README.md drifted from hookspecs.py: run contrib/hook_reference.py"


def test_the_hook_reference_check_fails_on_an_undocumented_hook(monkeypatch):
    from assay import hookspecs

    ref = _hook_reference()

    @hookspecs.hookspec
    def assay_undocumented(register):
        pass

    monkeypatch.setattr(hookspecs, "assay_undocumented", assay_undocumented, raising=False)
    with pytest.raises(SystemExit, match="hookspec assay_undocumented has no documentation"):
        ref.render()


def test_the_hook_reference_check_fails_on_drift(monkeypatch):
    from assay import hookspecs

    ref = _hook_reference()
    monkeypatch.setattr(hookspecs.assay_scorers, "__doc__", hookspecs.assay_scorers.__doc__ + "\n    More.\n")
    assert ref.main(["--check"]) == 1


def test_versions_are_reported():
    from assay.plugins import PluginHost

    host = PluginHost()
    by_dist = {v["distribution"]: v["version"] for v in host.versions()}
    assert by_dist["assay"] == "0.1.0" and "assay-gsm8k" in by_dist


def test_an_observer_whose_awaitable_raises_is_recorded_and_switched_off(tmp_path, capsys):
    import anyio
    from assay import hookimpl
    from assay.events import Warning_
    from assay.log import iter_events
    from assay.plugins import PluginHost
    from assay.run import Run

    calls = []

    class AsyncObserver:
        @hookimpl
        def assay_event(self, event, run):
            calls.append(event.seq)

            async def later():
                raise ValueError(f"late failure {event.seq}")

            return later()

    host = PluginHost(entry_points=False)
    host.register_module(AsyncObserver(), "late", "assay-late")
    run = Run(tmp_path, "r1", None, host)
    run.emit(Warning_(source="test", message="one"))
    run.emit(Warning_(source="test", message="two"))
    anyio.run(run.drain_observers)
    run.close()
    warnings = [e.body for e in iter_events(tmp_path) if e.body.source.startswith("plugin")]
    message = (
        "assay_event observer of plugin 'late' (assay-late) raised ValueError: late failure 0 on event seq 0 "
        "(Warning); it is switched off for this run"
    )
    assert [(w.source, w.message) for w in warnings] == [("plugin late", message)]
    assert calls == [0, 1]  # switched off before the warning it caused was dispatched
    assert capsys.readouterr().err == f"warning [plugin late]: {message}\n"


def test_misspelled_hooks_never_reach_pluggy_check_pending():
    from assay import hookimpl
    from assay.plugins import PluginHost

    class Misspelled:
        @hookimpl
        def assay_benchmark(self, register):
            pass

        @hookimpl
        def assay_scorers(self, register):
            register("fine", "somewhere:SCORER")

    host = PluginHost(entry_points=False)
    with pytest.warns(RuntimeWarning, match="unknown hook 'assay_benchmark' \\(did you mean 'assay_benchmarks'\\?\\)"):
        host.register_module(Misspelled(), "misspelled")
    host.pm.check_pending()  # what pluggy would raise on is reported, not registered
    assert list(host.scorers()) == ["fine"] and host.hooks_of("misspelled") == ["assay_scorers"]


def test_plugins_verbose_lists_descriptions_commands_and_observers():
    out = assay("plugins", "-v", timeout=120).stdout
    assert (
        "assay 0.1.0  (entry point: builtin)\n    executors:\n      local  anyio tasks in this process (the default)\n"
        "    models:\n      mock  deterministic offline model (the default)\n" in out
    )
    assert "      exact_match  output equals the target, ignoring case and runs of whitespace\n" in out
    assert "assay-tui 0.1.0  (entry point: tui)\n    commands:\n      view  browse runs in a terminal UI" in out


def test_an_observer_may_take_fewer_parameters(tmp_path):
    from assay import hookimpl
    from assay.events import Warning_
    from assay.plugins import PluginHost
    from assay.run import Run

    seen = []

    class EventOnly:
        @hookimpl
        def assay_event(self, event):
            seen.append((event.seq, event.type))

    host = PluginHost(entry_points=False)
    host.register_module(EventOnly(), "event_only")
    run = Run(tmp_path, "r1", None, host)
    run.emit(Warning_(source="test", message="one"))
    run.close()
    assert seen == [(0, "Warning")] and host.failures == []


def test_swapped_lazy_registration_is_named():
    from assay import hookimpl
    from assay.plugins import PluginHost

    class Swapped:
        @hookimpl
        def assay_scorers(self, register):
            register("my_plugin.scorer:SCORER", "my_scorer")

    host = PluginHost(entry_points=False)
    host.register_module(Swapped(), "swapped", "my-plugin")
    with pytest.warns(RuntimeWarning):
        assert host.scorers() == {}
    assert [(f.plugin, f.distribution, f.stage, f.error) for f in host.failures] == [
        (
            "swapped",
            "my-plugin",
            "assay_scorers",
            "PluginError: register('my_plugin.scorer:SCORER', ...): a string object must be 'module:attribute', "
            "got 'my_scorer' (arguments swapped? the name comes first)",
        )
    ]
