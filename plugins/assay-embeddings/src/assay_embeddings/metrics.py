"""Corpus-level figures: STS correlations (scipy, as sentence-transformers' EmbeddingSimilarityEvaluator
and MTEB compute them) and retrieval metrics (pytrec_eval, as MTEB; MRR@k as MTEB's own code)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SIMILARITIES = ("cosine", "euclidean", "manhattan", "dot")
STS_METRICS = tuple(f"{s}_{c}" for s in SIMILARITIES for c in ("spearman", "pearson"))
DEFAULT_STS_METRICS = ("cosine_spearman", "cosine_pearson")


def pair_similarities(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """Row-wise similarities, as sentence-transformers' pairwise_* functions (distances negated)."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    dot = np.einsum("ij,ij->i", a, b)
    return {
        "cosine": dot / np.maximum(na * nb, 1e-12),
        "euclidean": -np.linalg.norm(a - b, axis=1),
        "manhattan": -np.abs(a - b).sum(axis=1),
        "dot": dot,
    }


def _fisher_ci(r: float, n: int, se_scale: float = 1.0) -> tuple[float | None, float | None]:
    if n <= 3 or not math.isfinite(r) or abs(r) >= 1:
        return None, None
    z = math.atanh(r)
    half = 1.959963984540054 * se_scale / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)


def correlation(kind: str, gold: np.ndarray, pred: np.ndarray) -> tuple[float, float | None, float | None]:
    """Spearman or Pearson with a 95% CI: Fisher z for Pearson, Bonett-Wright's variance for Spearman."""
    from scipy.stats import pearsonr, spearmanr

    n = len(gold)
    if kind == "spearman":
        r = float(spearmanr(gold, pred).statistic)
        lo, hi = _fisher_ci(r, n, math.sqrt(1 + r * r / 2) if math.isfinite(r) else 1.0)
    else:
        r = float(pearsonr(gold, pred).statistic)
        lo, hi = _fisher_ci(r, n)
    return r, lo, hi


def sts_metrics(
    gold: np.ndarray, sims: dict[str, np.ndarray], names: list[str]
) -> dict[str, tuple[float, float | None, float | None]]:
    out = {}
    for name in names:
        sim, kind = name.rsplit("_", 1)
        out[name] = correlation(kind, gold, sims[sim])
    return out


# ---- retrieval ------------------------------------------------------------------------

DEFAULT_K = (1, 3, 5, 10, 100)


def mrr_at_k(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], k: int) -> dict[str, float]:
    """MTEB's MRR@k: 1/rank of the first relevant (qrel > 0) document in the top k, else 0.

    Ranking order is trec_eval's: score descending, then document id descending, so that
    ties break the same way as in the pytrec_eval figures."""
    out = {}
    for qid, docs in run.items():
        rel = qrels.get(qid, {})
        ranked = sorted(docs.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:k]
        out[qid] = 0.0
        for rank, (did, _) in enumerate(ranked, 1):
            if rel.get(did, 0) > 0:
                out[qid] = 1.0 / rank
                break
    return out


def retrieval_metrics(
    qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], k_values: tuple[int, ...] = DEFAULT_K
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """nDCG@k, MAP@k, Recall@k, P@k (pytrec_eval: ndcg_cut, map_cut, recall, P) and MRR@k, averaged
    over the queries that have judgements (as MTEB). Returns (means, per-query values)."""
    import pytrec_eval

    ks = ",".join(str(k) for k in k_values)
    measures = {f"ndcg_cut.{ks}", f"map_cut.{ks}", f"recall.{ks}", f"P.{ks}"}
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, measures)
    # every judged query counts; one with no retrieved document scores 0 on every measure
    full_run = {qid: run.get(qid) or {} for qid in qrels}
    scored = evaluator.evaluate({q: d for q, d in full_run.items() if d})
    per_query: dict[str, dict[str, float]] = {}
    names = {"ndcg_cut": "ndcg_at", "map_cut": "map_at", "recall": "recall_at", "P": "precision_at"}
    for qid in qrels:
        vals = scored.get(qid, {})
        row: dict[str, float] = {}
        for k in k_values:
            for src, dst in names.items():
                row[f"{dst}_{k}"] = float(vals.get(f"{src}_{k}", 0.0))
        per_query[qid] = row
    for k in k_values:
        for qid, v in mrr_at_k(qrels, full_run, k).items():
            per_query[qid][f"mrr_at_{k}"] = v
    n = len(per_query)
    means: dict[str, float] = {}
    if n:
        for key in next(iter(per_query.values())):
            means[key] = sum(row[key] for row in per_query.values()) / n
    return means, per_query


def mean_ci(values: list[float]) -> tuple[float | None, float | None]:
    n = len(values)
    if n < 2:
        return None, None
    arr = np.asarray(values, dtype=np.float64)
    half = 1.959963984540054 * float(arr.std(ddof=1)) / math.sqrt(n)
    m = float(arr.mean())
    return m - half, m + half


def top_k(queries: np.ndarray, corpus: np.ndarray, k: int, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Cosine top-k of each query over the corpus: (indices, scores), best first."""
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    c = corpus / np.maximum(np.linalg.norm(corpus, axis=1, keepdims=True), 1e-12)
    k = min(k, c.shape[0])
    idx_out = np.empty((q.shape[0], k), dtype=np.int64)
    score_out = np.empty((q.shape[0], k), dtype=np.float32)
    for s in range(0, q.shape[0], chunk):
        sims = q[s : s + chunk] @ c.T
        if k < sims.shape[1]:
            part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            part = np.tile(np.arange(sims.shape[1]), (sims.shape[0], 1))
        psc = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-psc, axis=1, kind="stable")
        idx_out[s : s + chunk] = np.take_along_axis(part, order, axis=1)
        score_out[s : s + chunk] = np.take_along_axis(psc, order, axis=1)
    return idx_out, score_out


def summarize(details: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in details.items()}
