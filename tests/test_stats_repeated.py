"""Intervals for repeated runs and score distributions (stats.py, privacy block)."""

import math
import re

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


# --------------------------------------------------------------------------- what each estimate records, and its limits


@pytest.mark.parametrize("confidence", [0.80, 0.99])
def test_independent_difference_agrees_with_statsmodels_newcombe_at_other_confidences(confidence):
    from statsmodels.stats.proportion import confint_proportions_2indep

    theirs = confint_proportions_2indep(56, 70, 48, 80, method="newcomb", compare="diff", alpha=1 - confidence)
    estimate = independent_difference(56, 70, 48, 80, confidence)
    assert (estimate.low, estimate.high) == pytest.approx(theirs, abs=1e-12)


def test_independent_difference_records_its_counts_method_and_confidence():
    estimate = independent_difference(56, 70, 48, 80, 0.9)
    assert (estimate.n, estimate.method, estimate.confidence, estimate.counts) == (
        150, "newcombe-independent", 0.9, (56, 70, 48, 80))


def test_independent_difference_of_opposite_certainties_is_clipped_to_minus_one_one():
    assert independent_difference(5, 5, 0, 5).high == 1.0
    assert independent_difference(0, 5, 5, 5).low == -1.0


def test_independent_difference_of_one_sample_each_is_defined():
    assert independent_difference(1, 1, 0, 1).value == 1.0


@pytest.mark.parametrize("n_1, n_2", [(0, 5), (5, 0)])
def test_independent_difference_refuses_an_empty_sample_naming_both_sizes(n_1, n_2):
    with pytest.raises(ValueError, match=rf"^both samples must be non-empty, got n_1={n_1}, n_2={n_2}$"):
        independent_difference(0, n_1, 0, n_2)


def test_auc_interval_records_its_size_method_and_confidence():
    estimate = auc_interval([0.9, 0.4, 0.7], [0.1, 0.5], 0.9)
    assert (estimate.n, estimate.method, estimate.confidence) == (5, "delong", 0.9)
    assert estimate.value == pytest.approx(5 / 6)


def test_auc_interval_of_two_scores_per_class_is_defined():
    assert auc_interval([2, 3], [0, 1]).value == 1.0


def test_auc_interval_is_clipped_to_one_above_a_near_perfect_auc():
    estimate = auc_interval([0.9, 0.8, 0.95, 0.3], [0.1, 0.2, 0.35, 0.4])
    assert estimate.value == 14 / 16 and estimate.high == 1.0


def test_auc_interval_reads_integer_scores_as_floats():
    assert auc_interval([2, 3, 1], [0, 1, 0]) == auc_interval([2.0, 3.0, 1.0], [0.0, 1.0, 0.0])


@pytest.mark.parametrize("positives, negatives", [([1.0], [0.0, 0.5]), ([1.0, 0.5], [0.0])])
def test_auc_interval_refuses_fewer_than_two_scores_of_a_class_naming_the_counts(positives, negatives):
    with pytest.raises(ValueError, match=rf"^an AUC interval needs at least 2 positive and 2 negative scores, got "
                                         rf"{len(positives)} and {len(negatives)}$"):
        auc_interval(positives, negatives)


def test_quantile_interval_records_its_runs_method_and_confidence():
    estimate = quantile_interval(np.linspace(0.0, 1.0, 50), 0.1, 0.9)
    assert (estimate.n, estimate.method, estimate.confidence) == (50, "order statistics q=0.1", 0.9)


@pytest.mark.parametrize("n, q, confidence", [(30, 0.5, 0.95), (60, 0.2, 0.8), (200, 0.05, 0.99), (7, 0.5, 0.9)])
def test_quantile_interval_takes_the_brute_force_order_statistics_at_other_quantiles_and_levels(n, q, confidence):
    values = np.random.default_rng(n).random(n)
    estimate = quantile_interval(values, q, confidence, bounds=(-5.0, 5.0))
    ordered = np.sort(values)
    k_low, k_high = _order_statistic_bounds(n, q, confidence)
    assert estimate.low == (ordered[k_low - 1] if k_low else -5.0)
    assert estimate.high == (ordered[k_high - 1] if k_high else 5.0)


def test_quantile_interval_falls_back_to_the_upper_bound_when_no_order_statistic_reaches_it():
    assert quantile_interval(np.linspace(0.1, 0.2, 20), 0.95, bounds=(0.0, 7.0)).high == 7.0


def test_quantile_interval_of_one_run_spans_the_bounds():
    estimate = quantile_interval([0.5], 0.5)
    assert (estimate.low, estimate.value, estimate.high) == (0.0, 0.5, 1.0)


@pytest.mark.parametrize("q", [0.0, 1.0, 1.5])
def test_quantile_interval_refuses_q_outside_zero_one_naming_it(q):
    with pytest.raises(ValueError, match=rf"^q must be strictly between 0 and 1, got {q!r}$"):
        quantile_interval([0.1, 0.2], q)


def test_quantile_interval_refuses_no_runs():
    with pytest.raises(ValueError, match=r"^a quantile needs at least one run$"):
        quantile_interval([], 0.5)


def _crossed_by_hand(table, confidence):
    """The docstring's recipe written out: variance parts, effective n, Welch-Satterthwaite t, Wilson."""
    from scipy.stats import t

    runs, samples = table.shape
    p = table.mean()
    run_part = np.var(table.mean(axis=1), ddof=1) / runs
    sample_part = np.var(table.mean(axis=0), ddof=1) / samples
    variance = run_part + sample_part
    n = min(samples, p * (1 - p) / variance)
    df = variance ** 2 / (run_part ** 2 / (runs - 1) + sample_part ** 2 / (samples - 1))
    z = t.ppf(0.5 + confidence / 2, df)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.mark.parametrize("confidence", [0.8, 0.95])
def test_crossed_proportion_follows_its_recipe_on_runs_that_differ(confidence):
    rng = np.random.default_rng(5)
    table = (rng.random((6, 40)) < np.linspace(0.5, 0.9, 6)[:, None]).astype(int)
    estimate = crossed_proportion(table, confidence)
    assert (estimate.low, estimate.high) == pytest.approx(_crossed_by_hand(table.astype(float), confidence), abs=1e-12)


def test_crossed_proportion_records_its_runs_method_and_confidence():
    table = np.array([[1, 0, 1], [1, 1, 0]])
    estimate = crossed_proportion(table, 0.9)
    assert (estimate.n, estimate.method, estimate.confidence) == (2, "wilson, effective n over runs x samples", 0.9)
    assert estimate.value == pytest.approx(4 / 6)


def test_crossed_proportion_reads_booleans_as_zero_one():
    assert crossed_proportion(np.array([[True, False], [True, True]])).value == 0.75


@pytest.mark.parametrize("shape", [(1, 5), (5, 1), (4,)])
def test_crossed_proportion_refuses_fewer_than_two_runs_or_samples_naming_the_shape(shape):
    with pytest.raises(ValueError, match=rf"^outcomes must be a runs x samples table with at least 2 of each, got "
                                         rf"shape {re.escape(str(shape))}$"):
        crossed_proportion(np.ones(shape))


def test_crossed_proportion_refuses_values_other_than_zero_and_one():
    with pytest.raises(ValueError, match=r"^outcomes must be 0/1 \(or boolean\) values$"):
        crossed_proportion(np.array([[1, 2], [0, 1]]))
