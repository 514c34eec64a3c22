"""Discovery contract: the installed distribution is found through its entry point and
adds `assay view`; importing the plugin module does not import Textual."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from assay_testserver.testing import assay


def test_plugin_host_finds_assay_tui():
    from assay.plugins import PluginHost

    host = PluginHost()
    (tui,) = [p for p in host.loaded if p.name == "tui"]
    assert tui.distribution == "assay-tui"
    assert tui.version == metadata.version("assay-tui")
    assert [ep.value for ep in metadata.entry_points(group="assay", name="tui")] == ["assay_tui"]
    assert not [f for f in host.failures if f.plugin == "tui"]
    # it registers the `view` command through assay_commands
    from assay.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert "view" in sub.choices


def test_import_is_light():
    code = "import sys, assay_tui; print('textual' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_view_help_runs():
    out = assay("view", "--help").stdout
    assert "PATH" in out and "--replay" in out
