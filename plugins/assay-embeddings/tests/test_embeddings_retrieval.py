"""BEIR-layout retrieval against hand-computed nDCG/MAP/MRR/Recall, with the test server's
``/v1/embeddings`` as the embedding model (deterministic bag-of-words vectors: each lower-cased
word gets one +-1 coordinate, then the vector is L2-normalised; so for texts without repeated
words, cosine = shared words / sqrt(len_a * len_b))."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from assay import run_task
from assay.api import AssayError
from assay_testserver.testing import bodies, events

CORPUS = {
    "d1": "alpha beta gamma",
    "d2": "alpha beta delta",
    "d3": "alpha epsilon zeta eta",
    "d4": "omega psi chi",
    "d5": "kappa lambda mu",
    "d6": "kappa lambda nu xi",
}
QUERIES = {"q1": "alpha beta gamma", "q2": "kappa lambda mu", "q3": "omega psi mu zeta", "q4": "unjudged query"}
QRELS = [("q1", "d2", 1), ("q1", "d3", 2), ("q2", "d5", 2), ("q2", "d6", 1), ("q3", "d6", 1)]


def write_beir(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True)
    with open(root / "corpus.jsonl", "w") as f:
        for i, (did, text) in enumerate(CORPUS.items()):
            # half the documents carry their first word as a title: BEIR encodes title + " " + text
            title, _, rest = text.partition(" ") if i % 2 else ("", "", text)
            f.write(json.dumps({"_id": did, "title": title, "text": rest}) + "\n")
    with open(root / "queries.jsonl", "w") as f:
        for qid, text in QUERIES.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    with open(root / "qrels" / "test.tsv", "w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        f.writelines(f"{q}\t{d}\t{r}\n" for q, d, r in QRELS)
    return root


def metric_rows(report: dict, dataset: str) -> dict[str, dict]:
    return {r["metric"]: r for r in report["rows"] if r["dataset"] == dataset}


# Hand computation (trec_eval definitions: gain = relevance grade, AP over all judged relevant docs;
# MRR as MTEB). Rankings by cosine, top_k = 3:
#   q1 "alpha beta gamma":  d1 1, d2 2/3, d3 1/sqrt(12)  -> relevant d2 (1) at 2, d3 (2) at 3
#   q2 "kappa lambda mu":   d5 1, d6 2/sqrt(12), then 0s -> relevant d5 (2) at 1, d6 (1) at 2
#   q3 "omega psi mu zeta": d4 2/sqrt(12), d5 1/sqrt(12), d3 1/4 -> relevant d6 not retrieved
#   q4 has no judgements: not scored (as MTEB)
L3 = math.log2(3)
EXPECTED = {
    "ndcg_at_10": ((1 / L3 + 2 / 2) / (2 + 1 / L3) + 1.0 + 0.0) / 3,
    "map_at_10": ((1 / 2 + 2 / 3) / 2 + 1.0 + 0.0) / 3,
    "mrr_at_10": (1 / 2 + 1 + 0) / 3,
    "recall_at_1": (0 + 1 / 2 + 0) / 3,
    "recall_at_10": (1 + 1 + 0) / 3,
    "precision_at_1": (0 + 1 + 0) / 3,
}


def test_retrieval_metrics_match_hand_computation(tmp_path, test_server):
    srv = test_server(embedding_dim=4096)
    data = write_beir(tmp_path / "toy")
    work = tmp_path / "work"
    report = run_task(
        {
            "datasets": ["retrieval"],
            "dataset_args": {
                "retrieval": {
                    "local_path": str(data),
                    "model": "bow",
                    "api_url": srv.url,
                    "api_key": "sk-secret-retrieval-123",
                    "top_k": 3,
                    "batch_size": 4,
                    "concurrency": 1,
                    "metric_list": list(EXPECTED) + ["recall_at_3"],
                }
            },
            "work_dir": str(work),
        }
    )
    rows = metric_rows(report, "retrieval")
    for metric, value in EXPECTED.items():
        assert rows[metric]["score"] == pytest.approx(value, abs=1e-6), metric
        assert rows[metric]["num"] == 3
    assert rows["recall_at_3"]["score"] == pytest.approx(2 / 3, abs=1e-6)

    log = events(work / report["run_id"])
    retrieved = {e["body"]["sample_id"]: e["body"] for e in log if e["type"] == "Retrieved"}
    # the premises of the hand computation: the server's cosines are the word-overlap formula
    assert retrieved["retrieval/default/q1"]["doc_ids"] == ["d1", "d2", "d3"]
    assert retrieved["retrieval/default/q1"]["scores"] == pytest.approx([1, 2 / 3, 1 / math.sqrt(12)], abs=1e-6)
    assert retrieved["retrieval/default/q3"]["doc_ids"] == ["d4", "d5", "d3"]
    assert "retrieval/default/q4" not in retrieved
    # batching: 6 documents in batches of 4; q1 and q2 are the texts of d1 and d5, so the
    # content-addressed cache answers them and only q3 is sent
    inputs = [r["input"] for r in srv.requests]
    assert [len(i) for i in inputs] == [4, 2, 1]
    assert sorted(inputs[0] + inputs[1]) == sorted(CORPUS.values())  # title + " " + text
    assert inputs[2] == [QUERIES["q3"]]
    timed = [e["body"] for e in log if e["type"] == "EncodingTimed"]
    assert [(t["purpose"], t["texts"], t.get("cached", 0), t["encoded"], t["chunk_sizes"]) for t in timed] == [
        ("corpus", 6, 0, 6, [4, 2]),
        ("queries", 3, 2, 1, [1]),
    ]
    # the key went in the Authorization header only
    assert "sk-secret-retrieval-123" not in (work / report["run_id"] / "events.jsonl").read_text()
    assert "sk-secret-retrieval-123" not in (work / report["run_id"] / "report.json").read_text()

    # the figures can be recomputed from the log alone
    from assay_embeddings.replay import retrieval_from_log

    again_from_log = retrieval_from_log(work / report["run_id"])[("retrieval", "default")]
    for metric, value in EXPECTED.items():
        assert again_from_log[metric] == pytest.approx(value, abs=1e-6), metric

    # a second run in the same work dir reads every vector from the cache: no request at all
    before = len(srv.requests)
    again = run_task(
        {
            "datasets": ["retrieval"],
            "work_dir": str(work),
            "dataset_args": {
                "retrieval": {
                    "local_path": str(data),
                    "model": "bow",
                    "api_url": srv.url,
                    "top_k": 3,
                    "metric_list": ["ndcg_at_10"],
                }
            },
        }
    )
    assert len(srv.requests) == before
    assert metric_rows(again, "retrieval")["ndcg_at_10"]["score"] == pytest.approx(EXPECTED["ndcg_at_10"], abs=1e-6)
    timed = bodies(work / again["run_id"], "EncodingTimed")
    assert [(t["cached"], t.get("encoded", 0)) for t in timed] == [(6, 0), (3, 0)]


def test_embeddings_api_retries_a_server_error(tmp_path, test_server):
    srv = test_server(embedding_dim=4096, faults={"http_500": [1]})
    data = write_beir(tmp_path / "toy")
    report = run_task(
        {
            "datasets": ["retrieval"],
            "work_dir": str(tmp_path / "w"),
            "dataset_args": {
                "retrieval": {
                    "local_path": str(data),
                    "model": "bow",
                    "api_url": srv.url,
                    "top_k": 3,
                    "cache": False,
                    "metric_list": ["mrr_at_10"],
                }
            },
        }
    )
    assert metric_rows(report, "retrieval")["mrr_at_10"]["score"] == pytest.approx(EXPECTED["mrr_at_10"], abs=1e-6)
    assert len(srv.requests) == 3  # the failed corpus request, its retry, the queries


def test_retrieval_bad_input_names_file_and_line(tmp_path, test_server):
    data = write_beir(tmp_path / "toy")
    with open(data / "qrels" / "test.tsv", "a") as f:
        f.write("q9\td1\t1\n")
    with pytest.raises(AssayError, match=r"test\.tsv:7: query 'q9' is not in queries\.jsonl"):
        run_task(
            {
                "datasets": ["retrieval"],
                "work_dir": str(tmp_path / "w"),
                "dataset_args": {
                    "retrieval": {"local_path": str(data), "model": "bow", "api_url": "http://127.0.0.1:9/v1"}
                },
            }
        )
    with pytest.raises(AssayError, match=r"no qrels for split 'dev'.*splits found: test"):
        run_task(
            {
                "datasets": ["retrieval"],
                "work_dir": str(tmp_path / "w"),
                "dataset_args": {
                    "retrieval": {
                        "local_path": str(data),
                        "eval_split": "dev",
                        "model": "bow",
                        "api_url": "http://127.0.0.1:9/v1",
                    }
                },
            }
        )
    (data / "corpus.jsonl").write_text('{"_id": "d1", "text": "x"}\n{"text": "no id"}\n')
    with pytest.raises(AssayError, match=r"corpus\.jsonl:2: a document needs an '_id'"):
        run_task(
            {
                "datasets": ["retrieval"],
                "work_dir": str(tmp_path / "w"),
                "dataset_args": {
                    "retrieval": {"local_path": str(data), "model": "bow", "api_url": "http://127.0.0.1:9/v1"}
                },
            }
        )
