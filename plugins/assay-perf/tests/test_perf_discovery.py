"""Discovery contract: the installed entry point, its distribution and version, what it registers."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest


def test_plugin_host_finds_assay_perf():
    from assay.plugins import PluginHost

    host = PluginHost()
    (loaded,) = [p for p in host.loaded if p.name == "perf"]
    assert loaded.distribution == "assay-perf"
    assert loaded.version == metadata.version("assay-perf") == "0.1.0"
    assert [ep.value for ep in metadata.entry_points(group="assay", name="perf")] == ["assay_perf"]
    assert {"openai", "openai_chat", "openai_completions", "openai_embeddings"} <= set(host.perf_apis())
    assert {"random", "line_by_line", "openqa", "custom", "mt_bench", "arena_hard"} <= set(host.perf_datasets())
    assert host.reporters()["perf"].distribution == "assay-perf"
    assert "perf" in host.reporters()["perf"].obj.kinds
    assert not [f for f in host.failures if f.distribution == "assay-perf"]


def test_import_is_light_and_command_registered():
    code = (
        "import sys, assay_perf; heavy = [m for m in ('aiohttp', 'numpy', 'transformers', 'torch', 'uvloop') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    from assay.cli import build_parser

    args = build_parser().parse_args(
        [
            "perf",
            "--url",
            "http://x/v1",
            "--model",
            "m",
            "--parallel",
            "1",
            "8",
            "--number",
            "10",
            "80",
            "--slo",
            "ttft:500",
            "e2e:9000",
        ]
    )
    assert args.parallel == [1, 8] and args.number == [10, 80] and dict(args.slo) == {"ttft": 500.0, "e2e": 9000.0}


def test_bad_flags_give_clear_errors():
    from assay.api import AssayError
    from assay.cli import build_parser
    from assay_perf.cli import options_from_args

    parse = lambda *a: build_parser().parse_args(["perf", *a])
    with pytest.raises(AssayError, match="--parallel has 3 values, --number 2 and --rate 1"):
        options_from_args(
            parse("--url", "u", "--model", "m", "--parallel", "1", "2", "3", "--number", "1", "2")
        ).points()
    with pytest.raises(AssayError, match="--extra-args: invalid JSON"):
        options_from_args(parse("--url", "u", "--model", "m", "--extra-args", "{bad"))
    with pytest.raises(AssayError, match="needs --url"):
        options_from_args(parse("--model", "m"))
    with pytest.raises(SystemExit):
        parse("--url", "u", "--slo", "speed:3")


def test_speed_benchmark_goes_through_the_registered_command(capsys, monkeypatch):
    """--speed-benchmark hands over to `assay speed-benchmark` (assay-transformers' registered command),
    never importing another plugin's modules; perf-only flags are named as ignored."""
    from assay.cli import main

    src = (Path(__file__).parents[1] / "src" / "assay_perf" / "cli.py").read_text(encoding="utf-8")
    assert "assay_transformers" not in src and "._actions" not in src and "argparse._" not in src
    try:
        import assay_transformers.speed
    except ImportError:
        rc = main(["perf", "--speed-benchmark", "--model", "m", "--parallel", "2"])
        assert rc == 2
        assert "'speed-benchmark' is a command of the assay-transformers distribution" in capsys.readouterr().err
    else:  # the real plugin is installed: check what its command is handed
        seen = []
        monkeypatch.setattr(assay_transformers.speed, "command", lambda args: seen.append(vars(args)) or 0)
        flags = ["--model", "m", "--max-tokens", "64", "--parallel", "2", "--seed", "7", "--warmup-num", "3"]
        assert main(["perf", "--speed-benchmark", *flags]) == 0
        (got,) = seen
        assert (got["model"], got["max_tokens"], got["seed"], got["warmup"]) == ("m", 64, 7, 3)
        assert "note: the speed benchmark ignores --parallel" in capsys.readouterr().err
