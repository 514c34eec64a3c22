# ruff: noqa: RUF012  (msgspec Struct defaults are copied per instance)
"""Event bodies this plugin adds to a run's log (registered via ``assay_event_types``).

Raw facts only: what was encoded and how long it took, the similarity of each pair,
the ranked lists, the judge's verdicts. Every figure (Spearman, nDCG, faithfulness)
is recomputed from these by :mod:`assay_embeddings.replay`.
"""

from __future__ import annotations

from typing import Any

from assay.events import Body


class EncoderLoaded(Body, kw_only=True):
    kind: str  # sentence-transformers | openai | cross-encoder
    model: str  # path, hub id or API model name (never a key)
    seconds: float = 0.0
    device: str | None = None
    dim: int | None = None
    max_seq_length: int | None = None
    api_url: str | None = None
    reused: bool = False  # already loaded in this process


class EncodingTimed(Body, kw_only=True):
    """One encode call: how many texts, how many came from the cache, batch timings."""

    benchmark: str
    subset: str = "default"
    purpose: str = ""  # sentences | queries | corpus | rerank | answers ...
    kind: str = ""
    model: str = ""
    texts: int = 0  # texts asked for
    unique: int = 0  # distinct texts
    cached: int = 0  # distinct texts found in the embedding cache
    encoded: int = 0  # distinct texts sent to the model
    batch_size: int = 0
    chunk_sizes: list[int] = []  # texts per timed chunk (a chunk is one or more model batches)
    chunk_seconds: list[float] = []
    seconds: float = 0.0  # wall time of the whole call, cache included
    dim: int | None = None


class SimilarityComputed(Body, kw_only=True):
    """Similarities of sentence pairs (one event per subset): enough to recompute STS figures."""

    benchmark: str
    subset: str = "default"
    model: str = ""
    sample_ids: list[str] = []
    gold: list[float] = []
    cosine: list[float] = []
    euclidean: list[float] = []  # negative distance, as sentence-transformers' pairwise_euclidean_sim
    manhattan: list[float] = []
    dot: list[float] = []


class Retrieved(Body, kw_only=True):
    """One query's ranked list (retrieval stage or after reranking)."""

    sample_id: str
    stage: str = "retrieve"  # retrieve | rerank
    doc_ids: list[str] = []
    scores: list[float] = []


class RagJudged(Body, kw_only=True):
    """One judge call of a RAG metric: the prompt as sent, the raw reply, the parsed verdicts."""

    sample_id: str
    metric: str  # faithfulness | answer_relevancy | context_precision | context_recall
    step: str = ""  # statements | verdicts | questions | context-<i> | classifications
    model: str = ""
    messages: list[dict[str, Any]] = []
    output: str = ""
    verdicts: Any = None  # the parsed JSON the metric uses
    latency: float | None = None
    attempt: int = 1
    error: str | None = None


EVENT_TYPES: dict[str, type[Body]] = {
    "EncoderLoaded": EncoderLoaded,
    "EncodingTimed": EncodingTimed,
    "SimilarityComputed": SimilarityComputed,
    "Retrieved": Retrieved,
    "RagJudged": RagJudged,
}
