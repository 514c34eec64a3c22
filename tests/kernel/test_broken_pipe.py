"""A closed standard output (`assay ... | head`) ends a command quietly; any other broken pipe is a failure."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# A plugin command that writes many lines, or hits a broken pipe of its own (a worker that died).
PLUGIN = textwrap.dedent(
    """
    import os, sys
    from assay import cli, hookimpl
    from assay.plugins import PluginHost

    @hookimpl
    def assay_commands(cli):
        @cli.command("lines")
        def lines(args):
            for i in range(200_000):
                print(f"line {i}")
            return 0

        @cli.command("worker")
        def worker(args):
            r, w = os.pipe()
            os.close(r)
            os.write(w, b"share")  # the reader (a worker) is gone
            return 0

    import assay.plugins as plugins
    host = plugins.host()
    host.register_module(sys.modules[__name__], "pipes-test")
    sys.exit(cli.main(sys.argv[1:]))
    """
)


def _run(tmp_path, *args, stdout=subprocess.PIPE):
    script = tmp_path / "pipes.py"
    script.write_text(PLUGIN)
    return subprocess.Popen([sys.executable, str(script), *args], stdout=stdout, stderr=subprocess.PIPE, text=True)


def test_a_closed_stdout_ends_the_command_quietly(tmp_path):
    proc = _run(tmp_path, "lines")
    assert proc.stdout.readline() == "line 0\n"
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0, err
    assert err == ""


def test_another_broken_pipe_is_a_failure_with_its_cause(tmp_path):
    proc = _run(tmp_path, "worker")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, (out, err)
    assert "error: broken pipe: [Errno 32] Broken pipe" in err
