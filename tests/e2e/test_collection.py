"""Collections end to end: `assay collection create` over real shared datasets, then `assay eval
--datasets data_collection` against the test server, then the report per level."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from assay_testserver.testing import assay, own_lines, served_eval
from assay_testserver.testing import events as _events

pytestmark = pytest.mark.slow  # starts `assay` subprocesses


SCHEMA = {
    "name": "mix",
    "datasets": [
        {
            "name": "math",
            "weight": 2,
            "datasets": [{"name": "gsm8k", "task_type": "math", "args": {"few_shot_num": 0}}],
        },
        {
            "name": "knowledge",
            "datasets": [
                {"name": "mmlu", "tags": ["en"], "args": {"subset_list": ["anatomy", "astronomy"]}},
                {"name": "arc", "tags": ["en"]},
            ],
        },
    ],
}
SIZES = {"gsm8k": 1319, "mmlu": 135 + 152, "arc": 1172 + 299 + 2376 + 570}  # arc: test + dev of both sets


def _create(tmp_path: Path, datasets_dir: Path, *more: str, schema=SCHEMA, name="coll.jsonl", check=True):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema))
    out = tmp_path / name
    proc = assay(
        "collection", "create", str(path), "-o", str(out), "--dataset-dir", str(datasets_dir), *more, check=check
    )
    return proc, out


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_weighted_sampling_is_seeded_and_keeps_where_items_came_from(tmp_path, datasets_dir) -> None:
    proc, out = _create(tmp_path, datasets_dir, "--count", "12")
    assert proc.stdout.splitlines() == [f"wrote 12 items to {out} (weighted sampler, seed 42)"]
    assert own_lines(proc.stderr) == [
        "mix/math/gsm8k: 8 of 1319 items (share 0.6667)",
        "mix/knowledge/mmlu: 2 of 287 items (share 0.1667)",
        "mix/knowledge/arc: 2 of 3548 items (share 0.1667)",
    ]
    recs = _records(out)
    assert [r["index"] for r in recs] == list(range(12))
    assert [r["benchmark"] for r in recs] == ["gsm8k"] * 8 + ["mmlu"] * 2 + ["arc"] * 2
    assert [r["schema_path"] for r in recs] == [["mix", "math"]] * 8 + [["mix", "knowledge"]] * 4
    assert recs[0]["tags"] == ["mix", "math"] and recs[8]["tags"] == ["en", "mix", "knowledge"]
    assert recs[0]["task_type"] == "math" and recs[0]["weight"] == pytest.approx(2 / 3)
    # which items: random.Random(seed).sample of each dataset's positions, in file order
    rng = random.Random(42)
    picks = [sorted(rng.sample(range(SIZES[b]), k)) for b, k in (("gsm8k", 8), ("mmlu", 2), ("arc", 2))]
    assert [int(r["sample"]["local_id"]) for r in recs[:8]] == picks[0]
    lines = (datasets_dir / "gsm8k" / "test.jsonl").read_text().splitlines()
    for r in recs[:8]:
        row = json.loads(lines[int(r["sample"]["local_id"])])
        assert r["subset"] == "main" and r["sample"]["sample_id"] == f"gsm8k/main/{r['sample']['local_id']}"
        assert r["sample"]["messages"][-1]["content"].endswith(
            f"Question: {row['question']}\nAnswer: Let's think step by step."
        )
        assert r["sample"]["scorers"] == ["gsm8k_acc"]
    anatomy = 135
    assert [r["subset"] for r in recs[8:10]] == ["anatomy" if p < anatomy else "astronomy" for p in picks[1]]
    # the same seed gives the same file; another seed another one
    _, again = _create(tmp_path, datasets_dir, "--count", "12", name="again.jsonl")
    assert again.read_bytes() == out.read_bytes()
    _, other = _create(tmp_path, datasets_dir, "--count", "12", "--seed", "7", name="other.jsonl")
    assert other.read_bytes() != out.read_bytes()


@pytest.mark.parametrize(("sampler", "taken"), [("uniform", [4, 4, 4]), ("stratified", [3, 0, 9])])
def test_uniform_and_stratified_share_the_count(tmp_path, datasets_dir, sampler, taken) -> None:
    # stratified: int(1319/5154*12) = 3, int(287/5154*12) = 0, the rest (9) to the last
    _, out = _create(tmp_path, datasets_dir, "--count", "12", "--sampler", sampler)
    recs = _records(out)
    assert [sum(r["benchmark"] == b for r in recs) for b in ("gsm8k", "mmlu", "arc")] == taken


def _answer(rec: dict, right: bool) -> str:
    target = rec["sample"]["target"]
    if rec["benchmark"] == "gsm8k":
        return f"#### {target}" if right else "#### 99999"
    if right:
        return f"ANSWER: {target}"
    letters = "ABCD"
    return f"ANSWER: {letters[(letters.index(target) + 1) % 4]}"


def test_eval_of_a_collection_folds_per_level(tmp_path, datasets_dir, test_server) -> None:
    _, out = _create(tmp_path, datasets_dir, "--count", "12")
    recs = _records(out)
    rules = []
    for r in recs:
        i = r["index"]
        answer = "no idea" if i == 1 else _answer(r, right=i % 3 == 0)  # right: 0, 3, 6 (gsm8k), 9 (mmlu)
        rules.append({"match": r["sample"]["messages"][-1]["content"], "answer": answer})
    srv = test_server(rules=rules, faults={"http_400": [12]})  # the last item (arc) errors
    runs = tmp_path / "runs"
    proc = served_eval(
        srv.url,
        runs,
        "--datasets",
        "data_collection",
        "--dataset-args",
        json.dumps({"data_collection": {"local_path": str(out)}}),
        "--eval-batch-size",
        "1",
        check=False,
    )
    assert proc.returncode == 3, proc.stderr  # completed, one errored item
    (run,) = [p for p in runs.iterdir() if (p / "events.jsonl").exists()]
    events = _events(run, whole=True)
    loaded = [e["body"] for e in events if e["type"] == "SampleLoaded"]
    assert len(loaded) == 12
    first = loaded[8]
    assert first["benchmark"] == "data_collection" and first["category"] == "mix/knowledge"
    assert first["subset"] == f"mix/knowledge/mmlu/{recs[8]['subset']}"
    source = first["metadata"]["collection"]
    assert (source["benchmark"], source["subset"], source["schema_path"]) == (
        "mmlu",
        recs[8]["subset"],
        ["mix", "knowledge"],
    )
    assert source["sample_id"] == recs[8]["sample"]["sample_id"] and first["scorers"] == ["mcq_letter"]
    report = json.loads((run / "report.json").read_text())
    kernel = {(r["category"], r["subset"]): (r["num"], r["score"], r["errors"]) for r in report["rows"]}
    assert kernel[("mix/math", "mix/math/gsm8k/main")] == (8, 3 / 8, 0)
    assert kernel[("mix/knowledge", "mix/knowledge/arc/ARC-Challenge")] == (1, 0.0, 1)
    assert kernel[("-", "OVERALL")] == (12, 4 / 12, 1)
    levels = {(r["level"], r["name"]): r for r in report["sections"]["collection"]["rows"]}

    def fig(level, name):
        r = levels[(level, name)]
        return (r["num"], r["errors"], r["micro"], r["macro"], r["weighted"])

    # gsm8k 3/8; mmlu anatomy 0/1, astronomy 1/1; arc Easy 0/1, Challenge errored (0/1)
    assert fig("overall", "mix") == (12, 1, 4 / 12, (0.25 + 0.375) / 2, pytest.approx(2 / 3 * 0.375 + 1 / 3 * 0.25))
    assert fig("node", "mix/math") == (8, 0, 0.375, 0.375, 0.375)
    assert fig("node", "mix/knowledge") == (4, 1, 0.25, 0.25, 0.25)
    assert fig("dataset", "mix/knowledge/mmlu") == (2, 0, 0.5, 0.5, 0.5)
    assert fig("dataset", "mix/knowledge/arc") == (2, 1, 0.0, 0.0, 0.0)
    assert fig("subset", "mix/knowledge/arc/ARC-Challenge") == (1, 1, 0.0, 0.0, 0.0)
    assert fig("benchmark", "gsm8k") == (8, 0, 0.375, 0.375, None)
    assert fig("tag", "en") == (4, 1, 0.25, 0.25, None)  # the mean of its 4 subsets: 0, 0, 0 and 1
    assert fig("task_type", "math") == (8, 0, 0.375, 0.375, None)
    assert [r["level"] for r in report["sections"]["collection"]["rows"]][:3] == ["overall", "node", "dataset"]
    assert "collection" in proc.stdout and "0.3125" in proc.stdout  # the macro overall, on screen


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            {"name": "mix", "datasets": [{"name": "gsm8k", "wieght": 2}]},
            "error: {schema}.datasets[0]: unknown key 'wieght' (did you mean 'weight'?); a dataset has name, weight, "
            "task_type, tags, args",
        ),
        (
            {"name": "mix", "datasets": [{"name": "m", "weight": 0, "datasets": [{"name": "gsm8k"}]}]},
            "error: {schema}.datasets[0].weight = 0: expected a number > 0",
        ),
        (
            {"name": "mix", "datasets": [{"name": "gsm8k", "args": {"subset_list": ["main"]}}]},
            "error: schema leaf mix/gsm8k (gsm8k): dataset_args.gsm8k.subset_list: gsm8k cannot honour "
            "'subset_list'; of the benchmark-specific keys it honours few_shot_num, few_shot_random, "
            "prompt_template, few_shot_prompt_template, train_split, eval_split",
        ),
    ],
)
def test_a_bad_schema_is_one_error_naming_the_place(tmp_path, datasets_dir, schema, message) -> None:
    proc, out = _create(tmp_path, datasets_dir, schema=schema, check=False)
    assert (proc.returncode, own_lines(proc.stderr)) == (2, [message.format(schema=tmp_path / "schema.json")])
    assert not out.exists()


def test_data_collection_needs_its_file(tmp_path) -> None:
    proc = assay("eval", "--datasets", "data_collection", "--work-dir", str(tmp_path), check=False)
    assert proc.returncode == 2
    assert own_lines(proc.stderr) == [
        "error: dataset_args.data_collection.local_path: give the collection file made by `assay collection "
        'create` (--dataset-args \'{"data_collection": {"local_path": "coll.jsonl"}}\')'
    ]
    other = tmp_path / "not.jsonl"
    other.write_text('{"question": "q"}\n')
    proc = assay(
        "eval",
        "--datasets",
        "data_collection",
        "--dataset-args",
        json.dumps({"data_collection": {"local_path": str(other)}}),
        "--work-dir",
        str(tmp_path / "runs"),
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert (
        f"error: {other}:1: not a collection item (missing index, benchmark, subset, schema_path, sample); "
        "make the file with `assay collection create`"
    ) in own_lines(proc.stderr)


def test_a_yaml_schema_and_the_sample_alias(tmp_path, datasets_dir) -> None:
    (tmp_path / "schema.yaml").write_text(
        "name: mix\n"
        "datasets:\n"
        "  - name: gsm8k\n"
        "    weight: 3\n"
        "    args: {few_shot_num: 0}\n"
        "  - name: mmlu\n"
        "    args: {subset_list: [anatomy]}\n"
    )
    out = tmp_path / "c.jsonl"
    proc = assay(
        "collection", "sample", str(tmp_path / "schema.yaml"), "-o", str(out), "--count", "8",
        "--dataset-dir", str(datasets_dir),
    )  # fmt: skip
    assert own_lines(proc.stderr) == [
        "mix/gsm8k: 6 of 1319 items (share 0.7500)",
        "mix/mmlu: 2 of 135 items (share 0.2500)",
    ]
    assert [r["benchmark"] for r in _records(out)] == ["gsm8k"] * 6 + ["mmlu"] * 2
