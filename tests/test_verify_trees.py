"""Verified robustness of tree ensembles: sound against a brute-force search, bracketed by HopSkipJump."""

import itertools

import numpy as np
import pytest
from extras import need

need("art")
xgboost = need("xgboost")

from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import pytest_mlaudit as mla

CHEAP_ATTACK = dict(max_iter=5, max_eval=100, init_eval=10, init_size=20)


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 2))
    y = ((X[:, 0] + 0.5 * X[:, 1]) > 0.8).astype(int)
    return X, y


def _exactly_robust(model, x, label, eps):
    """Brute force: the ensemble is constant between consecutive thresholds, so its predictions on every cell
    of the threshold grid inside the L-inf ball decide robustness exactly."""
    booster = model.get_booster().trees_to_dataframe()
    candidates = []
    for feature in range(len(x)):
        cuts = booster[booster.Feature == f"f{feature}"].Split.dropna().to_numpy()
        low, high = x[feature] - eps, x[feature] + eps
        points = np.sort(np.concatenate([[low, high], cuts[(cuts > low) & (cuts < high)]]))
        candidates.append(np.unique(np.concatenate([points, (points[:-1] + points[1:]) / 2,
                                                    np.nextafter(points, -np.inf)[1:]])))
    grid = np.array(list(itertools.product(*candidates)))
    grid = grid[np.all(np.abs(grid - x) <= eps, axis=1)]
    return bool(np.all(model.predict(grid) == label))


def test_every_verified_sample_is_robust_by_brute_force():
    X, y = _data()
    model = xgboost.XGBClassifier(n_estimators=3, max_depth=2, n_jobs=1, random_state=0).fit(X, y)
    X_test, y_test = _data(40, seed=1)
    result = mla.verify_trees(model, X_test, y_test, eps=0.05, attack=None)
    exact = np.array([_exactly_robust(model, x, label, 0.05) for x, label in zip(X_test, y_test)])
    verified = np.array(result.verified)
    assert verified.sum() >= 10
    assert not np.any(verified & ~exact)


def test_xgboost_base_score_joins_so_verification_at_eps_zero_agrees_with_the_model():
    """An imbalanced binary problem moves XGBoost's estimated base score far from 0: ART alone would misread it."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(600, 3))
    y = (X[:, 0] > 0.9).astype(int)
    model = xgboost.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1, random_state=0).fit(X, y)
    result = mla.verify_trees(model, X[:40], y[:40], eps=0.0, attack=None)
    assert result.verified_accuracy.value == result.clean_accuracy.value


def test_bracket_verified_below_attacked_on_a_forest():
    X, y = _data()
    model = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    X_test, y_test = _data(30, seed=2)
    result = mla.verify_trees(model, X_test, y_test, eps=0.05,
                              attack=mla.HopSkipJump(eps=0.05, norm="inf", **CHEAP_ATTACK))
    assert result.verified_accuracy.value <= result.attacked_accuracy.value <= result.clean_accuracy.value


def test_pipeline_is_verified_in_the_space_of_its_ensemble():
    X, y = _data()
    pipeline = Pipeline([("scaler", StandardScaler()),
                         ("xgb", xgboost.XGBClassifier(n_estimators=3, max_depth=2, n_jobs=1))]).fit(X, y)
    result = mla.verify_trees(pipeline, X[:20], y[:20], eps=0.1, attack=None)
    direct = mla.verify_trees(pipeline[-1], pipeline[0].transform(X[:20]), y[:20], eps=0.1, attack=None)
    assert result.verified == direct.verified


def test_gate_on_the_verified_bound_fails_on_a_miss():
    X, y = _data()
    model = xgboost.XGBClassifier(n_estimators=3, max_depth=2, n_jobs=1).fit(X, y)
    with pytest.raises(AssertionError, match="verified_accuracy"):
        mla.assert_verified_accuracy(model, X[:20], y[:20], eps=0.5, at_least=0.9, attack=None)


def test_a_model_that_is_not_a_tree_ensemble_is_refused():
    from sklearn.linear_model import LogisticRegression

    X, y = _data()
    with pytest.raises(TypeError, match=r"model must be a fitted XGBClassifier or scikit-learn tree ensemble"):
        mla.verify_trees(LogisticRegression().fit(X, y), X[:5], y[:5], eps=0.1)
