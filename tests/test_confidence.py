"""The confidence level is honoured end to end: every interval method and gate policy at 0.80, 0.95 and 0.99.

Each interval is checked against scipy or statsmodels at the three levels (an interval
that ignored its confidence would agree at 0.95 only), intervals narrow strictly as
the confidence drops, and ``--mlaudit-confidence`` changes the intervals an audit records.
"""

import json

import numpy as np
import pytest
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint

import pytest_mlaudit as mla
from outside_pytest import as_a_script
from pytest_mlaudit.stats import (
    auc_interval,
    bootstrap_percentile,
    clopper_pearson_interval,
    crossed_proportion,
    gate_passes,
    independent_difference,
    paired_difference,
    proportion,
    quantile_interval,
    stratified_bootstrap,
    wilson_interval,
)

LEVELS = (0.80, 0.95, 0.99)
COUNTS = [(0, 12), (3, 12), (37, 120), (119, 120), (450, 500)]


@pytest.mark.parametrize("confidence", LEVELS)
@pytest.mark.parametrize("successes, n", COUNTS)
def test_wilson_agrees_with_statsmodels_at_each_confidence(successes, n, confidence):
    theirs = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    np.testing.assert_allclose(wilson_interval(successes, n, confidence), theirs, atol=1e-12)
    estimate = proportion(successes, n, confidence)
    np.testing.assert_allclose((estimate.low, estimate.high), theirs, atol=1e-12)
    assert estimate.confidence == confidence


@pytest.mark.parametrize("confidence", LEVELS)
@pytest.mark.parametrize("successes, n", COUNTS)
def test_clopper_pearson_agrees_with_scipy_at_each_confidence(successes, n, confidence):
    theirs = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="exact")
    np.testing.assert_allclose(clopper_pearson_interval(successes, n, confidence), (theirs.low, theirs.high), atol=1e-9)
    estimate = proportion(successes, n, confidence, method="clopper-pearson")
    np.testing.assert_allclose((estimate.low, estimate.high), (theirs.low, theirs.high), atol=1e-9)


@pytest.mark.parametrize("confidence, expected", [(0.80, (0.1, 0.9)), (0.95, (0.025, 0.975)), (0.99, (0.005, 0.995))])
def test_bootstrap_percentile_takes_the_quantiles_of_its_confidence(confidence, expected):
    replicates = np.arange(1001) / 1000  # the q quantile of these is exactly q
    estimate = bootstrap_percentile(0.5, replicates, 1001, confidence)
    np.testing.assert_allclose((estimate.low, estimate.high), expected, atol=1e-12)
    assert estimate.confidence == confidence


@pytest.mark.parametrize("confidence", LEVELS)
def test_row_bootstrap_agrees_with_scipys_percentile_bootstrap_at_each_confidence(confidence):
    from scipy.stats import bootstrap

    values = np.random.default_rng(0).exponential(size=200)
    ours = mla.bootstrap(np.mean, values, seed=1, n_resamples=20000, confidence=confidence)
    theirs = bootstrap((values,), np.mean, method="percentile", n_resamples=20000, confidence_level=confidence,
                       random_state=3).confidence_interval
    np.testing.assert_allclose((ours.low, ours.high), (theirs.low, theirs.high), atol=0.01)


@pytest.mark.parametrize("confidence", LEVELS)
def test_stratified_bootstrap_takes_the_quantiles_of_its_own_replicates_at_each_confidence(confidence):
    strata = np.repeat([0, 1], [30, 70])
    values = np.random.default_rng(2).normal(size=100)

    def mean(weights):
        return {"mean": weights @ values / weights.sum(axis=1)}

    ours = stratified_bootstrap(mean, strata, {"mean": float(values.mean())}, seed=4, n_resamples=500,
                                confidence=confidence)["mean"]
    from pytest_mlaudit.stats import bootstrap_weights

    cell_strata = strata  # one unit per cell
    replicates = mean(bootstrap_weights(np.ones(100), cell_strata, n_resamples=500, seed=4))["mean"]
    alpha = 1 - confidence
    expected = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    np.testing.assert_allclose((ours.low, ours.high), (min(expected[0], ours.value), max(expected[1], ours.value)))


@pytest.mark.parametrize("confidence", LEVELS)
@pytest.mark.parametrize("policy", ["estimate", "lower", "upper"])
@pytest.mark.parametrize("op", [">=", "<="])
def test_gate_policies_read_the_bound_of_the_recorded_confidence(confidence, policy, op):
    """Thresholds every 0.005 from 0.70 to 0.99 fall between the bounds of 45/50 at each level: the level decides."""
    low, high = proportion_confint(45, 50, alpha=1 - confidence, method="wilson")
    side = {(">=", "estimate"): 0.9, (">=", "lower"): low, (">=", "upper"): high,
            ("<=", "estimate"): 0.9, ("<=", "lower"): high, ("<=", "upper"): low}[op, policy]
    for threshold in np.round(np.arange(0.70, 0.99, 0.005), 3):
        expected = side >= threshold if op == ">=" else side <= threshold
        assert gate_passes(proportion(45, 50, confidence), op, threshold, policy) == expected, threshold


