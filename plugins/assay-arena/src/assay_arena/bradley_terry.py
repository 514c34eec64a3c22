"""Bradley-Terry ratings on the Elo scale, as the Chatbot Arena notebook computes them.

The notebook fits a logistic regression without intercept: one row per battle, ``+ln(base)`` in model A's
column and ``-ln(base)`` in model B's, target "A won"; each battle is written twice, a tie as one A win and
one B win ("ties count half"); rating = ``scale * coef + init``. That is the maximum-likelihood fit of

    P(a beats b) = 1 / (1 + base ** ((R_b - R_a) / scale))

with outcome 1 (a won), 0.5 (tie) or 0 (b won) per battle. This module maximises that same likelihood by
Newton's method on the pairwise totals (no scikit-learn), so the result is the notebook's to the solver's
tolerance (``plugins/assay-arena/tests/test_bradley_terry.py`` checks it against an independent scipy fit to 1e-6).

Normalisation: the likelihood only fixes differences. Unanchored, the ratings average ``init`` (what the
notebook's unpenalised solver returns: it starts at 0 and its steps keep the coefficients' sum at 0);
with ``anchor`` the named model is moved to ``anchor_rating`` (Arena-Hard: the baseline at 1000).

The maximum-likelihood ratings are finite only when every split of the models into two groups has points
flowing both ways (the "beat or tied" graph is strongly connected). Otherwise :func:`fit` raises
:class:`NoFiniteRatings` naming a group that won (or lost) every battle against the rest; a bootstrap round
in that state is counted in ``degenerate_rounds`` and left out of the intervals.

Needs numpy, which is not a kernel dependency: the plugins that import this module declare it
(``assay-arena``, ``assay-arena-hard``), as ``assay compare`` imports numpy only when it runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["NoFiniteRatings", "bootstrap", "fit", "pair_totals", "predict_win_rate"]

SCALE = 400.0
BASE = 10.0
INIT = 1000.0


class NoFiniteRatings(ValueError):
    """The battles have no finite maximum-likelihood ratings: ``group`` (model indices) took every point
    from the other models, or never played them."""

    def __init__(self, group: list[int]) -> None:
        super().__init__(f"no finite ratings: models {group} won every battle against the others (or never met them)")
        self.group = group


def pair_totals(
    a: Sequence[int], b: Sequence[int], y: Sequence[float], n_models: int, weight: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(W, N)``: ``W[i, j]`` points model i took from j (1 a win, 0.5 a tie), ``N[i, j]`` battles of i and j."""
    a_ = np.asarray(a, dtype=np.int64)
    b_ = np.asarray(b, dtype=np.int64)
    y_ = np.asarray(y, dtype=float)
    w_ = np.ones_like(y_) if weight is None else np.asarray(weight, dtype=float)
    return _totals(a_ * n_models + b_, b_ * n_models + a_, w_ * y_, w_ * (1.0 - y_), w_, n_models)


def _totals(ab: np.ndarray, ba: np.ndarray, pa: np.ndarray, pb: np.ndarray, w: np.ndarray, n: int):
    size = n * n
    W = np.bincount(ab, pa, size) + np.bincount(ba, pb, size)
    N = np.bincount(ab, w, size) + np.bincount(ba, w, size)
    return W.reshape(n, n), N.reshape(n, n)


def _closed_group(W: np.ndarray) -> list[int] | None:
    """A set of models that took every point from the others (or never played them); None: the ratings
    are finite (the graph "i took points from j" is strongly connected)."""
    n = len(W)
    if n < 2:
        return None
    reach = ((W > 0) | np.eye(n, dtype=bool)).astype(np.int64)
    for _ in range(max(1, math.ceil(math.log2(n))) + 1):  # transitive closure by repeated squaring
        reach = ((reach @ reach) > 0).astype(np.int64)
    if reach.all():
        return None
    start = int(np.flatnonzero(~reach.all(axis=0))[0])
    return [int(i) for i in np.flatnonzero(reach[:, start])]  # who took points, however indirectly, from start


def _loglik(beta: np.ndarray, W: np.ndarray, lnb: float) -> float:
    d = lnb * (beta[:, None] - beta[None, :])
    return float(-(W * np.logaddexp(0.0, -d)).sum())


