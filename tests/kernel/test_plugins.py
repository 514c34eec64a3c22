"""Discovery is lazy and isolated; the CLI stays light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

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
    proc = subprocess.run(
        [sys.executable, "-m", "assay", "plugins", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    failures = [f for f in data["failures"] if f["entry_point"] == "broken"]
    assert failures and failures[0]["distribution"] == "assay-broken" and "broken on purpose" in failures[0]["error"]
    assert any(p["distribution"] == "assay" for p in data["plugins"])
    assert "assay plugin 'broken' (assay-broken) failed at import" in proc.stderr
    # and an eval still runs
    proc = subprocess.run(
        [sys.executable, "-m", "assay", "eval", "--datasets", "nope"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2 and "unknown benchmark 'nope'" in proc.stderr and "broken" in proc.stderr


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


@pytest.mark.parametrize("argv", [["plugins"], ["--help"]])
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
    assert names == [n for n in vars(hookspecs) if n.startswith("assay_")] and len(names) == 9
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
