"""dataset_args are validated the same way for every benchmark, before a run directory exists."""

from __future__ import annotations

import json

import pytest
from assay.api import BenchmarkArgs
from assay.config import TaskConfig
from assay.loading import open_benchmarks
from assay.plugins import host
from assay_testserver.testing import served_eval

pytestmark = pytest.mark.slow  # starts `assay` subprocesses


def _eval(tmp_path, datasets_dir, datasets: list[str], dataset_args: dict):
    args = ["--datasets", *datasets, "--dataset-args", json.dumps(dataset_args), "--dataset-dir", str(datasets_dir)]
    # the URL is never reached: validation comes first
    return served_eval("http://127.0.0.1:9/v1", tmp_path / "runs", *args, check=False)


def _accepts(name: str, *extra: str) -> str:
    fields = {"subset_list", "few_shot_num", "few_shot_random", "prompt_template", "system_prompt", "local_path"}
    fields |= {"metric_list", "eval_split", "repeats", "limit", "seed", "dataset_dir", "dataset_hub", *extra}
    fields |= {"train_split", "few_shot_prompt_template", "filters", "shuffle", "shuffle_choices", "aggregation"}
    return ", ".join(sorted(fields))


@pytest.mark.parametrize(
    ("bench", "key", "hint", "extra"),
    [
        ("gsm8k", "few_shot_nm", "few_shot_num", ()),
        ("bbh", "subsets", "subset_list", ()),
        ("math_500", "groupby", "group_by", ("group_by",)),
        ("aime24", "promt_template", "prompt_template", ()),
        ("ifeval", "strict", None, ()),
        ("mmlu", "mcq_mod", "mcq_mode", ("mcq_mode", "mcq_continuation")),
    ],
)
def test_unknown_key_is_rejected_before_the_run(tmp_path, datasets_dir, bench, key, hint, extra) -> None:
    proc = _eval(tmp_path, datasets_dir, [bench], {bench: {key: 1}})
    assert proc.returncode == 2
    more = f" (did you mean {hint!r}?)" if hint else ""
    assert proc.stderr.splitlines() == [
        f"error: dataset_args.{bench}: unknown key(s) {key!r}{more}; {bench} accepts {_accepts(bench, *extra)}"
    ]
    assert not (tmp_path / "runs").exists()


def test_dataset_args_for_a_benchmark_not_in_the_run(tmp_path, datasets_dir) -> None:
    proc = _eval(tmp_path, datasets_dir, ["gsm8k", "aime24"], {"gsm8kk": {"few_shot_num": 0}})
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "error: dataset_args.gsm8kk: 'gsm8kk' is not in --datasets (gsm8k, aime24) (did you mean 'gsm8k'?); "
        "add gsm8kk to --datasets or drop its dataset_args"
    ]
    assert not (tmp_path / "runs").exists()


def test_declared_keys_pass(datasets_dir) -> None:
    cfg = TaskConfig(
        datasets=["math_500", "mmlu"],
        dataset_dir=str(datasets_dir),
        dataset_args={"math_500": {"group_by": "subject"}, "mmlu": {"mcq_mode": "generation", "few_shot_num": 0}},
    )
    benches = open_benchmarks(cfg, host())
    assert [(n, a.extra) for n, a, _ in benches] == [
        ("math_500", {"group_by": "subject"}),
        ("mmlu", {"mcq_mode": "generation"}),
    ]
    assert isinstance(benches[0][1], BenchmarkArgs)


def test_mistyped_generation_config_is_rejected_before_the_run(tmp_path, datasets_dir) -> None:
    args = ["--datasets", "gsm8k", "--generation-config", "temperature=0.5,max_tokens=many"]
    proc = served_eval(
        "http://127.0.0.1:9/v1", tmp_path / "runs", *args, "--dataset-dir", str(datasets_dir), check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "error: invalid config in command line: AssayError: generation_config.max_tokens = 'many': "
        "expected a whole number >= 1"
    ]
    assert not (tmp_path / "runs").exists()
