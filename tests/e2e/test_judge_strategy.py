"""EvalScope's judge strategies on rule-scored benchmarks, through the `assay` CLI: `llm` (general_qa graded
by a judge with EvalScope's LLMJudge prompt, pattern and numeric), `llm_recall` (gsm8k: the judge is asked
only about the answers the rules scored 0), and the error when a strategy needs a judge and has none.

Expected figures follow from the scripted verdicts: A = 1, B = 0, an unparseable reply or a failed call is a
judge failure (out of the score, counted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from assay.api import BenchmarkArgs
from assay_judge.llm_judge import PATTERN_TEMPLATE
from assay_testserver.testing import assay, run_dir_of
from helpers import eval_gsm8k

pytestmark = pytest.mark.slow


def rows(run: Path, code: int) -> dict[tuple[str, str], dict]:
    out = json.loads(assay("report", str(run), "--format", "json", check=code).stdout)
    return {(r["subset"], r["metric"]): r for r in out if "metric" in r}


def qa_file(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps({"query": f"QUESTION-{i}?", "response": f"GOLD-{i}"}) + "\n" for i in range(n)))
    return path


def judge_rule(i: int, verdict: str | None) -> dict:
    rule = {"match": f"[Predicted Answer]\nANS-{i}\n", "answer": verdict or "A"}
    if verdict is None:
        rule["fault"] = "http_500"
    return rule


def test_llm_strategy_grades_general_qa_with_evalscopes_prompt(test_server, tmp_path) -> None:
    verdicts = ["A", "A", "B", "A", "no verdict here", None]  # 3 A, 1 B, 2 judge failures
    model = test_server(rules=[{"match": f"QUESTION-{i}?", "answer": f"ANS-{i}"} for i in range(6)])
    judge = test_server(rules=[judge_rule(i, v) for i, v in enumerate(verdicts)])
    args = [
        "eval",
        "--model",
        "m",
        "--api-url",
        model.url,
        "--datasets",
        "general_qa",
        "--dataset-args",
        json.dumps({"general_qa": {"local_path": str(qa_file(tmp_path, 6))}}),
        "--judge-strategy",
        "llm",
        "--judge-model-args",
        json.dumps({"model_id": "judge", "api_url": judge.url}),
        "--retries",
        "0",
        "--no-progress",
        "--work-dir",
        str(tmp_path / "w"),
    ]
    run = run_dir_of(assay(*args, check=3))
    table = rows(run, 3)
    acc = table[("qa", "acc")]
    assert acc["score"] == pytest.approx(3 / 4) and acc["judged"] == 4 and acc["judge_failures"] == 2
    assert not any(metric.startswith(("qa_", "bleu", "rouge")) for _, metric in table)  # the judge replaced the rules
    # the exact prompt: EvalScope's template with question, reference and prediction
    sent = next(r for r in judge.requests if "ANS-2\n" in r["messages"][-1]["content"])
    expected = PATTERN_TEMPLATE.replace("{question}", "QUESTION-2?").replace("{pred}", "ANS-2")
    assert sent["messages"][-1]["content"] == expected.replace("{gold}", "GOLD-2")

    # score_type numeric: EvalScope's numeric template and [[rating]] (0-1)
    judge2 = test_server(rules=[{"match": "[Response]\nANS-", "answer": "Rating: [[0.25]]"}])
    numeric = json.dumps({"model_id": "judge", "api_url": judge2.url, "score_type": "numeric"})
    args[args.index("--judge-model-args") + 1] = numeric
    run2 = run_dir_of(assay(*args))
    assert rows(run2, 0)[("qa", "acc")]["score"] == pytest.approx(0.25)
    assert "rate the response on a scale of 0 (worst) to 1 (best)" in judge2.requests[0]["messages"][-1]["content"]


def test_llm_recall_asks_the_judge_only_about_rule_zeros(test_server, datasets_dir, tmp_path) -> None:
    from assay_gsm8k.benchmark import GSM8K

    bargs = BenchmarkArgs(name="gsm8k", dataset_dir=str(datasets_dir))
    samples = list(GSM8K(bargs).load(bargs))[:4]
    gold = [s.target for s in samples]
    # right, right, wrong (the judge says A: recalled), wrong (the judge says B)
    answers = [f"#### {gold[0]}", f"#### {gold[1]}", "The total is twelve. #### 999999", "#### 888888"]
    model = test_server(
        rules=[{"match": s.messages[-1]["content"][-60:], "answer": a} for s, a in zip(samples, answers, strict=True)]
    )
    judge = test_server(
        rules=[
            {"match": "[Predicted Answer]\nThe total is twelve.", "answer": "A"},
            {"match": "[Predicted Answer]\n#### 888888", "answer": "B"},
        ]
    )
    proc = eval_gsm8k(
        model.url,
        datasets_dir,
        tmp_path / "w",
        "--judge-strategy",
        "llm_recall",
        "--judge-model-args",
        json.dumps({"model_id": "judge", "api_url": judge.url}),
        limit=4,
    )
    run = run_dir_of(proc)
    assert len(judge.requests) == 2  # only the two answers the rules scored 0
    table = rows(run, 0)
    acc = next(r for (subset, metric), r in table.items() if metric == "acc" and subset in ("main", "default"))
    assert acc["score"] == pytest.approx(3 / 4) and acc["judge_failures"] == 0


def test_a_strategy_that_needs_a_judge_without_one_is_a_usage_error(tmp_path) -> None:
    proc = assay(
        "eval",
        "--model",
        "mock",
        "--datasets",
        "general_qa",
        "--dataset-args",
        json.dumps({"general_qa": {"local_path": str(qa_file(tmp_path, 2))}}),
        "--judge-strategy",
        "llm",
        "--work-dir",
        str(tmp_path / "w"),
        check=2,
    )
    assert "judge_strategy 'llm' asks a judge: pass --judge-model-args" in proc.stderr
    assert not (tmp_path / "w").exists() or not any((tmp_path / "w").iterdir())
