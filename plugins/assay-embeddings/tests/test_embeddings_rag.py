"""RAG metrics (RAGAS definitions) with the test server as the judge (rules map prompt tails to canned
verdict JSON) and as the embedding model for answer relevancy (bag-of-words vectors: for texts
without repeated words, cosine = shared words / sqrt(len_a * len_b))."""

from __future__ import annotations

import json
import math

import pytest
from assay import run_task
from assay_testserver.testing import events

pytest.importorskip("assay_openai", reason="the judge goes through the assay-openai model backend")

R1 = {
    "id": "r1",
    "question": "what is the capital of france",
    "contexts": [
        "Paris is the capital and largest city of France.",
        "France is in Europe.",
        "About 2.1 million people live in Paris.",
    ],
    "answer": "Paris is the capital of France. It has two million people.",
    "ground_truth": "Paris is the capital of France. About 2.1 million people live there. It lies on the Seine.",
}
R2 = {  # an evasive answer; the judge's statements reply for it is not JSON
    "id": "r2",
    "question": "who wrote hamlet",
    "contexts": ["Hamlet is a tragedy by William Shakespeare."],
    "answer": "I am not sure.",
    "ground_truth": "William Shakespeare wrote Hamlet.",
}
R3 = {"id": "r3", "question": "q three", "contexts": ["c three"], "answer": "a three", "ground_truth": "g three"}

S1 = ["Paris is the capital of France.", "Paris has two million people.", "Paris is a city."]
Q1 = ["what is the capital of france", "what is the capital city of france", "name the capital of france"]


def j(obj) -> str:
    return json.dumps(obj)


RULES = [
    {"match": f"Answer: {R1['answer']}\nStatements (JSON):", "answer": j({"statements": S1})},
    {
        "match": f"3. {S1[2]}\nVerdicts (JSON):",
        "answer": "```json\n"
        + j(
            {
                "verdicts": [
                    {"statement": S1[0], "reason": "context 1", "verdict": 1},
                    {"statement": S1[1], "reason": "2.1 million is not two million", "verdict": 0},
                    {"statement": S1[2], "reason": "context 1", "verdict": 1},
                ]
            }
        )
        + "\n```",
    },
    {"match": f"Answer: {R1['answer']}\nQuestions (JSON):", "answer": j({"questions": Q1, "noncommittal": 0})},
    *[
        {
            "match": f"Context: {c}\nReference answer: {R1['ground_truth']}\nVerdict (JSON):",
            "answer": j({"reason": "-", "verdict": v}),
        }
        for c, v in zip(R1["contexts"], (1, 0, 1))
    ],
    {
        "match": f"Reference answer: {R1['ground_truth']}\nClassifications (JSON):",
        "answer": j(
            {
                "classifications": [
                    {"statement": "s1", "attributed": 1},
                    {"statement": "s2", "attributed": 1},
                    {"statement": "s3", "attributed": 0},
                ]
            }
        ),
    },
    {
        "match": f"Answer: {R2['answer']}\nQuestions (JSON):",
        "answer": j({"questions": ["who wrote hamlet"], "noncommittal": 1}),
    },
    {
        "match": f"Context: {R2['contexts'][0]}\nReference answer: {R2['ground_truth']}\nVerdict (JSON):",
        "answer": j({"verdict": 1}),
    },
    {
        "match": f"Reference answer: {R2['ground_truth']}\nClassifications (JSON):",
        "answer": j({"classifications": [{"attributed": 1}]}),
    },
]

