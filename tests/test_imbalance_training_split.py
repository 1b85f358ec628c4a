"""Resampling touches the training split only, in ``compare_resamplers`` as in ``imbalance``.

A resampler that also saw (or was applied to) the test split would inflate the
minority class there; the metrics would then be counted over rows that are not the
test split. Both audits are checked the same way: a spy sampler records what it is
given, and every metric's counts are those of the untouched test split.
"""

import numpy as np
import pytest
from extras import need

need("imblearn")

from sklearn.base import BaseEstimator
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import pytest_mlaudit as mla


class SpySampler(BaseEstimator):
    """Records every split it is asked to resample, and over-samples the minority class by duplication."""

    seen: list = []

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit_resample(self, X, y):
        SpySampler.seen.append((np.array(X, copy=True), np.array(y, copy=True)))
        minority = np.flatnonzero(y == 1)
        return np.vstack([X, X[minority]]), np.r_[y, y[minority]]


@pytest.fixture(scope="module")
def split():
    X, y = make_classification(n_samples=600, n_features=5, n_informative=3, weights=[0.9], flip_y=0, random_state=3)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def assert_counts_are_the_test_splits(result, y_test):
    positives, negatives = int((y_test == 1).sum()), int((y_test == 0).sum())
    (tn, fp), (fn, tp) = result.confusion_matrix
    assert (tp + fn, tn + fp) == (positives, negatives)
    assert (result.recall.n, result.specificity.n) == (positives, negatives)
    assert result.f1.n == result.balanced_accuracy.n == len(y_test)


def test_compare_resamplers_resamples_the_training_split_only(split):
    X_train, X_test, y_train, y_test = split
    SpySampler.seen = []
    comparison = mla.compare_resamplers(LogisticRegression(), X_train, y_train, X_test, y_test,
                                        resamplers={"none": None, "spy": SpySampler()}, n_resamples=100)
    ((X_seen, y_seen),) = SpySampler.seen
    np.testing.assert_array_equal(X_seen, X_train)
    np.testing.assert_array_equal(y_seen, y_train)
    for result in comparison.results.values():
        assert_counts_are_the_test_splits(result, y_test)


def test_imbalance_resamples_the_training_split_only(split):
    X_train, X_test, y_train, y_test = split
    SpySampler.seen = []
    result = mla.imbalance(LogisticRegression(), X_train, y_train, X_test, y_test, resampler=SpySampler(),
                           n_resamples=100)
    ((X_seen, y_seen),) = SpySampler.seen
    np.testing.assert_array_equal(X_seen, X_train)
    np.testing.assert_array_equal(y_seen, y_train)
    assert_counts_are_the_test_splits(result, y_test)


def test_compare_resamplers_metrics_equal_those_of_a_model_fitted_on_the_resampled_training_split(split):
    """The comparison's confusion matrix is the test split's under a model fitted on the resampled training split."""
    from imblearn.over_sampling import RandomOverSampler
    from sklearn.metrics import confusion_matrix

    X_train, X_test, y_train, y_test = split
    comparison = mla.compare_resamplers(LogisticRegression(), X_train, y_train, X_test, y_test,
                                        resamplers={"over": RandomOverSampler(random_state=7)}, n_resamples=100)
    X_res, y_res = RandomOverSampler(random_state=7).fit_resample(X_train, y_train)
    expected = confusion_matrix(y_test, LogisticRegression().fit(X_res, y_res).predict(X_test), labels=[0, 1])
    assert comparison.results["over"].confusion_matrix == tuple(map(tuple, expected.tolist()))
