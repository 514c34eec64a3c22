"""The length-controlled win rate (AlpacaEval's length_controlled_v1 GLM) on a constructed fixture.

Why this fixture: the GLM says preference = sigmoid(w_len * tanh(std_delta_len) + w_d * difficulty + b *
not_gamed_baseline). We generate preferences exactly from such a model (no noise) with a strong length effect
(w_len = -1.2: the longer output is preferred) and a model whose outputs are much longer than the reference.
Its raw win rate is inflated by length; the true length-controlled win rate is known in closed form,
100 * mean(sigmoid(w_d * difficulty + b)). The gamed-baseline rows follow the same length and difficulty
weights (b = 0), as AlpacaEval's verbose / concise gpt4_1106_preview baselines are meant to. With noise-free
data the cross-validation picks a weak penalty, so the fit recovers the weights and the LC win rate equals the
closed form to within a small tolerance, far from the raw win rate. Separately, our written-out
cross-validation equals scikit-learn's LogisticRegressionCV set up exactly as the official
``fit_LogisticRegressionCV`` (metadata routing, continuous log loss scorer) on the same rows.
"""

from __future__ import annotations

import math
import warnings

import pytest
from assay_alpacaeval.glm import GamedData, _fit, find_gamed, length_controlled

np = pytest.importorskip("numpy")
pytest.importorskip("sklearn")

W_LEN, W_D, B = -1.2, 0.8, -0.5
N = 60


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def fixture() -> tuple[GamedData, list[float], list[int], list[int], list[int]]:
    difficulty = np.linspace(-1.5, 1.5, N)
    gamed = []
    for i, d in enumerate(difficulty):
        for delta in (-1.0, 0.8):  # the verbose baseline is longer than the reference, the concise one shorter
            gamed.append((i, float(sigmoid(W_LEN * math.tanh(delta) + W_D * d)), delta, float(d)))
    len_ref = [1000] * N
    len_model = [1000 + 300 + 37 * (i % 11) for i in range(N)]  # every model output is longer
    delta = np.asarray(len_ref, float) - np.asarray(len_model, float)
    std_delta = delta / delta.std(ddof=1)
    prefs = [float(1 + sigmoid(W_LEN * np.tanh(s) + W_D * d + B)) for s, d in zip(std_delta, difficulty)]
    return GamedData(gamed), prefs, len_ref, len_model, list(range(N))


def test_lc_winrate_removes_the_length_effect() -> None:
    gamed, prefs, len_ref, len_model, index = fixture()
    out = length_controlled(prefs, len_ref, len_model, index, gamed)
    truth = 100 * float(np.mean(sigmoid(W_D * np.linspace(-1.5, 1.5, N) + B)))
    raw = 100 * float(np.mean(np.asarray(prefs) - 1))
    assert raw - truth > 10  # the length effect the GLM must remove
    assert out["length_controlled_winrate"] == pytest.approx(truth, abs=0.3)
    w = out["lc_weights"]
    assert w["np.tanh(std_delta_len)"] == pytest.approx(W_LEN, abs=0.05)
    assert w["instruction_difficulty"] == pytest.approx(W_D, abs=0.05)
    assert w["not_gamed_baseline.astype(float)"] == pytest.approx(B, abs=0.05)
    assert out["lc_standard_error"] > 0


def test_written_out_cv_equals_sklearn_logisticregressioncv_as_officially_set_up() -> None:
    import sklearn
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import GroupKFold

    rng = np.random.default_rng(7)
    n = 80
    x = np.column_stack([np.tanh(rng.normal(size=n)), rng.normal(size=n), (np.arange(n) >= 20).astype(float)])
    p = np.clip(sigmoid(x @ [-0.9, 0.6, 0.4]) + rng.normal(scale=0.15, size=n), 0, 1)  # noisy: C matters
    weight = np.where(np.arange(n) < 20, 0.1, 1.0)
    ours = _fit(x, p, weight, np.arange(n))

    def logloss_continuous(y_true, y_pred, true_prob, true_sample_weight=None):
        y_true = np.where(y_true == 1, true_prob, 1 - true_prob)
        y_pred = np.clip(y_pred, 1e-15, 1 - 1e-15)
        loss = y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred)
        return -np.mean(loss * true_sample_weight)

    xd, y = np.concatenate([x, x]), np.r_[np.ones(n), np.zeros(n)]
    true_prob, true_weight = np.r_[p, 1 - p], np.r_[weight, weight]
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scorer = make_scorer(
            logloss_continuous, response_method="predict_proba", greater_is_better=False
        ).set_score_request(true_sample_weight=True, true_prob=True)
        model = LogisticRegressionCV(
            cv=GroupKFold(n_splits=5), scoring=scorer, random_state=123, dual=False, penalty="l1",
            solver="liblinear", fit_intercept=False,
        )  # fmt: skip
        model.set_fit_request(sample_weight=True)
        model.fit(
            xd, y, sample_weight=true_prob * true_weight, groups=np.r_[np.arange(n), np.arange(n)],
            true_sample_weight=true_weight, true_prob=true_prob,
        )  # fmt: skip
    assert ours == pytest.approx(model.coef_[0], abs=1e-6)


def test_gamed_data_from_a_data_dir_and_offline_hub(tmp_path, monkeypatch) -> None:
    (tmp_path / "df_gamed.csv").write_text(
        "model,index,preference,std_delta_len,instruction_difficulty,not_gamed_baseline\n"
        "gpt4_1106_preview_verbose,0,0.25,-1.0,0.5,False\ngpt4_1106_preview_concise,0,0.75,0.8,0.5,False\n",
        encoding="utf-8",
    )
    data, source = find_gamed([tmp_path / "nowhere", tmp_path])
    assert source == str(tmp_path / "df_gamed.csv")
    assert data.rows == [(0, 0.25, -1.0, 0.5), (0, 0.75, 0.8, 0.5)] and data.difficulty == {0: 0.5}
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data, why = find_gamed([tmp_path / "nowhere"])
    assert data is None
    assert why == (
        f"length-controlled win rate not computed: no df_gamed.csv (looked in: {tmp_path / 'nowhere' / 'df_gamed.csv'}; "
        "huggingface: not asked (HF_HUB_OFFLINE is set))"
    )