# Hand computation, RAGAS definitions:
FAITH_R1 = 2 / 3  # 2 of 3 statements supported
REL_R1 = (1 + 6 / math.sqrt(6 * 7) + 4 / math.sqrt(6 * 5)) / 3  # mean cosine of the 3 generated questions
PREC_R1 = (1 / 1 * 1 + 2 / 3 * 1) / 2  # verdicts 1,0,1: mean of precision@k at the useful contexts
RECALL_R1 = 2 / 3  # 2 of 3 reference sentences attributed
EXPECTED = {  # r2's faithfulness reply is unusable: r2 is judge-failed, out of every metric (never a 0)
    "faithfulness": FAITH_R1,
    "answer_relevancy": REL_R1,
    "context_precision": PREC_R1,
    "context_recall": RECALL_R1,
}


def test_rag_metrics_with_the_test_server_as_judge(tmp_path, test_server):
    srv = test_server(rules=RULES, default_answer="I cannot answer in JSON.", embedding_dim=4096)
    data = tmp_path / "rag.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in (R1, R2)) + "\n")
    work = tmp_path / "work"
    report = run_task(
        {
            "datasets": ["rag"],
            "model": "judge-model",
            "api_url": srv.url,
            "api_key": "sk-judge-secret",
            "dataset_args": {"rag": {"local_path": str(data), "embedding_model": "bow", "embedding_api_url": srv.url}},
            "work_dir": str(work),
        }
    )
    rows = {r["metric"]: r for r in report["rows"] if r["dataset"] == "rag"}
    for metric, value in EXPECTED.items():
        assert rows[metric]["score"] == pytest.approx(value, abs=1e-9), metric
        assert (rows[metric]["num"], rows[metric]["judged"], rows[metric]["judge_failures"]) == (1, 1, 1)
    assert report["judge_failures"] == 1 and report["errored_samples"] == 0

    text = (work / report["run_id"] / "events.jsonl").read_text()
    assert "sk-judge-secret" not in text
    log = [json.loads(line) for line in text.splitlines()]
    judged = [e["body"] for e in log if e["type"] == "Judged"]  # the kernel's judge event
    # r1: statements, verdicts, questions, 3 contexts, classifications; r2: the same less 2 contexts and the verdicts
    assert len(judged) == 7 + 4
    sent = [r["messages"] for r in srv.requests if "messages" in r]
    assert sorted(json.dumps(b["messages"]) for b in judged) == sorted(json.dumps(m) for m in sent)
    by = {(b["sample_id"], b["key"]): b for b in judged}
    v = by[("rag/default/r1", "faithfulness:verdicts")]
    assert [x["verdict"] for x in json.loads(v["label"])["verdicts"]] == [1, 0, 1]
    assert "Context:\n" + "\n".join(R1["contexts"]) in v["messages"][0]["content"]
    bad = by[("rag/default/r2", "faithfulness:statements")]
    assert bad["output"] == "I cannot answer in JSON." and bad["status"] == "judge_failed"
    assert "no JSON object" in bad["reason"]
    scored = {(e["body"]["sample_id"], e["body"]["metric"]): e["body"] for e in log if e["type"] == "Scored"}
    assert scored[("rag/default/r1", "answer_relevancy")]["value"] == pytest.approx(REL_R1, abs=1e-9)
    assert not any(sid == "rag/default/r2" for sid, _ in scored)
    (failed,) = [e["body"] for e in log if e["type"] == "SampleFailed"]
    assert failed["stage"] == "judge" and failed["message"].startswith("faithfulness: statements: ")
    # the relevancy embeddings went to /v1/embeddings in one batch: r1's question and its 3 generated ones
    # (r2 is judge-failed: nothing of it is scored, so nothing is encoded)
    emb = [r["input"] for r in srv.requests if "input" in r]
    assert len(emb) == 1 and sorted(emb[0]) == sorted({R1["question"], *Q1})


