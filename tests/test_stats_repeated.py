"""Intervals for repeated runs and score distributions (stats.py, privacy block)."""

import math

import numpy as np
import pytest
from scipy.stats import binom
from sklearn.metrics import roc_auc_score

from pytest_mlaudit.stats import (auc_interval, crossed_proportion, independent_difference, quantile_interval,
                                  wilson_interval)


def test_crossed_proportion_of_identical_runs_is_near_the_wilson_interval_of_one_run():
    """Identical runs: 44 effective samples and a t(44) quantile instead of 45 and z."""
    run = np.array([1] * 40 + [0] * 5)
    estimate = crossed_proportion(np.tile(run, (20, 1)))
    assert (estimate.low, estimate.high) == pytest.approx(wilson_interval(40, 45), abs=0.007)
    assert estimate.value == pytest.approx(40 / 45)
    assert estimate.n == 20


def test_crossed_proportion_of_all_correct_runs_keeps_the_test_set_uncertainty():
    estimate = crossed_proportion(np.ones((20, 45)))
    assert estimate.value == 1.0
    assert estimate.low == pytest.approx(wilson_interval(45, 45)[0])


def test_crossed_proportion_covers_the_population_accuracy_of_a_random_training_procedure():
    """Simulated: items of varying difficulty, runs of varying quality; the truth is the population mean."""
    rng = np.random.default_rng(1)
    covered = 0
    trials = 300
    for _ in range(trials):
        item_logit = rng.normal(1.0, 1.5, size=60)
        run_shift = rng.normal(0.0, 0.8, size=10)
        p = 1 / (1 + np.exp(-(item_logit[None, :] + run_shift[:, None])))
        outcomes = rng.random(p.shape) < p
        # population accuracy: expectation over new items and new runs (Monte Carlo)
        truth_items = rng.normal(1.0, 1.5, size=4000)
        truth_runs = rng.normal(0.0, 0.8, size=200)
        truth = float(np.mean(1 / (1 + np.exp(-(truth_items[None, :400] + truth_runs[:, None])))))
        estimate = crossed_proportion(outcomes)
        covered += estimate.low <= truth <= estimate.high
    assert covered / trials >= 0.92


def test_crossed_proportion_refuses_non_binary_outcomes_and_single_runs():
    with pytest.raises(ValueError, match="0/1"):
        crossed_proportion(np.full((3, 4), 0.5))
    with pytest.raises(ValueError, match="at least 2"):
        crossed_proportion(np.ones((1, 10)))


def _order_statistic_bounds(n, q, confidence):
    """Brute force: the largest k with P(B >= k) >= 1 - a/2 and the smallest k with P(B <= k - 1) >= 1 - a/2."""
    alpha = (1 - confidence) / 2
    lows = [k for k in range(1, n + 1) if binom.sf(k - 1, n, q) >= 1 - alpha]
    highs = [k for k in range(1, n + 1) if binom.cdf(k - 1, n, q) >= 1 - alpha]
    return (max(lows) if lows else None), (min(highs) if highs else None)


@pytest.mark.parametrize("n", [20, 100, 400])
def test_quantile_interval_takes_the_binomial_order_statistics(n):
    values = np.random.default_rng(n).random(n)
    estimate = quantile_interval(values, 0.05)
    ordered = np.sort(values)
    k_low, k_high = _order_statistic_bounds(n, 0.05, 0.95)
    assert estimate.value == pytest.approx(np.quantile(values, 0.05))
    assert estimate.low == (ordered[k_low - 1] if k_low else 0.0)
    assert estimate.high == ordered[k_high - 1]


def test_quantile_interval_has_no_lower_bound_for_the_5th_percentile_of_20_runs():
    assert quantile_interval(np.linspace(0.8, 1.0, 20), 0.05).low == 0.0


def test_independent_difference_matches_newcombe_1998_example():
    """Newcombe (1998), Statistics in Medicine 17:873, Table II example (a): 56/70 - 48/80, method 10."""
    estimate = independent_difference(56, 70, 48, 80)
    assert estimate.value == pytest.approx(0.2)
    assert (estimate.low, estimate.high) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def _delong_brute_force(pos, neg):
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return psi.mean(), math.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg))


def test_auc_interval_matches_sklearn_auc_and_the_delong_variance():
    rng = np.random.default_rng(3)
    pos = np.round(rng.normal(0.6, 1.0, 70), 1)  # rounding makes ties
    neg = np.round(rng.normal(0.0, 1.0, 50), 1)
    estimate = auc_interval(pos, neg)
    auc, se = _delong_brute_force(pos, neg)
    assert estimate.value == pytest.approx(roc_auc_score(np.r_[np.ones(70), np.zeros(50)], np.r_[pos, neg]))
    assert estimate.value == pytest.approx(auc)
    assert (estimate.high - estimate.low) / 2 == pytest.approx(1.959964 * se, rel=1e-5)
