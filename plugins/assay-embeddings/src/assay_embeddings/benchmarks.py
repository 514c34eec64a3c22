"""Self-driven benchmarks: STS (STS-B, SICK-R, a user's pairs), BEIR retrieval and reranking.

Each ``run`` logs the inputs (``SampleLoaded`` per pair or query, marked ``self_driven``),
the encoding work (``EncoderLoaded``, ``EncodingTimed``), the raw outputs
(``SimilarityComputed`` per subset, ``Retrieved`` per query) and one ``MetricReported``
per figure. The embedding model is loaded once per process and reused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import numpy as np
from assay.api import AssayError, BenchmarkArgs
from assay.loading import limited
from assay.events import MetricReported, SampleLoaded
from assay_datasets import locate

from . import data as D
from .encoders import ENCODER_ARGS, CrossEncoderScorer, encode, make_encoder, open_cache
from .events import Retrieved, SimilarityComputed
from .metrics import (
    DEFAULT_K,
    DEFAULT_STS_METRICS,
    STS_METRICS,
    mean_ci,
    pair_similarities,
    retrieval_metrics,
    sts_metrics,
    top_k,
)


def _split(args: BenchmarkArgs) -> str:
    return args.eval_split or "test"  # MTEB scores the test split by default


class _Base:
    name = ""
    description = ""
    hub_id: str | None = None
    extra_args: tuple[str, ...] = ("model", "api_url", "api_key", *ENCODER_ARGS)
    honours: tuple[str, ...] = ("eval_split",)  # the corpus-level task has no prompt to build

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args

    def _path(self, args: BenchmarkArgs) -> Path:
        return locate(args, hub_id=self.hub_id)


# ---- STS ----------------------------------------------------------------------------


class STSBenchmark(_Base):
    """Spearman / Pearson correlation between the cosine similarity of two sentences' embeddings
    and the gold score, as sentence-transformers' EmbeddingSimilarityEvaluator and MTEB."""

    reader = staticmethod(D.read_sts_file)

    def __init__(self, args: BenchmarkArgs) -> None:
        super().__init__(args)
        names = list(args.metric_list or DEFAULT_STS_METRICS)
        bad = [m for m in names if m not in STS_METRICS]
        if bad:
            raise AssayError(
                f"{args.name}: unknown metric(s) {', '.join(bad)} in metric_list; known: {', '.join(STS_METRICS)}"
            )
        self.metrics = names

    def pairs(self, args: BenchmarkArgs) -> list[D.Pair]:
        return self.reader(self._path(args), _split(args))

    async def run(self, run: Any, args: BenchmarkArgs, config: Any) -> None:
        subset = "default"
        split = _split(args)
        pairs = list(limited(self.pairs(args), args.limit, lambda _: subset))
        ids = [f"{args.name}/{subset}/{p.id}" for p in pairs]
        run.emit_many(
            SampleLoaded(
                sample_id=sid,
                benchmark=args.name,
                subset=subset,
                local_id=p.id,
                target=p.score,
                category=None,
                metadata={
                    "sentence1": p.sentence1,
                    "sentence2": p.sentence2,
                    "split": split,
                    **({"genre": p.genre} if p.genre else {}),
                },
                self_driven=True,
            )
            for sid, p in zip(ids, pairs)
        )
        encoder = await anyio.to_thread.run_sync(make_encoder, args, config)
        run.emit(encoder.loaded_event())
        cache = open_cache(args, config)
        try:
            texts = [p.sentence1 for p in pairs] + [p.sentence2 for p in pairs]
            emb = await encode(
                encoder, texts, run=run, benchmark=args.name, subset=subset, purpose="sentences", cache=cache
            )
        finally:
            if cache is not None:
                cache.close()
        n = len(pairs)
        sims = pair_similarities(emb[:n], emb[n:])
        gold = np.asarray([p.score for p in pairs], dtype=np.float64)
        run.emit(
            SimilarityComputed(
                benchmark=args.name,
                subset=subset,
                model=encoder.model_name,
                sample_ids=ids,
                gold=gold.tolist(),
                **{k: v.tolist() for k, v in sims.items()},
            )
        )
        for metric, (value, lo, hi) in sts_metrics(gold, sims, self.metrics).items():
            run.emit(
                MetricReported(
                    benchmark=args.name,
                    subset=subset,
                    metric=metric,
                    value=value,
                    num=n,
                    ci_low=lo,
                    ci_high=hi,
                    details={"split": split, "model": encoder.model_name},
                )
            )


class STSB(STSBenchmark):
    name = "stsb"
    description = "STS Benchmark (original sts-<split>.csv files); cosine Spearman as MTEB"

    def pairs(self, args: BenchmarkArgs) -> list[D.Pair]:
        return D.read_stsb(locate(args, "stsbenchmark", "STSBenchmark"), _split(args))


