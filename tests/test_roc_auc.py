"""ROC AUC in the imbalance audit: `mla.assert_roc_auc`, the AUC of the positive class's scores with
DeLong's interval, which a constant model cannot pass however imbalanced the classes."""

import numpy as np
import pytest
from extras import need

need("imblearn")

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.svm import LinearSVC

import pytest_mlaudit as mla


class PredictOnly(BaseEstimator, ClassifierMixin):
    """A fitted classifier with labels and no scores."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        return (X[:, 0] > 1.0).astype(int)


def imbalanced(n: int, seed: int):
    """About 8% positives, separable by the first two features with noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.7 * X[:, 1] + rng.normal(scale=0.8, size=n) > 2.0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def split():
    X_train, y_train = imbalanced(2000, 0)
    X_test, y_test = imbalanced(800, 1)
    return LogisticRegression().fit(X_train, y_train), X_test, y_test


def test_the_auc_is_scikit_learns_roc_auc_score(split):
    model, X, y = split
    result = mla.assert_roc_auc(model, X_test=X, y_test=y, prefit=True, at_least=0.5)
    assert result.roc_auc.value == pytest.approx(roc_auc_score(y, model.predict_proba(X)[:, 1]), abs=1e-12)
    assert result.roc_auc.method == "delong" and result.roc_auc.n == len(y)


def test_a_decision_function_gives_the_same_auc_as_scikit_learn():
    X_train, y_train = imbalanced(2000, 0)
    X, y = imbalanced(800, 1)
    model = LinearSVC().fit(X_train, y_train)
    result = mla.imbalance(model, X_test=X, y_test=y, prefit=True, n_resamples=20)
    assert result.roc_auc.value == pytest.approx(roc_auc_score(y, model.decision_function(X)), abs=1e-12)


def test_the_delong_interval_agrees_with_a_class_stratified_bootstrap(split):
    """The DeLong interval's ends within 0.01 of a brute-force percentile bootstrap (2,000 resamples per class;
    each replicate's AUC counted over all positive-negative pairs, ties one half)."""
    model, X, y = split
    scores = model.predict_proba(X)[:, 1]
    result = mla.imbalance(model, X_test=X, y_test=y, prefit=True, n_resamples=20)
    rng = np.random.default_rng(7)
    positives, negatives = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    replicates = []
    for _ in range(2000):
        pos, neg = scores[rng.choice(positives, positives.size)], scores[rng.choice(negatives, negatives.size)]
        replicates.append((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())
    low, high = np.quantile(replicates, [0.025, 0.975])
    assert result.roc_auc.low == pytest.approx(low, abs=0.01)
    assert result.roc_auc.high == pytest.approx(high, abs=0.01)


def test_a_constant_model_scores_one_half_and_fails_the_gate_that_accuracy_would_pass(split):
    _, X, y = split
    constant = DummyClassifier(strategy="most_frequent").fit(X, y)
    assert (constant.predict(X) == y).mean() > 0.9
    with pytest.raises(AssertionError, match="roc_auc"):
        mla.assert_roc_auc(constant, X_test=X, y_test=y, prefit=True, at_least=0.6)
    assert mla.imbalance(constant, X_test=X, y_test=y, prefit=True, n_resamples=20).roc_auc.value == 0.5


def test_the_gate_fails_below_the_threshold(split):
    model, X, y = split
    measured = mla.imbalance(model, X_test=X, y_test=y, prefit=True, n_resamples=20).roc_auc.value
    with pytest.raises(AssertionError, match="roc_auc"):
        mla.assert_roc_auc(model, X_test=X, y_test=y, prefit=True, at_least=min(1.0, measured + 0.05))


def test_the_auc_is_a_metric_of_every_imbalance_record(split, mlaudit):
    model, X, y = split
    mlaudit.imbalance(model, X_test=X, y_test=y, prefit=True, n_resamples=20)
    assert "roc_auc" in mlaudit.records[-1].metrics


def test_a_model_without_scores_is_refused(split):
    _, X, y = split
    with pytest.raises(TypeError, match="model gives no scores"):
        mla.assert_roc_auc(PredictOnly().fit(X, y), X_test=X, y_test=y, prefit=True, at_least=0.5)


def test_a_test_split_with_one_positive_is_refused(split):
    model, X, y = split
    keep = np.r_[np.flatnonzero(y == 1)[:1], np.flatnonzero(y == 0)]
    with pytest.raises(ValueError, match="y_test has 1 samples of positive_label=1"):
        mla.assert_roc_auc(model, X_test=X[keep], y_test=y[keep], prefit=True, at_least=0.5)
