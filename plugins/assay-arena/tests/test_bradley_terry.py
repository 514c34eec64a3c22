"""assay_arena.bradley_terry against an independent fit: the Chatbot Arena notebook's design matrix (each battle
twice, a tie as one A win and one B win, +/-ln(10) columns, no intercept) maximised by scipy.optimize."""

from __future__ import annotations

import math

import numpy as np
import pytest
from assay_arena import bradley_terry as bt


def notebook_fit(a, b, winner, n_models, scale=400.0, base=10.0, init=1000.0) -> np.ndarray:
    """compute_mle_elo from the Chatbot Arena notebook, with scipy's BFGS in place of scikit-learn."""
    minimize = pytest.importorskip("scipy.optimize").minimize  # in the dev install (requirements-dev.in)
    n = len(a)
    X = np.zeros((2 * n, n_models))
    X[np.arange(n), a] = math.log(base)
    X[np.arange(n), b] = -math.log(base)
    X[n + np.arange(n), a] = math.log(base)
    X[n + np.arange(n), b] = -math.log(base)
    Y = np.zeros(2 * n)
    wins_a = np.array([w == "model_a" for w in winner])
    ties = np.array([w == "tie" for w in winner])
    Y[:n][wins_a | ties] = 1.0  # a tie: one A win ...
    Y[n:][wins_a] = 1.0  # ... and one B win

    def nll(beta):
        z = X @ beta
        return float(np.sum(np.logaddexp(0, z) - Y * z))

    def grad(beta):
        z = X @ beta
        return X.T @ (1 / (1 + np.exp(-z)) - Y)

    res = minimize(nll, np.zeros(n_models), jac=grad, method="BFGS", options={"gtol": 1e-12, "maxiter": 10000})
    beta = res.x - res.x.mean()
    return scale * beta + init


def battles(seed: int, n_models: int, n: int):
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 1, n_models)
    a = rng.integers(0, n_models, n)
    b = (a + rng.integers(1, n_models, n)) % n_models
    p = 1 / (1 + np.exp(strength[b] - strength[a]))
    u = rng.random(n)
    winner = np.where(u < 0.15, "tie", np.where(rng.random(n) < p, "model_a", "model_b"))
    y = np.where(winner == "model_a", 1.0, np.where(winner == "tie", 0.5, 0.0))
    return a, b, winner, y


@pytest.mark.parametrize(("seed", "n_models", "n"), [(0, 2, 40), (1, 4, 300), (2, 7, 2000)])
def test_ratings_equal_an_independent_fit(seed, n_models, n) -> None:
    a, b, winner, y = battles(seed, n_models, n)
    ours = bt.fit(a, b, y, n_models)
    ref = notebook_fit(a, b, winner, n_models)
    assert np.max(np.abs(ours - ref)) < 1e-6
    assert ours.mean() == pytest.approx(1000.0)
    anchored = bt.fit(a, b, y, n_models, anchor=1, anchor_rating=1114.0)
    assert anchored[1] == pytest.approx(1114.0) and np.allclose(anchored - anchored[1], ours - ours[1], atol=1e-9)


def test_weights_are_repeated_battles() -> None:
    a, b, y = [0, 0, 1, 2, 2], [1, 2, 2, 0, 1], [1.0, 0.5, 0.0, 1.0, 0.0]
    w = [3, 1, 2, 1, 3]
    rep = [(ai, bi, yi) for ai, bi, yi, wi in zip(a, b, y, w) for _ in range(wi)]
    ra, rb, ry = zip(*rep)
    assert np.allclose(bt.fit(a, b, y, 3, weight=w), bt.fit(ra, rb, ry, 3), atol=1e-9)


def test_predicted_win_rate_and_two_models_closed_form() -> None:
    # two models: the MLE makes P(0 beats 1) the share of points 0 took: 7 of 10
    y = [1.0] * 6 + [0.5] * 2 + [0.0] * 2
    r = bt.fit([0] * 10, [1] * 10, y, 2, anchor=1)
    assert r[1] == 1000.0 and r[0] == pytest.approx(1000 + 400 * math.log10(0.7 / 0.3), abs=1e-9)
    assert bt.predict_win_rate(r)[0, 1] == pytest.approx(0.7, abs=1e-12)


def test_no_finite_ratings_names_the_group_that_never_lost() -> None:
    with pytest.raises(bt.NoFiniteRatings) as exc:
        bt.fit([0, 0, 1, 2], [1, 2, 2, 1], [1.0, 1.0, 0.5, 0.5], 3)
    assert exc.value.group == [0]
    with pytest.raises(bt.NoFiniteRatings):  # 0-1 and 2-3 never met
        bt.fit([0, 2], [1, 3], [0.5, 0.5], 4)


def test_bootstrap_is_seeded_and_counts_degenerate_rounds() -> None:
    a, b, _, y = battles(3, 3, 60)
    one = bt.bootstrap(a, b, y, 3, rounds=200, seed=7)
    two = bt.bootstrap(a, b, y, 3, rounds=200, seed=7)
    assert one == two and one["rounds"] == 200
    full = bt.fit(a, b, y, 3)
    assert all(lo <= r <= hi for lo, r, hi in zip(one["low"], full, one["high"]))
    # 3 battles, 0 beats 1 twice and ties once: a resample with no tie has no finite rating. A resample is
    # drawn as multinomial counts of the distinct battles (sorted: the tie, then the win)
    few = bt.bootstrap([0, 0, 0], [1, 1, 1], [1.0, 1.0, 0.5], 2, rounds=100, seed=1)
    rng = np.random.default_rng(1)
    expected = sum(1 for _ in range(100) if rng.multinomial(3, [1 / 3, 2 / 3])[0] == 0)
    assert few["degenerate_rounds"] == expected and 15 < expected < 45  # P = (2/3)^3, about 30 in 100


def test_bootstrap_draws_battles_with_replacement() -> None:
    # the intervals match a plain resampling of the battles (another random stream) to Monte Carlo accuracy
    a, b, _, y = battles(4, 3, 400)
    ours = bt.bootstrap(a, b, y, 3, rounds=2000, seed=0)
    rng = np.random.default_rng(123)
    plain = np.array([bt.fit(a[i], b[i], y[i], 3) for i in (rng.integers(0, 400, 400) for _ in range(2000))])
    for k in range(3):
        assert ours["low"][k] == pytest.approx(np.quantile(plain[:, k], 0.025), abs=6)
        assert ours["high"][k] == pytest.approx(np.quantile(plain[:, k], 0.975), abs=6)