class SICKR(STSBenchmark):
    name = "sick"
    description = "SICK-R relatedness (SICK.txt, split from its SemEval_set column); cosine Spearman as MTEB"

    def pairs(self, args: BenchmarkArgs) -> list[D.Pair]:
        return D.read_sick(locate(args, "sick-r", "sickr", "SICK"), _split(args))


class CustomSTS(STSBenchmark):
    name = "sts"
    description = (
        "your own sentence pairs with gold scores (local_path: a .jsonl/.csv/.tsv file or a folder of <split>.* files)"
    )

    def pairs(self, args: BenchmarkArgs) -> list[D.Pair]:
        if not args.local_path and not args.dataset_dir:
            raise AssayError(
                f'{args.name}: give your pairs with --dataset-args \'{{"{args.name}": {{"local_path": "FILE"}}}}\''
            )
        return D.read_sts_file(self._path(args), _split(args))


# ---- retrieval and reranking ------------------------------------------------------------


class Retrieval(_Base):
    """Dense retrieval over a BEIR-layout folder (``local_path``): cosine top-k, then nDCG@k,
    MAP@k, Recall@k, P@k (pytrec_eval) and MRR@k (as MTEB)."""

    name = "retrieval"
    description = "dense retrieval on BEIR-layout data (local_path): nDCG@10, MAP@10, MRR@10, Recall@k"
    rerank = False
    extra_args = (*_Base.extra_args, "k_values", "top_k", "subset", "query_prompt", "corpus_prompt")
    default_metrics = ("ndcg_at_10", "map_at_10", "mrr_at_10", "recall_at_1", "recall_at_10", "recall_at_100")

    def __init__(self, args: BenchmarkArgs) -> None:
        super().__init__(args)
        ks = args.extra.get("k_values", DEFAULT_K)
        try:
            self.k_values = tuple(sorted({int(k) for k in ks}))
        except (TypeError, ValueError):
            raise AssayError(f"dataset_args.{args.name}.k_values: expected a list of integers, got {ks!r}") from None
        if not self.k_values or self.k_values[0] < 1:
            raise AssayError(f"dataset_args.{args.name}.k_values: expected positive integers, got {ks!r}")
        known = {f"{m}_at_{k}" for m in ("ndcg", "map", "mrr", "recall", "precision") for k in self.k_values}
        if args.metric_list:
            self.metrics = list(args.metric_list)
        else:
            self.metrics = [m for m in self.default_metrics if m in known] or sorted(known)
        bad = [m for m in self.metrics if m not in known]
        if bad:
            raise AssayError(
                f"{args.name}: metric(s) {', '.join(bad)} not computable with k_values {list(self.k_values)}; known: {', '.join(sorted(known))}"
            )
        self.top_k = int(args.extra.get("top_k", max(max(self.k_values), 100)))

    def _root(self, args: BenchmarkArgs) -> Path:
        if not args.local_path and not args.dataset_dir:
            raise AssayError(
                f'{args.name}: give a BEIR-layout folder with --dataset-args \'{{"{args.name}": {{"local_path": "DIR"}}}}\''
            )
        return self._path(args)

    async def run(self, run: Any, args: BenchmarkArgs, config: Any) -> None:
        subset = str(args.extra.get("subset") or "default")
        split = _split(args)
        root = self._root(args)
        data = D.read_beir(root, split, args.name)
        if data.unknown_docs:
            run.warn(args.name, f"{data.unknown_docs} qrels name documents that are not in {root / 'corpus.jsonl'}")
        qids = list(limited(data.queries, args.limit, lambda _: subset))
        qrels = {q: data.qrels[q] for q in qids}
        sids = {q: f"{args.name}/{subset}/{q}" for q in qids}
        run.emit_many(
            SampleLoaded(
                sample_id=sids[q],
                benchmark=args.name,
                subset=subset,
                local_id=q,
                prompt=data.queries[q],
                target={d: r for d, r in qrels[q].items()},
                metadata={"split": split},
                self_driven=True,
            )
            for q in qids
        )
        encoder = await anyio.to_thread.run_sync(make_encoder, args, config)
        run.emit(encoder.loaded_event())
        qprompt = str(args.extra.get("query_prompt", ""))
        cprompt = str(args.extra.get("corpus_prompt", ""))
        cache = open_cache(args, config)
        try:
            cemb = await encode(
                encoder,
                [cprompt + t for t in data.corpus_texts],
                run=run,
                benchmark=args.name,
                subset=subset,
                purpose="corpus",
                cache=cache,
            )
            qemb = await encode(
                encoder,
                [qprompt + data.queries[q] for q in qids],
                run=run,
                benchmark=args.name,
                subset=subset,
                purpose="queries",
                cache=cache,
            )
        finally:
            if cache is not None:
                cache.close()
        idx, scores = await anyio.to_thread.run_sync(top_k, qemb, cemb, self.top_k)
        ranked = {
            q: ([data.corpus_ids[j] for j in idx[i]], scores[i].astype(float).tolist()) for i, q in enumerate(qids)
        }
        run.emit_many(
            Retrieved(sample_id=sids[q], stage="retrieve", doc_ids=d, scores=s) for q, (d, s) in ranked.items()
        )
        details: dict[str, Any] = {
            "split": split,
            "model": encoder.model_name,
            "corpus": len(data.corpus_ids),
            "top_k": self.top_k,
        }
        if self.rerank:
            first, _ = retrieval_metrics(qrels, {q: dict(zip(*ranked[q])) for q in qids}, self.k_values)
            details["retrieval"] = {m: first[m] for m in self.metrics}
            ranked = await self._rerank(run, args, config, data, qids, ranked, subset)
            run.emit_many(
                Retrieved(sample_id=sids[q], stage="rerank", doc_ids=d, scores=s) for q, (d, s) in ranked.items()
            )
        means, per_query = retrieval_metrics(qrels, {q: dict(zip(*ranked[q])) for q in qids}, self.k_values)
        for m in self.metrics:
            lo, hi = mean_ci([row[m] for row in per_query.values()])
            if lo is not None and hi is not None:  # every ranking metric lies in [0, 1]
                lo, hi = max(0.0, lo), min(1.0, hi)
            run.emit(
                MetricReported(
                    benchmark=args.name,
                    subset=subset,
                    metric=m,
                    value=means[m],
                    num=len(per_query),
                    ci_low=lo,
                    ci_high=hi,
                    details=details,
                )
            )

    async def _rerank(
        self,
        run: Any,
        args: BenchmarkArgs,
        config: Any,
        data: D.BeirData,
        qids: list[str],
        ranked: dict[str, tuple[list[str], list[float]]],
        subset: str,
    ) -> dict[str, tuple[list[str], list[float]]]:
        raise NotImplementedError


