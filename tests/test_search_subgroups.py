"""Weak-subgroup search (mla.weak_subgroups): the test, the Benjamini-Hochberg adjustment, and the false-discovery rate."""

import numpy as np
import pytest

import pytest_mlaudit as mla
from pytest_mlaudit.search.subgroups import adjusted_p_values, one_sided_p_value, slice_tests
from pytest_mlaudit.stats import proportion


class Labels:
    """A 'model' predicting fixed labels, so that the test controls exactly which rows are right."""

    def __init__(self, predicted):
        self.predicted = np.asarray(predicted)

    def predict(self, X):
        return self.predicted[: len(X)]


def test_benjamini_hochberg_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = np.random.default_rng(0).uniform(size=200) ** 3
    for ours, method in (("bh", "fdr_bh"), ("by", "fdr_by")):
        np.testing.assert_allclose(adjusted_p_values(p, ours), multitest.multipletests(p, method=method)[1])


def test_the_slice_test_matches_statsmodels_two_proportion_z_test():
    proportions = pytest.importorskip("statsmodels.stats.proportion")
    for k, n, rest_k, rest_n in ((30, 100, 700, 1000), (5, 40, 30, 60), (90, 100, 880, 1000)):
        _, expected = proportions.proportions_ztest([k, rest_k], [n, rest_n], alternative="smaller")
        assert one_sided_p_value(k, n, rest_k, rest_n) == pytest.approx(expected)


def test_a_planted_weak_slice_is_found_and_nothing_else():
    rng = np.random.default_rng(0)
    n = 3000
    X = np.column_stack([rng.integers(0, 4, n), rng.normal(size=n)])
    correct = rng.random(n) < np.where(X[:, 0] == 2, 0.6, 0.9)  # category 2 of feature 0 is weak
    y = np.ones(n, dtype=int)
    result = mla.weak_subgroups(Labels(np.where(correct, 1, 0)), X, y)
    assert result.slices[0].description == "x[0] = 2"
    assert result.slices[0].gap.value == pytest.approx(0.3, abs=0.05)
    assert all("x[0] = 2" in s.description for s in result.slices)


def test_assert_no_weak_subgroup_gates_the_largest_discovered_gap():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 3, size=(2000, 1))
    correct = rng.random(2000) < np.where(X[:, 0] == 1, 0.7, 0.95)
    with pytest.raises(AssertionError, match="worst_gap"):
        mla.assert_no_weak_subgroup(Labels(correct.astype(int)), X, np.ones(2000, dtype=int), gap_at_most=0.1)


def test_the_false_discovery_rate_holds_in_simulation():
    """No effect planted: every discovery is false, so FDR = P(any discovery) must be <= 0.05 within its interval.

    With the default Benjamini-Yekutieli adjustment; Benjamini-Hochberg measured 25/300 here (see subgroups.py)."""
    rng = np.random.default_rng(2)
    runs, any_discovery = 300, 0
    for _ in range(runs):
        n = 600
        columns = {"a": rng.integers(0, 3, n), "b": rng.normal(size=n), "c": rng.integers(0, 2, n)}
        correct = rng.random(n) < 0.8
        tests = slice_tests(np.ones(n, dtype=bool), correct, columns, max_depth=2, min_size=30, bins=4)
        any_discovery += bool(np.any(adjusted_p_values([t.p_value for t in tests], "by") <= 0.05))
    assert proportion(any_discovery, runs).low <= 0.05


def test_the_false_discovery_proportion_with_planted_effects_holds_in_simulation():
    rng = np.random.default_rng(3)
    proportions = []
    for _ in range(150):
        n = 800
        columns = {"a": rng.integers(0, 4, n), "b": rng.normal(size=n)}
        correct = rng.random(n) < np.where(columns["a"] == 0, 0.65, 0.85)
        tests = slice_tests(np.ones(n, dtype=bool), correct, columns, max_depth=1, min_size=30, bins=4)
        found = [t for t, q in zip(tests, adjusted_p_values([t.p_value for t in tests], "by")) if q <= 0.05]
        false = [t for t in found if t.description != "a = 0"]
        proportions.append(len(false) / len(found) if found else 0.0)
    values = np.asarray(proportions)
    assert values.mean() - 1.96 * values.std(ddof=1) / np.sqrt(len(values)) <= 0.05


@pytest.mark.parametrize("kwargs, error, match", [
    ({"metric": "f1"}, ValueError, "metric must be one of"),
    ({"fdr": 1.5}, ValueError, "fdr must be strictly between 0 and 1"),
    ({"max_depth": 3}, ValueError, "max_depth must be 1 or 2"),
    ({"features": ["age"]}, ValueError, "no column named 'age'"),
    ({"slice_by": {"group": [1, 2]}}, ValueError, "one value per sample"),
])
def test_bad_input_names_the_argument(kwargs, error, match):
    X = np.random.default_rng(0).normal(size=(100, 2))
    with pytest.raises(error, match=match):
        mla.weak_subgroups(Labels(np.ones(100, dtype=int)), X, np.ones(100, dtype=int), **kwargs)
