"""AlpacaEval's length-controlled win rate (``alpaca_eval.metrics.glm_winrate``, GLM ``length_controlled_v1``).

A logistic model of the preference (in [0, 1]) on three features, no intercept:
``tanh(std_delta_len)`` (reference length - model length, in characters, over its standard deviation, ddof 1),
``instruction_difficulty`` (per instruction, from the hub) and ``not_gamed_baseline`` (1 for the model's rows).
It is fitted on the model's judged rows together with the hub's ``df_gamed.csv`` rows (annotations of two
"gamed" baselines, ``not_gamed_baseline`` 0), these weighted ``0.2 / 2``: the regularisation to the baseline.
The continuous preference is fitted as the official code does: each row twice, label 1 weighted p and label 0
weighted 1 - p; L1 penalty, liblinear, no intercept, C chosen among 10 values ``logspace(-4, 4)`` by 5-fold
``GroupKFold`` (a row's two copies in one fold) on the weighted continuous log loss, then refitted on all rows
(scikit-learn's ``LogisticRegressionCV``, written out as its loop so that no metadata routing is needed).
The length-controlled win rate is 100 * the mean predicted preference with ``std_delta_len`` set to 0.

The baseline data (``df_gamed.csv`` in the Hugging Face dataset ``tatsu-lab/alpaca_eval``; its
``instruction_difficulty`` column) is read from ``<alpaca_eval data dir>/df_gamed.csv`` when present, else
downloaded through assay-datasets' hub code (:func:`assay_datasets.download`). Without it, the report says why
and gives no length-controlled figure (never a made-up one).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HUB_REPO = "tatsu-lab/alpaca_eval"
GAMED_FILE = "df_gamed.csv"
REGULARIZE_TO_BASELINE_LAMBDA = 0.2
N_SPLITS = 5
FEATURES = ("np.tanh(std_delta_len)", "instruction_difficulty", "not_gamed_baseline.astype(float)")


class GamedData:
    """``df_gamed.csv``: rows (index, preference in [0, 1], std_delta_len, instruction_difficulty) of the gamed
    baselines; ``difficulty``: instruction index -> instruction_difficulty (first row of each index)."""

    def __init__(self, rows: list[tuple[int, float, float, float]]) -> None:
        self.rows = rows
        self.difficulty: dict[int, float] = {}
        for index, _, _, diff in rows:
            self.difficulty.setdefault(index, diff)

    @classmethod
    def read(cls, path: str | Path) -> GamedData:
        from assay.api import AssayError
        from assay_datasets import read_csv_dicts

        rows = []
        need = ("index", "preference", "std_delta_len", "instruction_difficulty")
        for line, row in read_csv_dicts(path, required=need, extra_ok=True):
            try:
                pref = float(row["preference"]) if row["preference"].strip() else math.nan
                rows.append(
                    (int(row["index"]), pref, float(row["std_delta_len"]), float(row["instruction_difficulty"]))
                )
            except ValueError:
                raise AssayError(
                    f"{path}:{line}: index / preference / std_delta_len / difficulty not numbers"
                ) from None
        return cls(rows)


def find_gamed(data_dirs: Sequence[str | Path] = (), download: bool = True) -> tuple[GamedData | None, str]:
    """The GLM's baseline data and where it came from (or why there is none)."""
    looked = []
    for d in data_dirs:
        p = Path(d) / GAMED_FILE
        looked.append(str(p))
        if p.exists():
            return GamedData.read(p), str(p)
    cached = _hub_cache()
    if cached is not None:
        return GamedData.read(cached), f"huggingface:{HUB_REPO}/{GAMED_FILE} (cache)"
    if download and os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        looked.append("huggingface: not asked (HF_HUB_OFFLINE is set)")
    elif download:
        from assay.api import AssayError
        from assay_datasets import download as hub_download

        try:
            root = hub_download(HUB_REPO, "huggingface", allow_patterns=[GAMED_FILE])
        except AssayError as exc:
            looked.append(str(exc))
        else:
            if (root / GAMED_FILE).exists():
                return GamedData.read(root / GAMED_FILE), f"huggingface:{HUB_REPO}/{GAMED_FILE}"
            looked.append(f"huggingface:{HUB_REPO} has no {GAMED_FILE}")
    return None, "length-controlled win rate not computed: no " + GAMED_FILE + " (looked in: " + "; ".join(looked) + ")"


