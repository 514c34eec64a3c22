"""MT-Bench: the real FastChat files (../shared/datasets/mt_bench), the judge prompts as FastChat fills
them, and an end-to-end `assay eval` where one test server answers both turns and another (the scripted
judge) rates them; rescore reuses the logged ratings without a judge call.

Expected figures are computed here from the scripted ratings, with FastChat's show_result rule: the mean
rating per turn and over both turns, over the judged questions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay_mtbench.benchmark import CATEGORIES, SCORER, MTBench
from assay_mtbench.prompts import PROMPTS
from assay_testserver.testing import assay, events, report_items, run_dir_of, section


def load(datasets_dir: Path, **kw) -> list:
    args = BenchmarkArgs(name="mt_bench", dataset_dir=str(datasets_dir), **kw)
    return list(MTBench(args).load(args))


def test_load_the_official_80_questions(datasets_dir) -> None:
    samples = load(datasets_dir)
    assert len(samples) == 80
    assert [s.subset for s in samples[::10]] == CATEGORIES  # 10 per category, category by category
    with_ref = [s for s in samples if s.metadata["reference"]]
    assert {s.subset for s in with_ref} == {"math", "reasoning", "coding"} and len(with_ref) == 30
    first = samples[0]
    raw = json.loads((datasets_dir / "mt_bench" / "question.jsonl").read_text().splitlines()[0])
    assert first.id == "81" and first.messages == [{"role": "user", "content": raw["turns"][0]}]
    assert first.follow_ups == [raw["turns"][1]]
    # gen_model_answer.py's temperature_config
    temps = {s.subset: s.metadata["generation_config"]["temperature"] for s in samples}
    assert temps == {
        "writing": 0.7,
        "roleplay": 0.7,
        "reasoning": 0.0,
        "math": 0.0,
        "coding": 0.0,
        "extraction": 0.0,
        "stem": 0.1,
        "humanities": 0.1,
    }
    assert [s.subset for s in load(datasets_dir, subset_list=["math"])] == ["math"] * 10


def test_bad_rows_name_file_and_line(tmp_path, datasets_dir) -> None:
    root = tmp_path / "mt_bench"
    (root / "reference_answer").mkdir(parents=True)
    lines = (datasets_dir / "mt_bench" / "question.jsonl").read_text().splitlines()
    (root / "question.jsonl").write_text(lines[0] + "\n" + json.dumps({"question_id": 5, "category": "writing"}) + "\n")
    with pytest.raises(AssayError, match=r"question.jsonl:2: turns must be a list of two strings"):
        load(tmp_path)
    math_row = next(json.loads(x) for x in lines if json.loads(x)["category"] == "math")
    (root / "question.jsonl").write_text(json.dumps(math_row) + "\n")
    refs = (datasets_dir / "mt_bench" / "reference_answer" / "gpt-4.jsonl").read_text().splitlines()
    other = [x for x in refs if json.loads(x)["question_id"] != math_row["question_id"]][:1]
    (root / "reference_answer" / "gpt-4.jsonl").write_text(other[0] + "\n")
    with pytest.raises(AssayError, match=rf"question.jsonl:1: question {math_row['question_id']} \(math\) needs"):
        load(tmp_path)
    with pytest.raises(AssayError, match="subset_list: no subset"):
        load(datasets_dir, subset_list=["poetry"])


def test_judge_prompts_are_fastchats(datasets_dir) -> None:
    samples = {s.id: s for s in load(datasets_dir)}
    writing, math = samples["81"], samples["111"]
    p1, p2 = SCORER.prompts(writing, ["A1", "A2"])
    assert p1[0] == {"role": "system", "content": "You are a helpful assistant."}
    q1, q2 = writing.metadata["turns"]
    assert p1[1]["content"].endswith(
        f"[Question]\n{q1}\n\n[The Start of Assistant's Answer]\nA1\n[The End of Assistant's Answer]"
    )
    assert p2[0]["content"] == PROMPTS["single-v1-multi-turn"][0] and p2[0]["content"].endswith('"Rating: [[5]]".\n\n')
    assert p2[1]["content"] == (
        "<|The Start of Assistant A's Conversation with User|>\n\n"
        f"### User:\n{q1}\n\n### Assistant A:\nA1\n\n### User:\n{q2}\n\n### Assistant A:\nA2\n\n"
        "<|The End of Assistant A's Conversation with User|>"
    )
    m1, m2 = SCORER.prompts(math, ["A1", "A2"])
    r1, r2 = math.metadata["reference"]
    assert f"[The Start of Reference Answer]\n{r1}\n[The End of Reference Answer]" in m1[1]["content"]
    assert m2[1]["content"].startswith(
        f"<|The Start of Reference Answer|>\n\n### User:\n{math.metadata['turns'][0]}\n\n### Reference answer:\n{r1}"
    )
    assert f"### Reference answer:\n{r2}\n\n<|The End of Reference Answer|>" in m2[1]["content"]
    # the rating pattern and its fallback (common.one_score_pattern / _backup); no rating: unparseable
    assert SCORER.parse("Rating: [[8]]", None).value == 8.0
    assert SCORER.parse("I'd say [7.5] overall", None).value == 7.5
    assert SCORER.parse("Rating: eight", None) is None


# ---- end to end ---------------------------------------------------------------------------------

# first question of each category (--limit 1): (turn-1 rating, turn-2 rating) as the judge replies
RATINGS: dict[str, tuple[str, str | None]] = {
    "writing": ("Rating: [[8]]", "Rating: [[6]]"),
    "roleplay": ("Rating: [[9]]", "The answer deserves [5]."),  # the [rating] fallback
    "reasoning": ("Rating: [[3]]", "Rating: [[7.5]]"),
    "math": ("Rating: [[10]]", "Rating: [[2]]"),
    "coding": ("Rating: [[4]]", "I cannot rate this."),  # unparseable: judge failure
    "extraction": ("Rating: [[7]]", None),  # the judge call fails (HTTP 500): judge failure
    "stem": ("Rating: [[6]]", "Rating: [[6]]"),
    "humanities": ("Rating: [[5]]", "Rating: [[9]]"),
}


@pytest.mark.slow
def test_mt_bench_end_to_end(test_server, datasets_dir, tmp_path) -> None:
    firsts: dict = {}
    for s in load(datasets_dir):  # --limit 1: the first question of each category
        firsts.setdefault(s.subset, s)
    assert list(firsts) == CATEGORIES
    model_rules, judge_rules = [], []
    for cat, s in firsts.items():
        q1, q2 = s.metadata["turns"]
        model_rules += [{"match": q1, "answer": f"ANS-{s.id}-1"}, {"match": q2, "answer": f"ANS-{s.id}-2"}]
        r1, r2 = RATINGS[cat]
        judge_rules.append({"match": f"ANS-{s.id}-1\n[The End of Assistant's Answer]", "answer": r1})
        rule = {"match": f"### Assistant A:\nANS-{s.id}-2", "answer": r2 or "Rating: [[1]]"}
        if r2 is None:
            rule["fault"] = "http_500"
        judge_rules.append(rule)
    model = test_server(rules=model_rules)
    judge = test_server(rules=judge_rules)
    common = ["--no-progress", "--retries", "0", "--work-dir", str(tmp_path / "w")]
    proc = assay(
        "eval",
        "--model",
        "m",
        "--api-url",
        model.url,
        "--datasets",
        "mt_bench",
        "--limit",
        "1",
        "--dataset-dir",
        str(datasets_dir),
        "--judge-model-args",
        json.dumps({"model_id": "judge", "api_url": judge.url}),
        *common,
        check=3,  # two questions could not be judged
    )
    run = run_dir_of(proc)

    # the second turn was asked with the model's own first answer, at the category's temperature
    second = [r for r in model.requests if len(r["messages"]) == 3]
    assert len(second) == 8 and len(model.requests) == 16
    writing = next(r for r in second if r["messages"][0]["content"] == firsts["writing"].metadata["turns"][0])
    assert writing["messages"][1] == {"role": "assistant", "content": f"ANS-{firsts['writing'].id}-1"}
    assert writing["temperature"] == 0.7
    gens = {e["body"]["sample_id"]: e["body"] for e in events(run, "Generated")}
    assert gens["mt_bench/math/111"]["turn_outputs"] == ["ANS-111-1", "ANS-111-2"]
    assert gens["mt_bench/math/111"]["output"] == "ANS-111-2"

    judged = [e["body"]["sample_id"] for e in events(run, "Judged")]
    assert len(judged) == 16  # two calls per question, every call logged (the failed one too)
    failed = {e["body"]["sample_id"] for e in events(run, "SampleFailed") if e["body"]["stage"] == "judge"}
    assert failed == {"mt_bench/coding/121", "mt_bench/extraction/131"}

    rows = report_items(run, check=3)
    mt = section(rows, "mt_bench")
    by_cat = {r["category"]: r for r in mt["rows"]}
    ok = {
        c: (float(re.search(r"\[\[?(\d+\.?\d*)", a).group(1)), float(re.search(r"\[\[?(\d+\.?\d*)", b).group(1)))
        for c, (a, b) in RATINGS.items()
        if c not in ("coding", "extraction")
    }
    for cat, (t1, t2) in ok.items():
        assert (by_cat[cat]["turn_1"], by_cat[cat]["turn_2"], by_cat[cat]["average"]) == (t1, t2, (t1 + t2) / 2)
    assert by_cat["coding"]["judged"] == 0 and by_cat["coding"]["judge_failures"] == 1
    overall = by_cat["OVERALL"]
    t1s, t2s = [v[0] for v in ok.values()], [v[1] for v in ok.values()]
    assert overall["judged"] == 6 and overall["judge_failures"] == 2
    assert overall["turn_1"] == pytest.approx(sum(t1s) / 6) and overall["turn_2"] == pytest.approx(sum(t2s) / 6)
    assert overall["average"] == pytest.approx((sum(t1s) + sum(t2s)) / 12)
    # the kernel's table: per category rows with coverage, the failures out of the score (never a 0)
    table = {(r["subset"], r["metric"]): r for r in rows if "metric" in r}
    assert table[("OVERALL", "score")]["score"] == pytest.approx(overall["average"])
    assert table[("OVERALL", "score")]["judge_failures"] == 2

    # rescore: the logged ratings are reused, the judge is not called again
    calls = len(judge.requests)
    re_proc = assay("rescore", str(run), "--work-dir", str(tmp_path / "w"), check=3)
    rerun = run_dir_of(re_proc)
    assert len(judge.requests) == calls
    assert section(report_items(rerun, check=3), "mt_bench")["rows"] == mt["rows"]
