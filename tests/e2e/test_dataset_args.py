"""dataset_args keys the kernel applies to every benchmark (filters, shuffle, repeats with pass@k,
system_prompt) and those a benchmark's loader applies (shuffle_choices, prompt_template,
few_shot_prompt_template, train_split), through the real CLI against the test server."""

from __future__ import annotations

import csv
import json
import random

import pytest
from helpers import assay, gold, gsm8k_rows, report_rows, run_dirs
from assay_testserver.testing import own_lines, served_eval
from assay_testserver.testing import events as _events

pytestmark = pytest.mark.slow  # starts `assay` subprocesses


def _eval(tmp_path, datasets_dir, url, datasets, dataset_args, *more, check=True):
    args = ["--datasets", *datasets, "--dataset-args", json.dumps(dataset_args), "--dataset-dir", str(datasets_dir)]
    return served_eval(url, tmp_path / "runs", *args, *more, check=check)


def test_filters_apply_before_scoring_and_raw_output_is_kept(tmp_path, datasets_dir, test_server) -> None:
    rows = gsm8k_rows(datasets_dir, 4)
    g = [gold(r["answer"]) for r in rows]
    answers = [
        f"<think>maybe 12</think>#### {g[0]}",  # right after the filter
        f"#### {g[1]}</think> no idea",  # right only before it: nothing numeric is left
        "#### 99999",  # no delimiter: unchanged, wrong
        f"</think>#### {g[3]}",  # right
    ]
    srv = test_server(rules=[{"match": r["question"], "answer": a} for r, a in zip(rows, answers)])
    _eval(
        tmp_path, datasets_dir, srv.url, ["gsm8k"], {"gsm8k": {"filters": {"remove_until": "</think>"}}}, "--limit", "4"
    )
    (run,) = run_dirs(tmp_path / "runs")
    (row,) = report_rows(run)
    assert (row["num"], row["score"], row["errors"]) == (4, 0.5, 0)
    ev = _events(run)
    loaded = [e["body"] for e in ev if e["type"] == "SampleLoaded"]
    assert [s["filters"] for s in loaded] == [{"remove_until": "</think>"}] * 4
    outputs = {e["body"]["sample_id"]: e["body"]["output"] for e in ev if e["type"] == "Generated"}
    assert outputs == {f"gsm8k/main/{i}": a for i, a in enumerate(answers)}  # the log keeps the raw output
    scored = {
        e["body"]["sample_id"]: (e["body"]["value"], e["body"].get("extracted")) for e in ev if e["type"] == "Scored"
    }
    assert scored == {
        "gsm8k/main/0": (1.0, g[0]),
        "gsm8k/main/1": (0.0, None),
        "gsm8k/main/2": (0.0, "99999"),
        "gsm8k/main/3": (1.0, g[3]),
    }
    # rescore reads the filters from the log: the same scores, no model call
    before = len(srv.requests)
    assay("rescore", str(run), "--work-dir", str(tmp_path / "re"))
    (re_run,) = run_dirs(tmp_path / "re")
    (re_row,) = report_rows(re_run)
    assert (re_row["num"], re_row["score"]) == (4, 0.5) and len(srv.requests) == before


def test_regex_filter_takes_the_group_or_the_fallback(tmp_path, datasets_dir, test_server) -> None:
    rows = gsm8k_rows(datasets_dir, 2)
    g = [gold(r["answer"]) for r in rows]
    answers = [f"ANSWER: {g[0]} and then 7", f"#### {g[1]}"]  # no ANSWER: line -> fallback, wrong
    srv = test_server(rules=[{"match": r["question"], "answer": a} for r, a in zip(rows, answers)])
    filters = {"regex": {"regex_pattern": r"ANSWER: (\d+)", "fallback": "none"}}
    _eval(tmp_path, datasets_dir, srv.url, ["gsm8k"], {"gsm8k": {"filters": filters}}, "--limit", "2")
    (run,) = run_dirs(tmp_path / "runs")
    (row,) = report_rows(run)
    assert (row["num"], row["score"]) == (2, 0.5)
    scored = [(e["body"]["value"], e["body"].get("extracted")) for e in _events(run) if e["type"] == "Scored"]
    assert scored == [(1.0, g[0]), (0.0, None)]


