"""The ``assay`` command's exit: the heap is frozen before the interpreter's exit walks it (assay.cli.run)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

# after run() has called sys.exit, an atexit handler sees what the interpreter's exit will see
PROBE = (
    "import atexit, gc, sys\n"
    "atexit.register(lambda: print('frozen', gc.get_freeze_count(), file=sys.stderr))\n"
    "sys.argv = ['assay', 'plugins']\n"
    "from assay.cli import run\n"
    "run()\n"
)


def test_the_command_exits_with_a_frozen_heap_and_mains_status():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    frozen = [line for line in done.stderr.splitlines() if line.startswith("frozen ")]
    assert frozen and int(frozen[0].split()[1]) > 1000, done.stderr  # the objects of a started assay
    bad = subprocess.run([sys.executable, "-m", "assay", "no-such-command"], capture_output=True, text=True)
    assert bad.returncode == 2  # main's status is the process's


def test_the_console_script_and_python_m_assay_go_through_run():
    (script,) = entry_points(group="console_scripts", name="assay")
    assert script.value == "assay.cli:run"
    from pathlib import Path

    import assay

    assert "run()" in (Path(assay.__file__).parent / "__main__.py").read_text()