def test_rag_record_the_judge_cannot_grade_is_a_judge_failure_not_a_zero(tmp_path, test_server):
    srv = test_server(rules=RULES, default_answer="nope", embedding_dim=4096)
    data = tmp_path / "rag.jsonl"
    data.write_text(json.dumps(R1) + "\n" + json.dumps(R3) + "\n")
    report = run_task(
        {
            "datasets": ["rag"],
            "work_dir": str(tmp_path / "w"),
            "dataset_args": {
                "rag": {
                    "local_path": str(data),
                    "judge_model": "judge",
                    "judge_api_url": srv.url,
                    "embedding_model": "bow",
                    "embedding_api_url": srv.url,
                    "metric_list": ["faithfulness", "context_recall"],
                }
            },
        }
    )
    rows = {r["metric"]: r for r in report["rows"] if r["dataset"] == "rag"}
    assert set(rows) == {"faithfulness", "context_recall"}
    assert report["errored_samples"] == 0 and report["judge_failures"] == 1
    # r3 judge-failed: out of the score and its denominator, counted beside it
    assert rows["faithfulness"]["score"] == pytest.approx(FAITH_R1, abs=1e-9)
    assert rows["context_recall"]["score"] == pytest.approx(RECALL_R1, abs=1e-9)
    assert rows["faithfulness"]["num"] == 1 and rows["faithfulness"]["judge_failures"] == 1


def test_rag_record_missing_what_a_metric_needs_is_an_errored_sample(tmp_path, test_server):
    srv = test_server(rules=RULES, embedding_dim=4096)
    data = tmp_path / "rag.jsonl"
    no_truth = {k: v for k, v in R1.items() if k != "ground_truth"} | {"id": "r1-no-truth"}
    data.write_text(json.dumps(R1) + "\n" + json.dumps(no_truth) + "\n")
    report = run_task(
        {
            "datasets": ["rag"],
            "work_dir": str(tmp_path / "w"),
            "dataset_args": {
                "rag": {
                    "local_path": str(data),
                    "judge_model": "judge",
                    "judge_api_url": srv.url,
                    "metric_list": ["context_recall"],
                }
            },
        }
    )
    (row,) = [r for r in report["rows"] if r["dataset"] == "rag"]
    assert report["errored_samples"] == 1 and row["errors"] == 1 and row["num"] == 2  # errors count as 0
    assert row["score"] == pytest.approx(RECALL_R1 / 2, abs=1e-9)


def test_rag_bad_record_names_file_and_line(tmp_path):
    from assay.api import AssayError

    data = tmp_path / "rag.jsonl"
    data.write_text(json.dumps(R1) + "\n" + json.dumps({"question": "q", "answer": "a"}) + "\n")
    with pytest.raises(AssayError, match=r"rag\.jsonl:2: missing field 'contexts'"):
        run_task(
            {
                "datasets": ["rag"],
                "work_dir": str(tmp_path / "w"),
                "api_url": "http://127.0.0.1:9/v1",
                "dataset_args": {"rag": {"local_path": str(data)}},
            }
        )


def test_rag_judge_call_is_retried_after_a_server_error(tmp_path, test_server):
    srv = test_server(rules=RULES, embedding_dim=4096, faults={"http_500": [1]})
    data = tmp_path / "rag.jsonl"
    data.write_text(json.dumps(R1) + "\n")
    work = tmp_path / "w"
    report = run_task(
        {
            "datasets": ["rag"],
            "work_dir": str(work),
            "dataset_args": {
                "rag": {
                    "local_path": str(data),
                    "judge_model": "judge",
                    "judge_api_url": srv.url,
                    "metric_list": ["faithfulness"],
                }
            },
        }
    )
    rows = {r["metric"]: r for r in report["rows"] if r["dataset"] == "rag"}
    assert rows["faithfulness"]["score"] == pytest.approx(FAITH_R1, abs=1e-9)
    log = events(work / report["run_id"])
    judged = [e["body"] for e in log if e["type"] == "Judged"]
    assert [(b["key"], b.get("attempt", 1)) for b in judged] == [
        ("faithfulness:statements", 2),
        ("faithfulness:verdicts", 1),
    ]
    assert len(srv.requests) == 3  # the failed call, its retry, the verdicts