def test_shuffle_is_seeded_and_applied_before_limit(tmp_path, datasets_dir, test_server) -> None:
    srv = test_server()
    _eval(tmp_path, datasets_dir, srv.url, ["gsm8k"], {"gsm8k": {"shuffle": True, "few_shot_num": 0}}, "--limit", "5")
    (run,) = run_dirs(tmp_path / "runs")
    order = list(range(1319))
    random.Random(42).shuffle(order)
    loaded = [e["body"]["local_id"] for e in _events(run) if e["type"] == "SampleLoaded"]
    assert loaded == [str(i) for i in order[:5]]


def test_repeats_report_mean_and_pass_at_k(tmp_path, datasets_dir, test_server) -> None:
    rows = gsm8k_rows(datasets_dir, 2)
    g0 = gold(rows[0]["answer"])
    srv = test_server(
        rules=[
            {"match": rows[0]["question"], "answers": [f"#### {g0}", "#### 1", "#### 2", "#### 3"]},
            {"match": rows[1]["question"], "answer": "no idea"},
        ]
    )
    args = {"gsm8k": {"repeats": 4, "limit": 2, "few_shot_num": 0}}
    _eval(tmp_path, datasets_dir, srv.url, ["gsm8k"], args, "--eval-batch-size", "1")
    (run,) = run_dirs(tmp_path / "runs")
    got = {r["metric"]: (r["num"], r["score"]) for r in report_rows(run)}
    # problem 0: 1 of 4 right, problem 1: 0 of 4; pass@2 = (1 - C(3,2)/C(4,2)) / 2 = 0.25
    assert got == {
        "acc": (8, 0.125),
        "mean@4": (2, 0.125),
        "pass@1": (2, 0.125),
        "pass@2": (2, 0.25),
        "pass@4": (2, 0.5),
    }
    # aggregation: mean keeps the plain mean only
    args["gsm8k"]["aggregation"] = "mean"
    _eval(tmp_path / "b", datasets_dir, srv.url, ["gsm8k"], args, "--eval-batch-size", "1")
    (run,) = run_dirs(tmp_path / "b" / "runs")
    assert [r["metric"] for r in report_rows(run)] == ["acc"]


def test_shuffle_choices_moves_the_target_with_its_option(tmp_path, datasets_dir, test_server) -> None:
    srv = test_server()
    args = {"mmlu": {"subset_list": ["anatomy"], "shuffle_choices": True, "seed": 3}}
    _eval(tmp_path, datasets_dir, srv.url, ["mmlu"], args, "--limit", "6")
    (run,) = run_dirs(tmp_path / "runs")
    with open(datasets_dir / "mmlu" / "test" / "anatomy_test.csv", newline="", encoding="utf-8") as f:
        file_rows = list(csv.reader(f))[:6]
    loaded = [e["body"] for e in _events(run) if e["type"] == "SampleLoaded"]
    assert len(loaded) == 6
    moved = 0
    for s, row in zip(loaded, file_rows):
        options, answer = [o.strip() for o in row[1:5]], "ABCD".index(row[5])
        order = s["metadata"]["permutation"]
        assert sorted(order) == [0, 1, 2, 3] and s["metadata"]["shuffle_seed"] == 3
        assert [c.strip() for c in s["choices"]] == [options[i] for i in order]
        assert s["target"] == "ABCD"[order.index(answer)]
        assert s["choices"][0] in s["messages"][-1]["content"]
        moved += order != [0, 1, 2, 3]
    assert moved >= 4
    # the same seed, the same order
    _eval(tmp_path / "again", datasets_dir, srv.url, ["mmlu"], args, "--limit", "6")
    (again,) = run_dirs(tmp_path / "again" / "runs")
    assert [e["body"]["choices"] for e in _events(again) if e["type"] == "SampleLoaded"] == [
        s["choices"] for s in loaded
    ]


def test_prompt_template_is_the_whole_prompt(tmp_path, datasets_dir, test_server) -> None:
    rows = gsm8k_rows(datasets_dir, 1)
    with open(datasets_dir / "gsm8k" / "train.jsonl", encoding="utf-8") as f:
        shot = json.loads(f.readline())
    srv = test_server()
    args = {
        "gsm8k": {
            "prompt_template": "Q: {question}\n{fewshot}A:",
            "few_shot_prompt_template": "[{question} => {answer}]\n",
            "few_shot_num": 1,
        }
    }
    _eval(tmp_path, datasets_dir, srv.url, ["gsm8k"], args, "--limit", "1")
    (req,) = srv.requests
    import re

    answer = re.sub(r"<<[^>]*>>", "", shot["answer"])
    assert req["messages"] == [
        {"role": "user", "content": f"Q: {rows[0]['question']}\n[{shot['question']} => {answer}]\nA:"}
    ]


