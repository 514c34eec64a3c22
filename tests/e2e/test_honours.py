"""Every registered benchmark declares the loader-only dataset_args keys it honours
(``honours``); the kernel accepts those and rejects any other one, naming the key and the
benchmark, before the run directory exists -- through the real CLI."""

from __future__ import annotations

import json
import re

import pytest
from assay_testserver.testing import bodies, own_lines
from helpers import assay, run_dirs

from assay.api import BENCHMARK_HONOURED
from assay.plugins import PluginHost

pytestmark = pytest.mark.slow  # starts `assay` subprocesses

_HOST = PluginHost()
BENCHMARKS = sorted(_HOST.benchmarks())

# a value of each key that asks for something (not a no-op such as few_shot_num: 0)
VALUES = {
    "subset_list": ["x"],
    "few_shot_num": 1,
    "few_shot_random": True,
    "prompt_template": "{question}",
    "few_shot_prompt_template": "{question}",
    "train_split": "train",
    "eval_split": "test",
    "shuffle_choices": True,
}


def _mock_eval(work, name: str, args: dict, *more: str, check=0):
    """``assay eval --model mock --datasets NAME --dataset-args {NAME: ARGS} MORE`` into ``work``."""
    flags = ["--model", "mock", "--datasets", name, "--dataset-args", json.dumps({name: args}), *more]
    return assay("eval", *flags, "--work-dir", str(work), "--no-progress", check=check)


def _eval(tmp_path, name: str, args: dict) -> tuple[int, list[str]]:
    proc = _mock_eval(tmp_path / "runs", name, args, check=False)
    return proc.returncode, own_lines(proc.stderr)


def test_every_benchmark_declares_what_it_honours() -> None:
    undeclared = [n for n in BENCHMARKS if getattr(_HOST.get("benchmarks", n).obj, "honours", None) is None]
    assert undeclared == []
    for name in BENCHMARKS:
        honours = set(_HOST.get("benchmarks", name).obj.honours)
        assert honours <= {*BENCHMARK_HONOURED, "system_prompt"}, name


@pytest.mark.parametrize("name", BENCHMARKS)
def test_declared_keys_pass_and_an_undeclared_one_is_an_error(tmp_path, name) -> None:
    honours = _HOST.get("benchmarks", name).obj.honours
    declared = [k for k in BENCHMARK_HONOURED if k in honours]
    missing = [k for k in BENCHMARK_HONOURED if k not in honours]
    assert missing, f"{name} honours every key"  # the MCQ base has no few_shot_prompt_template
    key = missing[-1]
    # the declared keys first: the kernel checks in the given order, so an error naming the
    # undeclared key shows that every declared one passed
    args = {**{k: VALUES[k] for k in declared}, key: VALUES[key]}
    code, lines = _eval(tmp_path, name, args)
    assert (code, lines) == (
        2,
        [
            f"error: dataset_args.{name}.{key}: {name} cannot honour '{key}'; of the benchmark-specific keys "
            f"it honours {', '.join(declared) or 'none of them'}"
        ],
    )
    assert not (tmp_path / "runs").exists()


def test_a_no_op_value_is_taken_by_any_benchmark(tmp_path) -> None:
    # humaneval builds no few-shot prompt, but few_shot_num: 0 (as EvalScope configs spell it) asks nothing
    code, lines = _eval(tmp_path, "humaneval", {"few_shot_num": 0, "shuffle_choices": False, "train_split": "x"})
    assert (code, lines) == (
        2,
        [
            "error: dataset_args.humaneval.train_split: humaneval cannot honour 'train_split'; of the "
            "benchmark-specific keys it honours prompt_template"
        ],
    )
    code, lines = _eval(tmp_path, "humaneval", {"few_shot_num": 2})
    assert (code, lines) == (
        2,
        [
            "error: dataset_args.humaneval.few_shot_num: humaneval cannot honour 'few_shot_num'; of the "
            "benchmark-specific keys it honours prompt_template"
        ],
    )


def _loaded(run) -> list[dict]:
    return bodies(run, "SampleLoaded")


@pytest.mark.parametrize(
    ("name", "more"), [("hellaswag", {}), ("winogrande", {}), ("race", {}), ("mmlu_pro", {"subset_list": ["math"]})]
)
def test_shuffle_choices_in_the_newer_mcq_benchmarks(tmp_path, datasets_dir, name, more) -> None:
    def run(where, args):
        settings = {"limit": 5, "few_shot_num": 0, **more, **args}
        _mock_eval(tmp_path / where, name, settings, "--dataset-dir", str(datasets_dir))
        (d,) = run_dirs(tmp_path / where)
        return _loaded(d)

    plain = run("plain", {})
    mixed = run("mixed", {"shuffle_choices": True, "seed": 7})
    assert len(plain) == len(mixed) == 5
    moved = 0
    for p, m in zip(plain, mixed):
        order, n = m["metadata"]["permutation"], len(p["choices"])
        assert sorted(order) == list(range(n)) and m["metadata"]["shuffle_seed"] == 7
        assert m["choices"] == [p["choices"][i] for i in order]
        assert m["target"] == "ABCDEFGHIJ"[order.index("ABCDEFGHIJ".index(p["target"]))]
        assert m["metadata"]["answer_index"] == order.index(p["metadata"]["answer_index"])
        # the prompt lists the options in the new order
        text = m["messages"][-1]["content"]
        for letter, choice in zip("ABCDEFGHIJ", m["choices"]):
            assert re.search(rf"(^|Options: )\(?{letter}[.)]\)? +{re.escape(choice.strip())} *$", text, re.M), (
                letter,
                choice,
            )
        moved += order != list(range(n))
    assert moved >= 2
    assert "permutation" not in plain[0]["metadata"]