def _hub_cache() -> Path | None:
    """``df_gamed.csv`` when an earlier download left it in the Hugging Face cache (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(HUB_REPO, GAMED_FILE, repo_type="dataset")
    return Path(found) if isinstance(found, str) else None


def _fit(x: Any, p: Any, weight: Any, groups: Any) -> Any:
    """Coefficients of the official ``fit_LogisticRegressionCV(is_ytrue_proba=True, n_splits=5)``."""
    import numpy as np
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    n = len(p)
    xd = np.concatenate([x, x])
    y = np.concatenate([np.ones(n), np.zeros(n)])
    true_prob = np.concatenate([p, 1 - p])
    true_weight = np.concatenate([weight, weight])
    sample_weight = true_prob * true_weight
    g = np.concatenate([groups, groups])
    cs = np.logspace(-4, 4, 10)

    # scikit-learn 1.8 deprecated ``penalty`` (removed in 1.10): ``l1_ratio=1`` is its L1
    new_api = tuple(int(v) for v in sklearn.__version__.split(".")[:2]) >= (1, 8)
    l1 = {"l1_ratio": 1.0} if new_api else {"penalty": "l1"}

    def model(c: float) -> Any:
        return LogisticRegression(C=c, solver="liblinear", fit_intercept=False, dual=False, random_state=123, **l1)

    scores = np.zeros(len(cs))
    for train, test in GroupKFold(n_splits=N_SPLITS).split(xd, y, g):
        for i, c in enumerate(cs):
            m = model(c).fit(xd[train], y[train], sample_weight=sample_weight[train])
            pred = np.clip(m.predict_proba(xd[test])[:, 1], 1e-15, 1 - 1e-15)
            target = np.where(y[test] == 1, true_prob[test], 1 - true_prob[test])
            loss = -np.mean((target * np.log(pred) + (1 - target) * np.log(1 - pred)) * true_weight[test])
            scores[i] += -loss / N_SPLITS
    best = cs[int(np.argmax(scores))]
    return model(best).fit(xd, y, sample_weight=sample_weight).coef_[0]


def length_controlled(
    preferences: Sequence[float],
    len_reference: Sequence[int],
    len_model: Sequence[int],
    index: Sequence[int],
    gamed: GamedData,
) -> dict[str, Any]:
    """``get_length_controlled_winrate``'s figures for one model (preferences in [1, 2], in sample order)."""
    import numpy as np

    pref = np.asarray(preferences, dtype=float)
    delta = np.asarray(len_reference, dtype=float) - np.asarray(len_model, dtype=float)
    std = delta.std(ddof=1) if len(delta) > 1 else math.nan
    std_delta = delta / std
    diff = np.asarray([gamed.difficulty[i] for i in index], dtype=float)
    own = np.column_stack([np.tanh(std_delta), diff, np.ones(len(pref))])
    g_rows = np.asarray([(r[1], r[2], r[3]) for r in gamed.rows], dtype=float).reshape(-1, 3)
    gx = np.column_stack([np.tanh(g_rows[:, 1]), g_rows[:, 2], np.zeros(len(g_rows))])
    x = np.concatenate([gx, own])
    # df_gamed's preferences are stored in [0, 1] (the official code concatenates them with the model's p - 1)
    own_p = np.where(pref == 0, 1.5, pref) - 1  # official: 0 (an old draw) is 1.5
    p = np.concatenate([g_rows[:, 0], own_p])
    weight = np.concatenate([np.full(len(g_rows), REGULARIZE_TO_BASELINE_LAMBDA / 2), np.ones(len(pref))])
    keep = ~np.isnan(p) & ~np.isnan(x).any(axis=1)
    groups = np.arange(len(p))
    coef = _fit(x[keep], p[keep], weight[keep], groups[keep])
    test = np.column_stack([np.zeros(len(pref)), diff, np.ones(len(pref))])
    predicted = 1 / (1 + np.exp(-(test @ coef)))
    sem = predicted.std(ddof=1) / math.sqrt(len(predicted)) if len(predicted) > 1 else math.nan
    return {
        "length_controlled_winrate": float(predicted.mean() * 100),
        "lc_standard_error": None if math.isnan(sem) else float(sem * 100),
        "lc_weights": dict(zip(FEATURES, (float(c) for c in coef), strict=True)),
    }


def report_lc(group: dict[str, Any], version: str, gamed: GamedData | None = None) -> dict[str, Any]:
    """The report row's length-controlled figures for one (version, reference) group."""
    none = {"length_controlled_winrate": None, "lc_standard_error": None}
    if version != "2.0":
        return none | {
            "lc_note": "length-controlled win rate: AlpacaEval 2.0 only (its GLM baseline is gpt4_1106_preview)"
        }
    if len(group["preferences"]) < 2 * N_SPLITS:
        return none | {"lc_note": f"length-controlled win rate: needs at least {2 * N_SPLITS} judged samples"}
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return none | {"lc_note": "length-controlled win rate needs scikit-learn: pip install 'assay-alpacaeval[lc]'"}
    source = ""
    if gamed is None:
        dirs = [d for d in (os.environ.get("ASSAY_DATA_DIR"),) if d]
        dirs = [str(Path(d) / "alpaca_eval") for d in dirs] + list(group.get("data_dirs", []))
        gamed, source = find_gamed(dirs)
        if gamed is None:
            return none | {"lc_note": source}
    missing = [i for i in group["index"] if i not in gamed.difficulty]
    if missing:
        return none | {
            "lc_note": f"length-controlled win rate: no instruction_difficulty for instruction(s) {missing[:5]}"
        }
    out = length_controlled(group["preferences"], group["len_reference"], group["len_model"], group["index"], gamed)
    return out | ({"lc_source": source} if source else {})
