"""Start-up of ``assay eval`` (issue 18): the modules a run imports are the ones it uses.

A real ``assay eval`` (its ``main``, in a child process) of GSM8K against the test server; the
modules loaded when it returns are listed and checked: no plugin's command parsers (``perf``,
``view``, collections...), which only ``assay --help``, ``assay plugins`` and the commands
themselves need.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from assay_testserver.testing import assay

# modules that `assay eval` of an API model must not load (each costs start-up time)
NOT_IMPORTED = [
    "aiohttp",  # assay_openai.lean sends the requests to plain http://
    "numpy",  # assay_perf.stats folds the request times
    "assay_perf.cli",
    "assay_collection.cli",
    "assay_interop.cli",
    "assay_transformers.speed",
    "assay_arena.command",
    "assay_compare.command",
    "importlib.metadata",  # assay.plugins.entry_points reads the entry points itself
    "urllib.request",  # no proxy variable set: the lean client's target needs no urllib
    "email",  # (both of those import it)
    "assay_mlflow.tracker",  # trackers that are off import nothing per event
    "assay_wandb.tracker",
    "assay_swanlab.tracker",
    "assay_judge.judge",  # no judge configured: none is opened
    "jinja2",  # report.html is rendered by assay_report_html.page
]


def _eval_modules(url: str, datasets_dir, tmp_path, *extra: str) -> tuple[int, list[str]]:
    out = tmp_path / "modules.json"
    argv = [
        "eval", "--model", "m", "--api-url", url, "--datasets", "gsm8k", "--limit", "3",
        "--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path / "runs"), "--no-progress", *extra,
    ]  # fmt: skip
    code = textwrap.dedent(
        f"""
        import json, sys
        from assay.cli import main
        rc = main({argv!r})
        open({str(out)!r}, "w").write(json.dumps([rc, sorted(sys.modules)]))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rc, modules = json.loads(out.read_text())
    return rc, modules


def test_eval_imports_no_plugin_command(test_server, datasets_dir, tmp_path):
    srv = test_server(default_answer="#### 18")
    rc, modules = _eval_modules(srv.url, datasets_dir, tmp_path)
    assert rc == 0
    assert [m for m in NOT_IMPORTED if m in modules] == []
    assert "assay_gsm8k.benchmark" in modules and "assay_openai.model" in modules  # it did run


def test_help_and_plugins_still_list_plugin_commands():
    for argv in (["--help"], ["plugins"]):
        proc = assay(*argv, timeout=120)
        assert "perf" in proc.stdout and "view" in proc.stdout, argv


def test_plugin_names_and_versions_are_importlib_metadata_s(tmp_path):
    """Discovery reads Name and Version from the head of METADATA (no email parser): the same as
    ``dist.name`` / ``dist.version`` for every installed distribution, and for odd headers."""
    from importlib import metadata

    from assay.plugins import _name_version

    dists = list(metadata.distributions())
    assert len(dists) > 50
    assert [_name_version(d) for d in dists] == [(d.name, d.version) for d in dists]
    for i, head in enumerate(
        [
            "Metadata-Version: 2.1\nName: Odd-Name  \nVersion: 1.0\n\nbody",  # trailing spaces are kept
            "Metadata-Version: 2.1\nName: folded\n  name\nVersion: 2\n",  # a continued header
            "Metadata-Version: 2.1\nVersion: 3\n",  # no Name
            "Name:x\nVersion:\t4\nName: second\n",
        ]
    ):
        info = tmp_path / f"odd{i}-1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(head)
        d = metadata.PathDistribution(info)
        assert _name_version(d) == (d.name, d.version), head


