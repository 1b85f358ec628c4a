"""Intervals and gate policies: known values, invariants (hypothesis) and coverage."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_mlaudit.records import Estimate
from pytest_mlaudit.stats import (
    clopper_pearson_interval,
    gate_passes,
    paired_difference,
    proportion,
    wilson_interval,
)

counts = st.integers(min_value=0, max_value=5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))
confidences = st.floats(min_value=0.5, max_value=0.999)


def test_wilson_matches_the_closed_form_for_5_of_10():
    low, high = wilson_interval(5, 10, 0.95)
    assert low == pytest.approx(0.2366, abs=1e-4)
    assert high == pytest.approx(0.7634, abs=1e-4)


def test_wilson_for_zero_successes_starts_at_zero():
    low, high = wilson_interval(0, 20, 0.95)
    assert low == 0.0
    assert high == pytest.approx(0.1611, abs=1e-4)


def test_clopper_pearson_for_zero_of_ten_is_the_rule_of_three_bound():
    low, high = clopper_pearson_interval(0, 10, 0.95)
    assert low == 0.0
    assert high == pytest.approx(1 - 0.025 ** (1 / 10), abs=1e-9)


def test_clopper_pearson_agrees_with_scipy_binomtest():
    from scipy.stats import binomtest

    reference = binomtest(37, 120).proportion_ci(confidence_level=0.9, method="exact")
    assert clopper_pearson_interval(37, 120, 0.9) == pytest.approx((reference.low, reference.high), abs=1e-12)


def test_wilson_agrees_with_scipy_binomtest():
    from scipy.stats import binomtest

    reference = binomtest(37, 120).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_interval(37, 120, 0.95) == pytest.approx((reference.low, reference.high), abs=1e-12)


@given(counts, confidences)
def test_wilson_bounds_lie_in_unit_interval_around_the_estimate(count, confidence):
    successes, n = count
    low, high = wilson_interval(successes, n, confidence)
    p = successes / n if n else 0.0
    assert 0.0 <= low <= high <= 1.0
    if n:
        assert low <= p <= high


@given(counts, confidences)
def test_clopper_pearson_contains_wilson_centre_and_estimate(count, confidence):
    successes, n = count
    low, high = clopper_pearson_interval(successes, n, confidence)
    assert 0.0 <= low <= high <= 1.0
    if n:
        assert low <= successes / n <= high


@given(st.integers(1, 400), confidences)
def test_intervals_narrow_as_confidence_drops(n, confidence):
    successes = n // 3
    wide = wilson_interval(successes, n, min(0.999, confidence + 0.0005))
    narrow = wilson_interval(successes, n, confidence)
    assert wide[0] <= narrow[0] + 1e-12 and narrow[1] <= wide[1] + 1e-12


def _coverage(method, n, p, draws, rng):
    successes = rng.binomial(n, p, size=draws)
    covered = 0
    for k in successes:
        low, high = method(int(k), n, 0.95)
        covered += low <= p <= high
    return covered / draws


@pytest.mark.parametrize("n", [30, 100, 400])
def test_wilson_coverage_is_near_nominal_on_average(n):
    rng = np.random.default_rng(1)
    coverages = [_coverage(wilson_interval, n, p, 400, rng) for p in np.linspace(0.05, 0.95, 19)]
    assert np.mean(coverages) == pytest.approx(0.95, abs=0.015)
    assert min(coverages) >= 0.88


@pytest.mark.parametrize("n", [30, 100])
def test_clopper_pearson_coverage_is_at_least_nominal(n):
    rng = np.random.default_rng(2)
    coverages = [_coverage(clopper_pearson_interval, n, p, 400, rng) for p in np.linspace(0.05, 0.95, 10)]
    assert min(coverages) >= 0.93  # exact: >= 0.95 in expectation, 400 draws give +-0.02 noise
    assert np.mean(coverages) >= 0.95


def test_proportion_carries_its_method_and_confidence():
    estimate = proportion(45, 50, confidence=0.9, method="clopper-pearson")
    assert (estimate.value, estimate.n, estimate.method, estimate.confidence) == (0.9, 50, "clopper-pearson", 0.9)


def test_proportion_refuses_an_unknown_method():
    with pytest.raises(ValueError, match="method must be one of"):
        proportion(1, 2, method="wald")


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1, "0.95"])
def test_intervals_refuse_confidence_outside_zero_one(confidence):
    with pytest.raises(ValueError, match="confidence must be"):
        wilson_interval(1, 2, confidence)


def test_intervals_refuse_more_successes_than_trials():
    with pytest.raises(ValueError, match="successes <= n"):
        wilson_interval(3, 2)


def test_paired_difference_of_identical_outcomes_is_zero_with_a_symmetric_interval():
    estimate = paired_difference(both=40, only_first=0, only_second=0, neither=10)
    assert estimate.value == 0.0
    assert estimate.low == pytest.approx(-estimate.high)
    assert estimate.high < 0.1


def test_paired_difference_value_is_the_difference_of_margins():
    estimate = paired_difference(both=30, only_first=15, only_second=5, neither=50)
    assert estimate.value == pytest.approx((45 - 35) / 100)
    assert estimate.low < 0.1 < estimate.high
    assert estimate.n == 100


@given(st.tuples(*[st.integers(0, 200)] * 4).filter(lambda c: sum(c) > 0))
def test_paired_difference_interval_contains_the_estimate_within_minus_one_one(cells):
    estimate = paired_difference(*cells)
    assert -1.0 <= estimate.low <= estimate.value <= estimate.high <= 1.0


@given(st.tuples(*[st.integers(0, 200)] * 4).filter(lambda c: sum(c) > 0))
def test_paired_difference_is_antisymmetric(cells):
    both, only_first, only_second, neither = cells
    forward = paired_difference(both, only_first, only_second, neither)
    backward = paired_difference(both, only_second, only_first, neither)
    assert backward.value == pytest.approx(-forward.value)
    assert (backward.low, backward.high) == pytest.approx((-forward.high, -forward.low))


@pytest.mark.parametrize(("n", "p_first", "keep", "gain"), [(50, 0.9, 0.8, 0.1), (200, 0.6, 0.5, 0.05), (400, 0.95, 0.3, 0.2)])
def test_paired_difference_coverage_is_near_nominal(n, p_first, keep, gain):
    """Correlated pairs as an attack makes them: the second outcome mostly follows the first."""
    rng = np.random.default_rng(n)
    true_difference = p_first - (p_first * keep + (1 - p_first) * gain)
    draws, covered = 400, 0
    for _ in range(draws):
        first = rng.random(n) < p_first
        second = np.where(first, rng.random(n) < keep, rng.random(n) < gain)
        estimate = paired_difference(int(np.sum(first & second)), int(np.sum(first & ~second)),
                                     int(np.sum(~first & second)), int(np.sum(~first & ~second)))
        covered += estimate.low <= true_difference <= estimate.high
    assert covered / draws >= 0.92


ESTIMATE = Estimate(value=0.50, low=0.40, high=0.60, n=100)


@pytest.mark.parametrize(
    ("op", "threshold", "policy", "passes"),
    [
        (">=", 0.45, "estimate", True),
        (">=", 0.55, "estimate", False),
        (">=", 0.45, "lower", False),  # the pessimistic bound 0.40 misses
        (">=", 0.40, "lower", True),
        (">=", 0.55, "upper", True),  # the optimistic bound 0.60 still meets it
        (">=", 0.65, "upper", False),
        ("<=", 0.55, "estimate", True),
        ("<=", 0.55, "lower", False),  # pessimistic for at_most is the high end 0.60
        ("<=", 0.45, "upper", True),  # optimistic for at_most is the low end 0.40
        ("<=", 0.35, "upper", False),
    ],
)
def test_gate_policies_compare_the_side_of_the_interval_they_name(op, threshold, policy, passes):
    assert gate_passes(ESTIMATE, op, threshold, policy) is passes


def test_gate_refuses_an_unknown_policy():
    with pytest.raises(ValueError, match="policy must be one of"):
        gate_passes(ESTIMATE, ">=", 0.5, "optimistic")


def test_clopper_pearson_of_no_trials_is_the_whole_unit_interval():
    assert clopper_pearson_interval(0, 0) == (0.0, 1.0)


def test_clopper_pearson_takes_95_percent_by_default():
    assert clopper_pearson_interval(3, 12) == clopper_pearson_interval(3, 12, 0.95)
    assert clopper_pearson_interval(3, 12) != clopper_pearson_interval(3, 12, 0.9)


def test_wilson_of_no_trials_is_the_whole_unit_interval():
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_upper_bound_of_all_successes_is_exactly_one():
    """Unclipped, the score bound of 9/9 at 95% rounds to 1.0000000000000002."""
    assert wilson_interval(9, 9)[1] == 1.0


def test_intervals_refuse_negative_successes():
    with pytest.raises(ValueError, match=r"^need 0 <= successes <= n, got successes=-1, n=5$"):
        wilson_interval(-1, 5)


def test_proportion_records_its_counts_and_takes_95_percent_wilson_by_default():
    estimate = proportion(3, 10)
    assert (estimate.counts, estimate.confidence, estimate.method) == ((3, 10), 0.95, "wilson")


def test_proportion_of_no_trials_is_zero_over_the_whole_unit_interval():
    estimate = proportion(0, 0)
    assert (estimate.value, estimate.low, estimate.high, estimate.n) == (0.0, 0.0, 1.0, 0)


def test_gate_refuses_an_unknown_comparison_naming_it():
    with pytest.raises(ValueError, match=r"^op must be '>=' or '<=', got '=='$"):
        gate_passes(ESTIMATE, "==", 0.5, "estimate")


def test_paired_difference_of_no_units_is_zero_over_minus_one_one():
    estimate = paired_difference(0, 0, 0, 0, confidence=0.9)
    assert (estimate.value, estimate.low, estimate.high, estimate.n) == (0.0, -1.0, 1.0, 0)
    assert (estimate.method, estimate.confidence, estimate.counts) == ("newcombe-paired", 0.9, (0, 0, 0, 0))


def test_paired_difference_of_one_unit_is_measured():
    assert paired_difference(0, 1, 0, 0).value == 1.0


def test_paired_difference_records_its_counts_method_and_confidence():
    estimate = paired_difference(30, 15, 5, 50, confidence=0.9)
    assert (estimate.method, estimate.confidence, estimate.counts) == ("newcombe-paired", 0.9, (30, 15, 5, 50))


def _newcombe_paired_by_hand(both, only_first, only_second, neither, confidence):
    """Newcombe (1998) method 10 written out, on statsmodels' Wilson intervals of the two margins."""
    import math

    from statsmodels.stats.proportion import proportion_confint

    n = both + only_first + only_second + neither
    p1, p2 = (both + only_first) / n, (both + only_second) / n
    l1, u1 = proportion_confint(both + only_first, n, alpha=1 - confidence, method="wilson")
    l2, u2 = proportion_confint(both + only_second, n, alpha=1 - confidence, method="wilson")
    margins = (both + only_first) * (only_second + neither) * (both + only_second) * (only_first + neither)
    phi = (both * neither - only_first * only_second) / math.sqrt(margins) if margins else 0.0
    d_low = math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    d_high = math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    return p1 - p2 - d_low, p1 - p2 + d_high


@pytest.mark.parametrize("cells", [(30, 15, 5, 50), (3, 0, 2, 0), (10, 2, 9, 4)])
@pytest.mark.parametrize("confidence", [0.8, 0.95])
def test_paired_difference_follows_newcombes_method_10_written_out(cells, confidence):
    """(3, 0, 2, 0) has a zero margin: no correlation is estimated (phi = 0)."""
    estimate = paired_difference(*cells, confidence=confidence)
    assert (estimate.low, estimate.high) == pytest.approx(_newcombe_paired_by_hand(*cells, confidence), abs=1e-12)


def test_paired_difference_refuses_negative_counts_naming_them():
    with pytest.raises(ValueError, match=r"^paired counts must be non-negative, got \(-1, 0, 0, 0\)$"):
        paired_difference(-1, 0, 0, 0)
