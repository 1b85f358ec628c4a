"""Tabular audits given chunks of a table: fairness takes them (tests/test_fairness_counts.py), the others refuse."""

import numpy as np
import pytest
from extras import needs

import pytest_mlaudit as mla


def _table(n=200):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(np.int64)
    return X, y


def _chunks(X, y, size=50):
    return ((X[start:start + size], y[start:start + size]) for start in range(0, len(X), size))


@needs("imblearn")
def test_the_imbalance_audit_refuses_chunks_naming_its_pr_auc():
    from sklearn.linear_model import LogisticRegression

    X, y = _table()
    model = LogisticRegression().fit(X, y)
    with pytest.raises(TypeError, match=r"X_test is an iterable of chunks \(generator\): the imbalance audit cannot "
                                        r"be computed from chunks, its PR-AUC ranks every test score"):
        mla.imbalance(model, X_test=_chunks(X, y), y_test=y, prefit=True)


def test_membership_inference_refuses_chunks_naming_its_auc():
    from sklearn.linear_model import LogisticRegression

    X, y = _table()
    model = LogisticRegression().fit(X[:100], y[:100])
    with pytest.raises(TypeError, match=r"X_holdout is an iterable of chunks \(generator\): membership inference "
                                        r"cannot be computed from chunks, its AUC ranks every member's score"):
        mla.membership_inference(model, X[:100], y[:100], _chunks(X[100:], y[100:]), y[100:])


@needs("fairlearn")
def test_compare_mitigation_refuses_chunks_naming_the_threshold_optimizer():
    from sklearn.linear_model import LogisticRegression

    X, y = _table()
    groups = np.where(X[:, 1] > 0, "a", "b")
    with pytest.raises(TypeError, match=r"X_train is an iterable of chunks \(generator\): compare_mitigation cannot "
                                        r"be computed from chunks, fairlearn's ThresholdOptimizer"):
        mla.compare_mitigation(LogisticRegression(), _chunks(X, y), y, X, y, sensitive_features_train=groups,
                               sensitive_features_test=groups)


@needs("fairlearn")
def test_a_fairness_audit_of_chunks_refuses_labels_given_beside_them():
    X, y = _table()
    with pytest.raises(TypeError, match=r"give y and sensitive_features inside each chunk"):
        mla.fairness(object(), _chunks(X, y), y, sensitive_features=np.zeros(len(y)))
