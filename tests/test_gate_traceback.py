"""A missed gate's traceback starts at the user's call: no frame of the plugin or the authoring API is shown."""

import importlib.util

import pytest

MISSED_GATE = """
    import pytest_mlaudit as mla

    def test_gate():
        mla.assert_minority_recall(Fixed(), X_test=X, y_test=y, prefit=True, at_least=0.9)

    import numpy as np
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Fixed(ClassifierMixin, BaseEstimator):
        classes_ = np.array([0, 1])
        def fit(self, X, y):
            return self
        def predict(self, X):
            return np.r_[np.ones(5, dtype=int), np.zeros(45, dtype=int)]
        def predict_proba(self, X):
            p = self.predict(X).astype(float)
            return np.c_[1 - p, p]
        def __sklearn_is_fitted__(self):
            return True

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = np.r_[np.ones(10, dtype=int), np.zeros(40, dtype=int)]
"""

CUSTOM_AUDIT = """
    import pytest_mlaudit as mla

    def test_gate():
        with mla.audit("custom", "score") as a:
            a.gate("score", at_least=0.9)
            a.metric("score", mla.proportion(5, 10))
"""


@pytest.mark.parametrize("source", [CUSTOM_AUDIT, MISSED_GATE], ids=["mla.audit", "assert_minority_recall"])
def test_a_missed_gate_shows_only_the_users_frame(pytester, source):
    if source is MISSED_GATE and importlib.util.find_spec("imblearn") is None:
        pytest.skip("the imbalance audit needs imbalanced-learn")
    pytester.makepyfile(test_gate=source)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--tb=long")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    failure = output.split("FAILURES", 1)[1].split("short test summary", 1)[0]
    assert "pytest_mlaudit" not in failure.split("E   AssertionError", 1)[0]
    assert "def test_gate():" in failure
    assert "test_gate.py:" in failure and "authoring.py" not in failure and "contextlib.py" not in failure