class Reranking(Retrieval):
    """Retrieve top ``rerank_top_k`` (default 100) with the bi-encoder, then rerank them with a
    cross-encoder (``dataset_args.reranking.reranker``: a local path or hub id)."""

    name = "reranking"
    description = "retrieve with embeddings, rerank the top k with a cross-encoder (BEIR-layout data)"
    rerank = True
    extra_args = (*Retrieval.extra_args, "reranker", "rerank_top_k", "rerank_batch_size", "rerank_max_length")

    async def _rerank(
        self,
        run: Any,
        args: BenchmarkArgs,
        config: Any,
        data: D.BeirData,
        qids: list[str],
        ranked: dict[str, tuple[list[str], list[float]]],
        subset: str,
    ) -> dict[str, tuple[list[str], list[float]]]:
        import time

        from .events import EncodingTimed

        model = args.extra.get("reranker")
        if not model:
            raise AssayError(
                f'{args.name}: name a cross-encoder with --dataset-args \'{{"{args.name}": {{"reranker": "PATH_OR_ID"}}}}\''
            )
        k = int(args.extra.get("rerank_top_k", 100))
        scorer = await anyio.to_thread.run_sync(
            lambda: CrossEncoderScorer(
                str(model),
                device=args.extra.get("device"),
                batch_size=int(args.extra.get("rerank_batch_size", 32)),
                max_length=args.extra.get("rerank_max_length"),
            )
        )
        run.emit(scorer.loaded_event())
        text_of = dict(zip(data.corpus_ids, data.corpus_texts))
        pairs: list[tuple[str, str]] = []
        spans: list[tuple[str, list[str]]] = []
        for q in qids:
            docs = ranked[q][0][:k]
            spans.append((q, docs))
            pairs.extend((data.queries[q], text_of[d]) for d in docs)
        t0 = time.perf_counter()
        scores = await anyio.to_thread.run_sync(scorer.predict, pairs)
        secs = time.perf_counter() - t0
        run.emit(
            EncodingTimed(
                benchmark=args.name,
                subset=subset,
                purpose="rerank",
                kind=scorer.kind,
                model=scorer.model_name,
                texts=len(pairs),
                unique=len(pairs),
                encoded=len(pairs),
                batch_size=scorer.batch_size,
                chunk_sizes=[len(pairs)],
                chunk_seconds=[secs],
                seconds=secs,
            )
        )
        out: dict[str, tuple[list[str], list[float]]] = {}
        pos = 0
        for q, docs in spans:
            s = scores[pos : pos + len(docs)]
            pos += len(docs)
            order = sorted(range(len(docs)), key=lambda i: (-s[i], i))
            out[q] = ([docs[i] for i in order], [float(s[i]) for i in order])
        return out
