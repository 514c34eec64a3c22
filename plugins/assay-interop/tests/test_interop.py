"""assay import / export on real runs and faithful fixtures (see fixtures/README.md for where each comes from).

- round trip: `assay eval` (subprocess, against the repo's test server, real GSM8K file, one errored
  sample, reasoning) -> `assay export --to evalscope` -> `assay import evalscope` -> the same report,
  sample for sample (compare pairs every sample with no difference), and rescore gives it again;
- EvalScope's own tree: the imported run's row is EvalScope's reported score, and assay's gsm8k scorer
  on the imported generations (rescore) reproduces it;
- lm-eval --log_samples: each row is one of lm-eval's "<metric>,<filter>" figures in results_*.json;
- inspect_ai logs (real logs from inspect_ai's own tests): the row is the scorer's reported accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path
from assay_testserver.testing import assay, events, run_dirs

FIXTURES = Path(__file__).parent / "fixtures"
ES_TREE = FIXTURES / "evalscope" / "20261130_101112"
ES_MODEL = "Qwen2.5-0.5B-Instruct"


def own(stderr: str) -> str:
    """stderr without warnings about other installed plugins that fail to load (not this test's concern)."""
    return "".join(line for line in stderr.splitlines(keepends=True) if not line.startswith("warning: assay plugin '"))


def rows(run: Path) -> list[dict]:
    """The report's rows and sections, less the request latency (EvalScope's tree holds no request timings)."""
    proc = assay("report", str(run), "--format", "json", check=False)
    assert proc.returncode in (0, 3), proc.stderr
    return [r for r in json.loads(proc.stdout) if r.get("reporter") != "eval_latency"]


def _gsm8k(datasets_dir: Path, n: int) -> list[dict]:
    out = []
    with open(datasets_dir / "gsm8k" / "test.jsonl", encoding="utf-8") as f:
        for line in f:
            out.append(json.loads(line))
            if len(out) == n:
                return out
    return out


def test_round_trip_eval_export_import_keeps_every_score(tmp_path, datasets_dir, test_server):
    data = _gsm8k(datasets_dir, 6)
    gold = [r["answer"].rsplit("####", 1)[1].strip().replace(",", "") for r in data]
    answers = [f"#### {gold[0]}", "#### 1", f"#### {gold[2]}", "#### 3", f"The answer is {gold[4]}", "#### 5"]
    srv = test_server(
        rules=[{"match": r["question"], "answer": a} for r, a in zip(data, answers)],
        faults={"http_500": [4]},  # the fourth request (one at a time, no retry): an errored sample
        reasoning="Let me think about it.",
    )
    work = tmp_path / "w"
    proc = assay(
        "eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", "--limit", "6", "--dataset-dir",
        str(datasets_dir), "--work-dir", str(work), "--no-progress", "--retries", "0", "--eval-batch-size", "1",
        check=False,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    (run,) = run_dirs(work)
    original = rows(run)
    assert [(r["subset"], r["num"], r["score"], r["errors"]) for r in original] == [("main", 6, 3 / 6, 1)]

    tree = tmp_path / "evalscope"
    proc = assay("export", str(run), "--to", "evalscope", str(tree))
    assert proc.stdout == f"wrote {tree}: 6 predictions, 5 reviews, 1 reports (EvalScope layout)\n"
    preds = [json.loads(x) for x in (tree / "predictions" / "m" / "gsm8k_main.jsonl").read_text().splitlines()]
    reviews = [json.loads(x) for x in (tree / "reviews" / "m" / "gsm8k_main.jsonl").read_text().splitlines()]
    assert [p["index"] for p in preds] == list(range(6))
    assert [p["model_output"]["error"] is not None for p in preds] == [False, False, False, True, False, False]
    first = preds[0]["model_output"]["choices"][0]
    assert first["stop_reason"] == "stop" and first["message"]["content"] == [
        {"type": "reasoning", "reasoning": "Let me think about it."},
        {"type": "text", "text": f"#### {gold[0]}"},
    ]
    assert [r["sample_score"]["score"]["value"] for r in reviews] == [{"acc": v} for v in (1.0, 0.0, 1.0, 1.0, 0.0)]
    assert reviews[0]["target"] == gold[0] and reviews[0]["sample_score"]["score"]["extracted_prediction"] == gold[0]
    report = json.loads((tree / "reports" / "m" / "gsm8k.json").read_text())
    assert report["name"] == "m@gsm8k" and report["score"] == 0.5
    (metric,) = report["metrics"]
    assert (metric["name"], metric["num"], metric["score"]) == ("mean_acc", 6, 0.5)
    assert metric["categories"][0]["subsets"] == [{"name": "main", "score": 0.5, "num": 6}]
    assert (tree / "configs" / f"task_config_{run.name}.yaml").exists()

    back = tmp_path / "back"
    proc = assay("import", "evalscope", str(tree), "--work-dir", str(back), "--name", "r")
    assert proc.stderr.endswith(f"imported 6 samples from evalscope {tree}\n")
    assert rows(back / "r") == original  # every row, score, CI and error count
    before = {e["body"]["sample_id"]: e for e in events(run) if e["type"] in ("Generated", "SampleFailed")}
    after = {e["body"]["sample_id"]: e for e in events(back / "r") if e["type"] in ("Generated", "SampleFailed")}
    assert before.keys() == after.keys()
    for sid, e in before.items():
        keep = ("output", "reasoning", "finish_reason", "error_type", "message")
        assert {k: e["body"].get(k) for k in keep} == {k: after[sid]["body"].get(k) for k in keep}
    started = events(back / "r")[0]["body"]
    assert started["resolved"]["imported_from"]["format"] == "evalscope"
    cmp = json.loads(assay("compare", str(run), str(back / "r"), "--format", "json").stdout)
    (row,) = cmp["comparisons"][0]["rows"]
    assert (row["shared"], row["diff"], row["right_in_a_only"], row["right_in_b_only"]) == (5, 0, [], [])
    assert (row["errored_a"], row["errored_b"], row["only_in_a"], row["only_in_b"]) == (1, 1, 0, 0)
    # the imported run rescores with the samples' own scorers (kept through the tree)
    proc = assay("rescore", str(back / "r"), "--work-dir", str(tmp_path / "rescored"), check=False)
    assert proc.returncode == 3, proc.stderr  # as eval: the errored sample stays errored
    (rescored,) = [p for p in (tmp_path / "rescored").iterdir()]
    assert rows(rescored) == [{**r, "model": r["model"]} for r in original]


def test_evalscope_tree_reproduces_its_report_and_rescores(tmp_path):
    proc = assay("import", "--from", "evalscope", str(ES_TREE.parent), "--work-dir", str(tmp_path), "--name", "es")
    (row,) = rows(tmp_path / "es")
    report = json.loads((ES_TREE / "reports" / ES_MODEL / "gsm8k.json").read_text())
    subset = report["metrics"][0]["categories"][0]["subsets"][0]
    assert (row["model"], row["dataset"], row["subset"], row["metric"]) == (ES_MODEL, "gsm8k", "main", "acc")
    assert (row["num"], round(row["score"], 4), row["errors"]) == (subset["num"], subset["score"], 0) == (4, 0.75, 0)
    assert "imported 4 samples" in proc.stderr
    evs = events(tmp_path / "es")
    gen = [e["body"] for e in evs if e["type"] == "Generated"]
    assert gen[1]["reasoning"] == "The robe takes 2 bolts of blue fiber and half that of white."
    assert gen[1]["usage"] == {
        "prompt_tokens": 121,
        "completion_tokens": 31,
        "total_tokens": 152,
        "reasoning_tokens": 12,
    }
    loaded = [e["body"] for e in evs if e["type"] == "SampleLoaded"]
    assert [s["sample_id"] for s in loaded] == [f"gsm8k/main/{i}" for i in range(4)]
    assert loaded[0]["messages"][0]["content"].startswith("Solve the following math problem step by step.")
    assert [s["target"] for s in loaded] == ["18", "3", "70000", "540"]
    # assay's own GSM8K scorer on the imported generations agrees with EvalScope's scores
    assay("rescore", str(tmp_path / "es"), "--scorers", "gsm8k_acc", "--work-dir", str(tmp_path / "rs"))
    (rescored,) = [p for p in (tmp_path / "rs").iterdir()]
    (again,) = rows(rescored)
    assert (again["num"], again["score"]) == (4, 0.75)
    scored = [e["body"] for e in events(rescored) if e["type"] == "Scored"]
    assert [(s["scorer"], s["extracted"], s["value"]) for s in scored] == [
        ("gsm8k_acc", "18", 1.0), ("gsm8k_acc", "3", 1.0), ("gsm8k_acc", "70000", 1.0), ("gsm8k_acc", "500", 0.0),
    ]  # fmt: skip


def test_lm_eval_samples_reproduce_results_json(tmp_path):
    folder = FIXTURES / "lm_eval"
    assay("import", "lm-eval", str(folder), "--work-dir", str(tmp_path), "--name", "lm")
    results = json.loads(next((folder / "org__tiny-model").glob("results_*.json")).read_text())["results"]["gsm8k"]
    got = {r["metric"]: r for r in rows(tmp_path / "lm")}
    assert set(got) == {"exact_match,strict-match", "exact_match,flexible-extract"}
    for metric, r in got.items():
        assert (r["model"], r["dataset"], r["subset"], r["num"]) == ("org/tiny-model", "gsm8k", "default", 6)
        assert r["score"] == results[metric]
    evs = events(tmp_path / "lm")
    loaded = [e["body"] for e in evs if e["type"] == "SampleLoaded"]
    assert [s["sample_id"] for s in loaded] == [f"gsm8k/default/{i}" for i in range(6)]  # one sample per document
    assert loaded[0]["prompt"].endswith("Answer:") and loaded[0]["target"].endswith("#### 18")
    scored = {(e["body"]["sample_id"], e["body"]["metric"]): e["body"] for e in evs if e["type"] == "Scored"}
    one = scored[("gsm8k/default/1", "exact_match,strict-match")]
    assert (one["extracted"], one["value"]) == ("[invalid]", 0.0)
    assert scored[("gsm8k/default/1", "exact_match,flexible-extract")]["value"] == 1.0
    assert started_format(tmp_path / "lm") == "lm-eval"


def started_format(run: Path) -> str:
    return events(run)[0]["body"]["resolved"]["imported_from"]["format"]


def test_inspect_logs_reproduce_their_accuracy(tmp_path):
    cases = [
        ("2025-02-11T15-18-04-05-00_popularity_mj7khqpMM4GBCfVQozKgzB.eval", "popularity", "match", 10, 0.8),
        ("2025-05-12T20-28-13-04-00_popularity.json", "popularity", "match", 3, 2 / 3),
        ("mmlu-summary-choices.eval", "mmlu_0_shot", "choice", 1, 0.0),
    ]
    for i, (name, task, scorer, n, accuracy) in enumerate(cases):
        log = FIXTURES / "inspect" / name
        assay("import", "inspect", str(log), "--work-dir", str(tmp_path), "--name", f"i{i}")
        (row,) = rows(tmp_path / f"i{i}")
        assert (row["dataset"], row["metric"], row["num"], row["errors"]) == (task, scorer, n, 0)
        assert abs(row["score"] - accuracy) < 1e-12
        evs = events(tmp_path / f"i{i}")
        reported = evs[0]["body"]["resolved"]["imported_from"]["reported"]
        assert reported[scorer]["accuracy"] == row["score"]
    # the multiple-choice log keeps its choices, target and the scorer's answer
    evs = events(tmp_path / "i2")
    (loaded,) = [e["body"] for e in evs if e["type"] == "SampleLoaded"]
    assert loaded["choices"] == ["6.0 e", "6.8 eV", "12.2 eV", "13.6 eV"] and loaded["target"] == "A"
    (scored,) = [e["body"] for e in evs if e["type"] == "Scored"]
    assert (scored["extracted"], scored["value"], scored["scorer"]) == ("C", 0.0, "inspect")
    (gen,) = [e["body"] for e in evs if e["type"] == "Generated"]
    assert gen["output"] == "ANSWER: C" and gen["model"] == "openai/gpt-4o"


def test_bad_input_is_one_error_line(tmp_path):
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    cases = [
        (("import", "evalscope", str(nothing)), f"error: {nothing}: not an EvalScope output directory (no predictions/ "
         "or reviews/ in it or in a child)\n"),
        (("import", "lm-eval", str(nothing)), f"error: {nothing}: no lm-eval samples_<task>_<date>.jsonl files (run "
         "lm-eval with --log_samples)\n"),
        (("import", "inspect", str(FIXTURES / "make_lm_eval_fixture.py")),
         f"error: {FIXTURES / 'make_lm_eval_fixture.py'}: an inspect log ends in .eval or .json\n"),
        (("import", str(nothing)), "error: usage: assay import {evalscope,lm-eval,inspect} PATH (or --from FORMAT PATH)\n"),
        (("import", "evalscope", str(ES_TREE), "--model", "gpt"),
         f"error: {ES_TREE}: no results of model 'gpt' (it holds {ES_MODEL})\n"),
        (("export", str(nothing), "--to", "evalscope", str(tmp_path / "out")), f"error: no event log at {nothing}/events.jsonl\n"),
    ]  # fmt: skip
    for args, message in cases:
        proc = assay(*args, check=False)
        assert (proc.returncode, proc.stdout, own(proc.stderr)) == (2, "", message), args
    fake = tmp_path / "fake.eval"
    fake.write_bytes(b"not a zip")
    proc = assay("import", "inspect", str(fake), check=False)
    assert proc.returncode == 2 and own(proc.stderr).startswith(f"error: {fake}: not a readable inspect .eval log")
    assay("import", "evalscope", str(ES_TREE), "--work-dir", str(tmp_path), "--name", "es")
    full = tmp_path / "full"
    (full / "x").mkdir(parents=True)
    proc = assay("export", str(tmp_path / "es"), "--to", "evalscope", str(full), check=False)
    assert (proc.returncode, own(proc.stderr)) == (2, f"error: {full} is not empty; export into a new directory\n")