def test_system_prompt_reaches_a_benchmark_that_does_not_place_it(tmp_path, datasets_dir, test_server) -> None:
    srv = test_server()
    _eval(
        tmp_path, datasets_dir, srv.url, ["winogrande"], {"winogrande": {"system_prompt": "Be brief."}}, "--limit", "2"
    )
    assert len(srv.requests) == 2
    for req in srv.requests:
        assert req["messages"][0] == {"role": "system", "content": "Be brief."}
        assert [m["role"] for m in req["messages"]].count("system") == 1


@pytest.mark.parametrize(
    ("datasets", "dataset_args", "message"),
    [
        (
            ["gsm8k"],
            {"gsm8k": {"shuffle_choices": True}},
            "error: dataset_args.gsm8k.shuffle_choices: gsm8k cannot honour 'shuffle_choices'; of the "
            "benchmark-specific keys it honours few_shot_num, few_shot_random, prompt_template, "
            "few_shot_prompt_template, train_split, eval_split",
        ),
        (
            ["gsm8k"],
            {"gsm8k": {"subset_list": ["main"]}},
            "error: dataset_args.gsm8k.subset_list: gsm8k cannot honour 'subset_list'; of the "
            "benchmark-specific keys it honours few_shot_num, few_shot_random, prompt_template, "
            "few_shot_prompt_template, train_split, eval_split",
        ),
        (
            ["gsm8k"],
            {"gsm8k": {"filters": {"remove_untill": "</think>"}}},
            "error: dataset_args.gsm8k.filters: unknown filter 'remove_untill' (did you mean 'remove_until'?); "
            "known: extract, lower, regex, remove_until, remove_whitespace, strip",
        ),
        (
            ["gsm8k"],
            {"gsm8k": {"filters": {"regex": {"regex_pattern": "(unclosed"}}}},
            "error: dataset_args.gsm8k.filters.regex: bad regex_pattern '(unclosed': "
            "missing ), unterminated subpattern at position 0",
        ),
        (
            ["gsm8k"],
            {"gsm8k": {"aggregation": "mean_and_pass@k"}},
            "error: dataset_args.gsm8k.aggregation = 'mean_and_pass@k': expected one of mean, mean_and_pass_at_k "
            "(did you mean 'mean_and_pass_at_k'?)",
        ),
        (
            ["gsm8k"],
            {"gsm8k": {"shuffle": "yes"}},
            "error: dataset_args.gsm8k.shuffle = 'yes': expected true or false",
        ),
        (
            ["winogrande"],
            {"winogrande": {"few_shot_prompt_template": "{question}"}},
            "error: dataset_args.winogrande.few_shot_prompt_template: winogrande cannot honour "
            "'few_shot_prompt_template'; of the benchmark-specific keys it honours subset_list, few_shot_num, "
            "prompt_template, eval_split, shuffle_choices",
        ),
    ],
)
def test_a_key_that_cannot_be_honoured_is_an_error_naming_it(tmp_path, datasets_dir, datasets, dataset_args, message):
    proc = _eval(tmp_path, datasets_dir, "http://127.0.0.1:9/v1", datasets, dataset_args, check=False)
    assert (proc.returncode, own_lines(proc.stderr)) == (2, [message])
    assert not (tmp_path / "runs").exists()


def test_limit_as_a_fraction_applies_per_subset(tmp_path, datasets_dir) -> None:
    # anatomy has 135 questions, astronomy 152: a tenth of each, rounded down
    args = {"mmlu": {"subset_list": ["anatomy", "astronomy"], "limit": 0.1}}
    assay(
        "eval",
        "--model",
        "mock",
        "--datasets",
        "mmlu",
        "--dataset-args",
        json.dumps(args),
        "--dataset-dir",
        str(datasets_dir),
        "--work-dir",
        str(tmp_path / "runs"),
        "--no-progress",
    )
    (run,) = run_dirs(tmp_path / "runs")
    subsets = [e["body"]["subset"] for e in _events(run) if e["type"] == "SampleLoaded"]
    assert (subsets.count("anatomy"), subsets.count("astronomy"), len(subsets)) == (13, 15, 28)