def test_the_same_lower_gate_passes_at_80_percent_and_fails_at_99():
    assert gate_passes(proportion(45, 50, 0.80), ">=", 0.83, "lower")
    assert not gate_passes(proportion(45, 50, 0.99), ">=", 0.83, "lower")


def _widths(interval_at):
    return [high - low for low, high in map(interval_at, LEVELS)]


INTERVALS = {
    "wilson": lambda c: wilson_interval(37, 120, c),
    "clopper-pearson": lambda c: clopper_pearson_interval(37, 120, c),
    "paired": lambda c: (lambda e: (e.low, e.high))(paired_difference(50, 12, 5, 33, c)),
    "independent": lambda c: (lambda e: (e.low, e.high))(independent_difference(40, 60, 22, 60, c)),
    "crossed": lambda c: (lambda e: (e.low, e.high))(crossed_proportion(
        np.random.default_rng(0).random((6, 80)) < 0.8, c)),
    "quantile": lambda c: (lambda e: (e.low, e.high))(quantile_interval(np.linspace(0.5, 0.99, 200), 0.5, c)),
    "auc": lambda c: (lambda e: (e.low, e.high))(auc_interval(np.arange(30.0) + 5, np.arange(40.0), c)),
    "bootstrap": lambda c: (lambda e: (e.low, e.high))(bootstrap_percentile(0.5, np.arange(1001) / 1000, 1001, c)),
}


@pytest.mark.parametrize("method", list(INTERVALS))
def test_every_interval_narrows_strictly_as_the_confidence_drops(method):
    at_80, at_95, at_99 = _widths(INTERVALS[method])
    assert at_80 < at_95 < at_99


def test_a_family_audit_records_intervals_at_the_settings_confidence():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    pytest.importorskip("imblearn")
    X, y = make_classification(n_samples=600, n_features=5, weights=[0.85], flip_y=0.05, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, stratify=y, random_state=0)
    results = {c: as_a_script(lambda: mla.imbalance(LogisticRegression(), X_train, y_train, X_test, y_test,
                                                    n_resamples=300), seed=0, confidence=c) for c in LEVELS}
    (tn, fp), (fn, tp) = results[0.95].confusion_matrix
    for confidence, result in results.items():
        expected = proportion_confint(tp, tp + fn, alpha=1 - confidence, method="wilson")
        np.testing.assert_allclose((result.recall.low, result.recall.high), expected, atol=1e-12)
        assert result.f1.confidence == result.pr_auc.confidence == confidence
    f1_widths = [results[c].f1.high - results[c].f1.low for c in LEVELS]
    assert f1_widths[0] < f1_widths[1] < f1_widths[2]


ROBUST_TEST = """
    import pytest_mlaudit as mla

    def test_robust(mlaudit, model, data):
        X, y = data
        mlaudit.assert_robust_accuracy(model, X, y, attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0), at_least=0.5)
"""


def test_the_confidence_option_changes_the_recorded_intervals_to_its_level(audit_project):
    audit_project.makepyfile(ROBUST_TEST)
    recorded = {}
    for confidence in (0.80, 0.99):
        audit_project.runpytest(f"--mlaudit-confidence={confidence}", f"--mlaudit-json=out{confidence}.json",
                                "-p", "no:cacheprovider").assert_outcomes(passed=1)
        (audit,) = json.loads((audit_project.path / f"out{confidence}.json").read_text())["audits"]
        recorded[confidence] = audit
    for confidence, audit in recorded.items():
        metric = audit["metrics"]["robust_accuracy"]
        assert metric["confidence"] == confidence and metric["method"] == "wilson"
        successes = round(metric["value"] * metric["n"])
        expected = proportion_confint(successes, metric["n"], alpha=1 - confidence, method="wilson")
        np.testing.assert_allclose((metric["low"], metric["high"]), expected, atol=1e-12)
        gate = audit["gates"][0]
        assert (gate["low"], gate["high"]) == (metric["low"], metric["high"])
    assert recorded[0.80]["metrics"]["robust_accuracy"]["value"] == recorded[0.99]["metrics"]["robust_accuracy"]["value"]
    width = {c: a["metrics"]["robust_accuracy"]["high"] - a["metrics"]["robust_accuracy"]["low"] for c, a in recorded.items()}
    assert width[0.80] < width[0.99]
