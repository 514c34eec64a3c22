"""Discovery contract: the entry point, its distribution, what it registers; cheap import; claims."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from assay.config import TaskConfig
from assay.loading import model_config, select_model
from assay.plugins import PluginHost


def test_plugin_host_finds_the_distribution_and_its_names():
    host = PluginHost()
    loaded = {p.name: p for p in host.loaded}
    assert "transformers" in loaded, [f.error for f in host.failures]
    # expected: pyproject.toml of plugins/assay-transformers (name, version)
    assert loaded["transformers"].distribution == "assay-transformers"
    assert loaded["transformers"].version == "0.1.0"
    assert [ep.value for ep in metadata.entry_points(group="assay", name="transformers")] == ["assay_transformers"]
    model = host.models()["transformers"]
    assert model.distribution == "assay-transformers"
    assert set(model.options["eval_types"]) == {"llm_ckpt", "checkpoint"}
    assert callable(model.options["claims"])
    assert host.reporters()["speed"].obj.kinds == {"speed"}
    assert "SpeedMemory" in host.bodies().types()
    assert not [f for f in host.failures if f.plugin == "transformers"]


def test_speed_benchmark_command_is_registered():
    from assay.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["speed-benchmark", "--model", "x", "--prompt-lengths", "1", "8", "--max-tokens", "4"])
    assert args.prompt_lengths == [1, 8] and args.max_tokens == 4
    assert args._handler.__module__ == "assay_transformers.speed"
    # EvalScope's speed benchmark defaults: these four prompt lengths, 2048 new tokens
    defaults = parser.parse_args(["speed-benchmark", "--model", "x"])
    assert defaults.prompt_lengths == [1, 6144, 14336, 30720] and defaults.max_tokens == 2048


def test_import_is_cheap_and_lists_without_torch():
    code = "import sys, assay_transformers; from assay.plugins import PluginHost; h = PluginHost(); h.models(); h.reporters(); h.bodies(); print(sorted(m for m in ('torch', 'transformers', 'modelscope') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout.strip().replace("'", '"')) == []


def test_claims_local_checkpoint_dirs_and_hub_ids(tmp_path: Path):
    host = PluginHost()
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text("{}")
    plain = tmp_path / "plain"
    plain.mkdir()
    for model, expected in [
        (str(ckpt), "transformers"),
        ("Qwen/Qwen2.5-0.5B-Instruct", "transformers"),
    ]:
        assert select_model(TaskConfig(model=model), host)[0] == expected
    claims = host.models()["transformers"].options["claims"]
    assert not claims(model_config(TaskConfig(model=str(plain))))  # no config.json
    assert not claims(model_config(TaskConfig(model="gpt-4o")))  # not org/name
    assert not claims(model_config(TaskConfig(model=str(ckpt), api_url="http://127.0.0.1:1/v1")))
    # an existing local path spelled org/name is not a hub id
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "name").mkdir()
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert not claims(model_config(TaskConfig(model="org/name")))
    finally:
        os.chdir(cwd)
    for eval_type in ("llm_ckpt", "checkpoint"):
        assert select_model(TaskConfig(model="anything", eval_type=eval_type), host)[0] == "transformers"