def _solve(W: np.ndarray, N: np.ndarray, base: float, tol: float = 1e-12, max_iter: int = 200) -> np.ndarray:
    """The coefficients (sum 0) maximising the likelihood, by damped Newton steps."""
    n = len(W)
    lnb = math.log(base)
    beta = np.zeros(n)
    ll = _loglik(beta, W, lnb)
    ones = np.ones((n, n)) / n
    for _ in range(max_iter):
        d = lnb * (beta[:, None] - beta[None, :])
        p = 1.0 / (1.0 + np.exp(-d))  # P(i beats j)
        grad = lnb * (W - N * p).sum(axis=1)
        c = lnb * lnb * N * p * (1.0 - p)
        H = np.diag(c.sum(axis=1)) - c  # the negative Hessian (a Laplacian: singular along ones)
        step = np.linalg.solve(H + ones, grad)
        step -= step.mean()
        t = 1.0
        while True:
            cand = beta + t * step
            new = _loglik(cand, W, lnb)
            if new >= ll - 1e-15 * abs(ll) or t < 1e-8:
                break
            t /= 2
        beta, ll = cand, new
        if np.max(np.abs(t * step)) < tol:
            break
    return beta - beta.mean()


def fit(
    a: Sequence[int],
    b: Sequence[int],
    y: Sequence[float],
    n_models: int,
    *,
    weight: Sequence[float] | None = None,
    scale: float = SCALE,
    base: float = BASE,
    init: float = INIT,
    anchor: int | None = None,
    anchor_rating: float = INIT,
) -> np.ndarray:
    """Ratings of ``n_models`` from battles ``a[k]`` vs ``b[k]`` with outcome ``y[k]`` for a (1, 0.5, 0).

    Raises :class:`NoFiniteRatings` when the maximum-likelihood ratings are not finite.
    """
    W, N = pair_totals(a, b, y, n_models, weight)
    return fit_totals(W, N, scale=scale, base=base, init=init, anchor=anchor, anchor_rating=anchor_rating)


def fit_totals(
    W: np.ndarray,
    N: np.ndarray,
    *,
    scale: float = SCALE,
    base: float = BASE,
    init: float = INIT,
    anchor: int | None = None,
    anchor_rating: float = INIT,
) -> np.ndarray:
    group = _closed_group(W)
    if group is not None:
        raise NoFiniteRatings(group)
    ratings = init + scale * _solve(W, N, base)
    if anchor is not None:
        ratings += anchor_rating - ratings[anchor]
    return ratings


def predict_win_rate(ratings: Sequence[float], *, scale: float = SCALE, base: float = BASE) -> np.ndarray:
    """``P[i, j]``: the probability that i beats j under the ratings (the notebook's ``predict_win_rate``)."""
    r = np.asarray(ratings, dtype=float)
    return 1.0 / (1.0 + base ** ((r[None, :] - r[:, None]) / scale))


def bootstrap(
    a: Sequence[int],
    b: Sequence[int],
    y: Sequence[float],
    n_models: int,
    *,
    rounds: int = 1000,
    seed: int = 0,
    weight: Sequence[float] | None = None,
    level: float = 0.95,
    **fit_kwargs: Any,
) -> dict[str, Any]:
    """Percentile intervals of the ratings over ``rounds`` resamplings of the battles (with replacement,
    as many as there are; numpy's ``default_rng(seed)``: the same output every time).

    A resample is drawn as how many times each distinct battle (pair, outcome, weight) occurs in it:
    ``rng.multinomial(n, share of each)``, the distribution of drawing n battles with replacement, at a cost
    that does not grow with n.

    Returns ``{"low": [...], "high": [...], "median": [...], "rounds": n, "degenerate_rounds": k}``;
    ``low``/``high`` are None when every round was degenerate.
    """
    a_ = np.asarray(a, dtype=np.int64)
    b_ = np.asarray(b, dtype=np.int64)
    y_ = np.asarray(y, dtype=float)
    w_ = np.ones_like(y_) if weight is None else np.asarray(weight, dtype=float)
    kinds, counts = np.unique(np.stack([a_, b_, y_, w_], axis=1), axis=0, return_counts=True)
    ka, kb = kinds[:, 0].astype(np.int64), kinds[:, 1].astype(np.int64)
    ky, kw = kinds[:, 2], kinds[:, 3]
    ab, ba = ka * n_models + kb, kb * n_models + ka
    rng = np.random.default_rng(seed)
    n = len(y_)
    samples = []
    degenerate = 0
    for _ in range(rounds):
        times = rng.multinomial(n, counts / n)
        W, N = _totals(ab, ba, times * kw * ky, times * kw * (1.0 - ky), times * kw, n_models)
        try:
            samples.append(fit_totals(W, N, **fit_kwargs))
        except NoFiniteRatings:
            degenerate += 1
    if not samples:
        return {"low": None, "high": None, "median": None, "rounds": rounds, "degenerate_rounds": degenerate}
    arr = np.array(samples)
    q = (1.0 - level) / 2
    return {
        "low": np.quantile(arr, q, axis=0).tolist(),
        "high": np.quantile(arr, 1.0 - q, axis=0).tolist(),
        "median": np.quantile(arr, 0.5, axis=0).tolist(),
        "rounds": rounds,
        "degenerate_rounds": degenerate,
    }
