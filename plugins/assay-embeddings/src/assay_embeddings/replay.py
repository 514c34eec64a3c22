"""Re-score a finished run from its log alone: no model is loaded, no file is read but events.jsonl.

``sts_from_log`` recomputes the correlations from ``SimilarityComputed``; ``retrieval_from_log``
recomputes the ranking metrics from ``Retrieved`` (last stage per query) and the judgements that
``SampleLoaded.target`` holds. Use them to apply a fixed or new formula to old runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from assay.log import iter_events, log_path

from .metrics import DEFAULT_K, STS_METRICS, retrieval_metrics, sts_metrics


def _events(run: str | Path, types: set[str]) -> Any:
    from assay.plugins import host

    return iter_events(log_path(run), host().bodies(), types=types)


def _get(body: Any, key: str, default: Any = None) -> Any:
    return body.get(key, default) if isinstance(body, dict) else getattr(body, key, default)


def sts_from_log(run: str | Path, metrics: list[str] | None = None) -> dict[tuple[str, str], dict[str, float]]:
    out: dict[tuple[str, str], dict[str, float]] = {}
    for ev in _events(run, {"SimilarityComputed"}):
        b = ev.body
        sims = {k: np.asarray(_get(b, k) or [], dtype=np.float64) for k in ("cosine", "euclidean", "manhattan", "dot")}
        names = [m for m in (metrics or STS_METRICS) if len(sims[m.rsplit("_", 1)[0]])]
        vals = sts_metrics(np.asarray(_get(b, "gold"), dtype=np.float64), sims, names)
        out[(_get(b, "benchmark"), _get(b, "subset", "default"))] = {m: v[0] for m, v in vals.items()}
    return out


def retrieval_from_log(
    run: str | Path, k_values: tuple[int, ...] = DEFAULT_K
) -> dict[tuple[str, str], dict[str, float]]:
    qrels: dict[str, dict[str, int]] = {}
    group: dict[str, tuple[str, str]] = {}
    ranked: dict[str, dict[str, float]] = {}
    for ev in _events(run, {"SampleLoaded", "Retrieved"}):
        b = ev.body
        sid = _get(b, "sample_id")
        if ev.type == "SampleLoaded":
            target = _get(b, "target")
            if isinstance(target, dict) and (_get(b, "self_driven") or (_get(b, "metadata") or {}).get("self_driven")):
                qrels[sid] = {str(d): int(r) for d, r in target.items()}
                group[sid] = (_get(b, "benchmark"), _get(b, "subset", "default") or "default")
        else:  # the later stage (rerank) replaces the earlier one
            ranked[sid] = dict(zip(_get(b, "doc_ids"), _get(b, "scores")))
    out: dict[tuple[str, str], dict[str, float]] = {}
    for g in sorted(set(group.values())):
        sids = [s for s in qrels if group[s] == g]
        means, _ = retrieval_metrics({s: qrels[s] for s in sids}, {s: ranked.get(s, {}) for s in sids}, k_values)
        out[g] = means
    return out