def _site(root, name: str, dist: str, entry_points: str) -> None:
    info = root / f"{dist}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_entry_points_are_importlib_metadata_s(tmp_path, monkeypatch):
    """assay.plugins.entry_points(group) gives what importlib.metadata.entry_points(group=...) gives: the
    same entry points of the same distributions in the same order, for this environment's groups and for
    a path where a distribution is shadowed, sections are odd, and names need normalising."""
    from importlib import metadata

    from assay.plugins import entry_points

    if "importlib_metadata" in sys.modules:
        # The backport, imported by some earlier test's library, has replaced the stdlib's distribution
        # finder for this whole process, and entry_points rightly hands everything to importlib.metadata:
        # the same answer here, and the reader itself is checked in a clean interpreter.
        assert [(e.name, e.value) for e in entry_points("assay")] == [
            (e.name, e.value) for e in metadata.entry_points(group="assay")
        ]
        test = f"{__file__}::test_entry_points_are_importlib_metadata_s"
        args = [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", test]
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        return

    def same(group: str) -> None:
        mine = [(e.name, e.value, str(e.dist.path)) for e in entry_points(group)]
        lib = [(e.name, e.value, str(e.dist._path)) for e in metadata.entry_points(group=group)]
        assert mine == lib, group

    for group in ("assay", "console_scripts", "pytest11"):
        same(group)
    assert len(entry_points("assay")) > 40
    loaded = [e.load() for e in entry_points("console_scripts") if e.name in ("pytest", "assay")]
    assert loaded == [
        e.load() for e in metadata.entry_points(group="console_scripts") if e.name in ("pytest", "ruff", "assay")
    ]
    assert len(loaded) == 2 and callable(loaded[0])
    a, b = tmp_path / "a", tmp_path / "b"
    _site(a, "Shadow.Plugin", "Shadow.Plugin-2.0", "[assay]\nfirst = mod_a:hook.attr\n")
    _site(b, "shadow_plugin", "shadow_plugin-1.0", "[assay]\nfirst = mod_b\nonly_in_b = mod_b\n")
    _site(b, "other", "other-1.0", "# a comment\n[console_scripts]\nx = y:z\n\n[assay]\n  spaced =  mod_c [extra]  \n")
    _site(b, "none", "none-1.0", "[assay.more]\nnot = this\n")
    monkeypatch.setattr(sys, "path", [str(a), str(b), str(tmp_path / "missing")])
    same("assay")
    assert [(e.name, e.value) for e in entry_points("assay")] == [
        ("first", "mod_a:hook.attr"),
        ("spaced", "mod_c [extra]"),
    ]


def _signature_positional(f) -> list[str]:
    import inspect

    return [
        p.name
        for p in inspect.signature(f).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]


def test_hook_parsing_is_pluggys():
    """Registration reads a module function's hook marker and parameters without pluggy's static lookup
    and inspect.signature per attribute: the same answers as theirs, for every attribute of every
    installed plugin module and for odd functions."""
    import functools
    import types

    import pluggy

    from assay import hookimpl
    from assay.plugins import GROUP, _Manager, _positional, entry_points

    mine, theirs = _Manager(GROUP), pluggy.PluginManager(GROUP)
    modules = [ep.load() for ep in entry_points(GROUP)]
    assert len(modules) > 40
    hooks = 0
    for module in modules:
        for attr in dir(module):
            got = mine.parse_hookimpl_opts(module, attr)
            assert got == theirs.parse_hookimpl_opts(module, attr), (module, attr)
            if got is not None:
                hooks += 1
                f = getattr(module, attr)
                assert _positional(f) == _signature_positional(f), (module, attr)
    assert hooks > 60

    def odd(a, /, b, c=1, *args, d, e=2, **kw): ...

    def hook(register): ...

    odd.assay_impl = "not a dict"  # a marker that is not options: not a hook, as pluggy says
    wrapped = functools.wraps(hook)(lambda *a: None)
    hook_too = hookimpl(lambda register, extra=None: None)
    mod = types.ModuleType("m")
    mod.odd, mod.hook, mod.hook_too, mod.wrapped, mod.part = odd, hook, hook_too, wrapped, functools.partial(odd, 1)
    for attr in ("odd", "hook", "hook_too", "wrapped", "part", "__name__", "missing"):
        assert mine.parse_hookimpl_opts(mod, attr) == theirs.parse_hookimpl_opts(mod, attr), attr
    assert mine.parse_hookimpl_opts(mod, "hook_too")["optionalhook"] is False  # (a hook: options)
    assert mine.parse_hookimpl_opts(mod, "odd") is None
    assert _positional(odd) == _signature_positional(odd) == ["a", "b"]
    assert _positional(hook_too) == ["register"]
    for f in (wrapped, functools.partial(odd, 1), print):
        with pytest.raises(LookupError):
            _positional(f)


def test_generation_freezes_start_up_and_gives_it_back(tmp_path, datasets_dir):
    """While samples are generated, start-up's objects are frozen out of the collector's passes and the
    young generation is larger; before and after, the collector is as the caller had it."""
    import gc

    from assay import hookimpl
    from assay.evaluate import run_eval
    from assay.plugins import PluginHost

    seen: list[tuple[int, tuple[int, int, int]]] = []

    class Probe:
        @hookimpl
        def assay_event(self, event, run):
            if type(event.body).__name__ == "Generated":
                seen.append((gc.get_freeze_count(), gc.get_threshold()))

    host = PluginHost()
    host.register_module(Probe(), "probe")
    before = gc.get_threshold()
    gc.set_threshold(500, 7, 9)
    try:
        cfg = {"datasets": ["gsm8k"], "limit": 3, "dataset_dir": str(datasets_dir), "work_dir": str(tmp_path)}
        report = run_eval({**cfg, "progress": False}, plugins=host)
        assert (gc.get_threshold(), gc.get_freeze_count()) == ((500, 7, 9), 0)
    finally:
        gc.set_threshold(*before)
    assert report["status"] == "completed" and len(seen) == 3
    assert all(frozen > 10_000 and threshold == (10_000, 7, 9) for frozen, threshold in seen), seen
