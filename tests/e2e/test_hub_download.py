"""Hub download, never reaching a real hub: a fake Hugging Face Hub on loopback (assay_testserver.hub,
``HF_ENDPOINT``) serving a dataset repository in the hub's layout, the real ``huggingface_hub``
client downloading it into a cache, and the benchmark reading the snapshot with its usual loader."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest
from assay_testserver.hub import FakeHub
from assay_testserver.testing import served_eval
from helpers import run_dirs

pytestmark = pytest.mark.slow  # starts `assay` subprocesses

NO_LOCAL = {"ASSAY_DATA_DIR": ""}


def _loaded(run):
    out = []
    for line in (run / "events.jsonl").read_text().splitlines():
        e = json.loads(line)
        if e["type"] == "SampleLoaded":
            b = e["body"]
            out.append((b["sample_id"], b["choices"], b["target"], b["messages"]))
    return out


def _eval(work, url, *more, env=None, check=True):
    return served_eval(
        url, work, "--datasets", "gpqa_diamond", "--limit", "5", *more, env={**NO_LOCAL, **(env or {})}, check=check
    )


def test_huggingface_download_then_cache_reads_like_local_files(tmp_path, datasets_dir, test_server) -> None:
    repo = tmp_path / "hub" / "Idavidrein" / "gpqa"  # the authors' repository: gpqa_diamond.csv at its root
    repo.mkdir(parents=True)
    shutil.copy(datasets_dir / "gpqa_diamond" / "gpqa_diamond.csv", repo / "gpqa_diamond.csv")
    (repo / "gpqa_main.csv").write_text("not,needed\n")  # gpqa_diamond fetches only its own files
    (repo / "README.md").write_text("# GPQA\n")
    srv = test_server(default_answer="ANSWER: A")
    hf_home = tmp_path / "hf"
    with FakeHub(tmp_path / "hub") as hub:
        env = {"HF_ENDPOINT": hub.url, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "0"}  # the tests run offline
        _eval(tmp_path / "a", srv.url, "--dataset-hub", "huggingface", env=env)
        asked = list(hub.requests)
    assert asked[0] == "/api/datasets/Idavidrein/gpqa/revision/main"
    fetched = [r for r in asked if r.startswith("GET /datasets/")]
    assert [r.rsplit("/", 1)[1] for r in fetched] == ["gpqa_diamond.csv"]
    snaps = list((hf_home / "hub" / "datasets--Idavidrein--gpqa" / "snapshots").iterdir())
    assert len(snaps) == 1 and sorted(p.name for p in snaps[0].iterdir()) == ["gpqa_diamond.csv"]
    # the same samples as from the local copy of the file
    _eval(tmp_path / "local", srv.url, "--dataset-dir", str(datasets_dir))
    (run,) = run_dirs(tmp_path / "a")
    (local,) = run_dirs(tmp_path / "local")
    assert len(_loaded(run)) == 5 and _loaded(run) == _loaded(local)
    # offline, the hub stopped: the cached snapshot is read, no request made
    _eval(tmp_path / "b", srv.url, "--dataset-hub", "huggingface", env={**env, "HF_HUB_OFFLINE": "1"})
    (again,) = run_dirs(tmp_path / "b")
    assert _loaded(again) == _loaded(run)
    report = json.loads((again / "report.json").read_text())
    expected = sum(t == "A" for _, _, t, _ in _loaded(run)) / 5
    assert [(r["num"], r["score"]) for r in report["rows"]] == [(5, expected)]


def test_modelscope_download_then_cache(tmp_path, datasets_dir, test_server) -> None:
    import csv

    repo = tmp_path / "hub" / "AI-ModelScope" / "gpqa_diamond"  # ModelScope's copy: train.jsonl, same columns
    repo.mkdir(parents=True)
    with open(datasets_dir / "gpqa_diamond" / "gpqa_diamond.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:8]
    (repo / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (repo / "README.md").write_text("# GPQA diamond\n")
    srv = test_server(default_answer="ANSWER: B")
    cache = tmp_path / "ms"
    with FakeHub(tmp_path / "hub") as hub:
        env = {"MODELSCOPE_DOMAIN": hub.url, "MODELSCOPE_CACHE": str(cache)}
        proc = _eval(tmp_path / "a", srv.url, env=env)
        asked = list(hub.requests)
    assert "Listing" not in proc.stderr  # the hub client's INFO lines stay quiet
    assert any(r.startswith("/api/v1/datasets/AI-ModelScope/gpqa_diamond/repo/tree?") for r in asked)
    fetched = [r for r in asked if r.startswith("GET /api/v1/datasets/AI-ModelScope/gpqa_diamond/repo?")]
    assert len(fetched) == 1 and fetched[0].endswith("FilePath=train.jsonl")  # README.md is not fetched
    snapshot = cache / "datasets" / "AI-ModelScope--gpqa_diamond" / "snapshots" / "master"
    assert sorted(p.name for p in snapshot.iterdir()) == ["train.jsonl"]
    _eval(tmp_path / "local", srv.url, "--dataset-dir", str(datasets_dir))
    (run,) = run_dirs(tmp_path / "a")
    (local,) = run_dirs(tmp_path / "local")
    assert len(_loaded(run)) == 5 and _loaded(run) == _loaded(local)
    report = json.loads((run / "report.json").read_text())
    expected = sum(t == "B" for _, _, t, _ in _loaded(run)) / 5
    assert [(r["num"], r["score"]) for r in report["rows"]] == [(5, expected)]
    # the hub gone (a closed port): the snapshot downloaded before serves, and stderr says so
    offline = {"MODELSCOPE_DOMAIN": "http://127.0.0.1:9", "MODELSCOPE_CACHE": str(cache)}
    proc = _eval(tmp_path / "b", srv.url, env=offline)
    assert (
        "ModelScope unreachable (NetworkError: cannot connect to 127.0.0.1:9 (offline, or the hub is "
        f"unreachable)); using the cached {snapshot}"
    ) in proc.stderr.splitlines()
    (again,) = run_dirs(tmp_path / "b")
    assert _loaded(again) == _loaded(run)


def test_a_dataset_missing_on_the_hub_is_one_error(tmp_path, test_server) -> None:
    (tmp_path / "hub").mkdir()
    with FakeHub(tmp_path / "hub") as hub:
        env = {"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "0"}
        proc = _eval(tmp_path / "a", "http://127.0.0.1:9/v1", "--dataset-hub", "huggingface", env=env, check=False)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: gpqa_diamond: no local files, and no download. Looked in: no --dataset-dir / ASSAY_DATA_DIR "
        f"given; Hugging Face dataset 'Idavidrein/gpqa' (cache {tmp_path / 'hf' / 'hub'}): RepositoryNotFoundError: "
        "no dataset of that id there (404). Point assay at the files with --dataset-dir DIR (holding "
        'gpqa_diamond/), ASSAY_DATA_DIR, or --dataset-args \'{"gpqa_diamond": {"local_path": "PATH"}}\'.'
    ]


def _distributions() -> list[str]:
    """The plugin distributions of this repository (others may be installed in the environment)."""
    import tomllib
    from pathlib import Path

    plugins = Path(__file__).resolve().parents[2] / "plugins"
    return [tomllib.loads(p.read_text())["project"]["name"] for p in sorted(plugins.glob("*/pyproject.toml"))]


SCRIPT = textwrap.dedent(
    """
    import json, sys
    from assay.api import AssayError
    from assay.config import TaskConfig
    from assay.loading import is_self_driven, load_samples, open_benchmarks
    from assay.plugins import host

    plugins = host()
    out = {}
    ours = set(sys.argv[3].split(","))  # the distributions of this repository (not others installed here)
    for name, entry in sorted(plugins.benchmarks().items()):
        if entry.distribution not in ours:
            continue
        if name.startswith("general_") or name in ("collection", "data_collection"):
            continue  # the user's own files / a collection file: no hub dataset
        cfg = TaskConfig(datasets=[name], dataset_dir=sys.argv[1], dataset_hub=sys.argv[2])
        try:
            bench = open_benchmarks(cfg, plugins)
        except AssayError as exc:  # a plugin installed from elsewhere that does not import here
            if "cannot load" in str(exc):
                continue
            raise
        if is_self_driven(bench[0][2]):
            continue
        try:
            next(iter(load_samples(cfg, plugins, bench)))
            out[name] = "loaded"
        except AssayError as exc:
            out[name] = str(exc)
    print(json.dumps(out))
    """
)


# Benchmarks with no hub copy of the files their loader reads (see each plugin's README): MT-Bench's files live
# in FastChat's repository; LongBench-Write's prompts in THUDM/LongWriter on GitHub only; ToolBench-Static's
# conversations in X-PLUG/Multi-LLM-Agent (EvalScope's AI-ModelScope/ToolBench-Static is a different,
# step-level conversion). They say so, with where to put the files.
NO_HUB = {"mt_bench", "longbench_write", "toolbench_static", "tool_bench"}
ONLY_ON = {"iquiz": "modelscope"}


@pytest.mark.parametrize("hub", ["huggingface", "modelscope"])
def test_offline_every_benchmark_says_where_it_looked(tmp_path, hub) -> None:
    empty = tmp_path / "data"
    empty.mkdir()
    env = {
        **os.environ,
        "ASSAY_DATA_DIR": "",
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
        "MODELSCOPE_DOMAIN": "http://127.0.0.1:9",  # a closed port: never the real hub
        "MODELSCOPE_CACHE": str(tmp_path / "ms"),
    }
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(empty), hub, ",".join(_distributions())],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    took = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert len(got) >= 20
    label = "Hugging Face" if hub == "huggingface" else "ModelScope"
    cache = tmp_path / "hf" / "hub" if hub == "huggingface" else tmp_path / "ms" / "datasets"
    why = (
        "LocalEntryNotFoundError: offline (HF_HUB_OFFLINE) and not in the cache"
        if hub == "huggingface"
        else "NetworkError: cannot connect to 127.0.0.1:9 (offline, or the hub is unreachable)"
    )
    unnamed = sorted(n for n, m in got.items() if "names no hub dataset" in m or f"no {hub} id" in m)
    expected = sorted(n for n in got if n in NO_HUB or ONLY_ON.get(n, hub) != hub)
    assert unnamed == expected, f"benchmarks that name no {hub} dataset (hub_id): {unnamed}"
    for name, message in got.items():
        assert message.startswith(f"{name}: no local files, and no download. Looked in: {empty / name}"), message
        hub_part = message.split("; ")[-1]
        if name in NO_HUB:  # said plainly, with where to put the files
            assert hub_part.startswith(f"no hub download ({name} names no hub dataset)"), message
            continue
        if ONLY_ON.get(name, hub) != hub:  # on the other hub only, and the message says which
            assert hub_part.startswith(f"no {hub} id for {name} (it has "), message
            continue
        assert hub_part.startswith(f"{label} dataset '"), message  # every benchmark names its dataset on the hub
        assert (
            f"' (cache {cache}): {why}. Point assay at the files with --dataset-dir DIR (holding {name}/)" in hub_part
        )
    assert "AI-ModelScope/gsm8k" in got["gsm8k"] if hub == "modelscope" else "'openai/gsm8k'" in got["gsm8k"]
    assert took < 120  # seconds, not minutes of retries (most of it is importing the hub client)
