"""assay-embeddings: embedding, retrieval, reranking and RAG evaluation (MTEB / RAGAS style).

Benchmarks: ``stsb``, ``sick``, ``sts`` (your pairs), ``retrieval`` and ``reranking`` (BEIR layout),
``rag`` (faithfulness, answer relevancy, context precision / recall with a judge model).
This module imports nothing heavy; sentence-transformers, torch and openai load on first use.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl

__version__ = "0.1.0"


_BENCHMARKS = {
    # name: (module, class, description) -- imported on first use ("module:Class"): numpy/scipy cost ~0.2 s
    "stsb": ("benchmarks", "STSB", "STS Benchmark: Spearman/Pearson of cosine similarity (MTEB)"),
    "sick": ("benchmarks", "SICKR", "SICK-R relatedness: Spearman/Pearson of cosine similarity"),
    "sts": ("benchmarks", "CustomSTS", "your sentence pairs with gold scores (jsonl/csv/tsv)"),
    "retrieval": ("benchmarks", "Retrieval", "BEIR-layout retrieval: nDCG/MAP/MRR@10, Recall@k"),
    "reranking": ("benchmarks", "Reranking", "retrieve, then rerank with a cross-encoder"),
    "rag": ("rag", "RAG", "RAGAS-style faithfulness, answer relevancy, context precision/recall"),
}


@hookimpl
def assay_benchmarks(register: Any) -> None:
    for name, (module, cls, description) in _BENCHMARKS.items():
        register(name, f"{__name__}.{module}:{cls}", description=description)


@hookimpl
def assay_event_types(register: Any) -> None:
    from .events import EVENT_TYPES

    for name, body in EVENT_TYPES.items():
        register(name, body)
