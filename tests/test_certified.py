"""Certified accuracy by randomized smoothing: Cohen et al.'s CERTIFY, checked against closed forms."""

import numpy as np
import pytest
from extras import need

need("torch")

import torch
from scipy.stats import binomtest, norm

import pytest_mlaudit as mla
from pytest_mlaudit.robustness.smoothing import certify, max_certifiable_radius


def _linear():
    """A linear binary classifier on 2 features: its smoothed version is itself, with radius |w.x + b| / ||w||."""
    model = torch.nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.5], [-1.0, -0.5]]))
        model.bias.copy_(torch.tensor([-0.6, 0.6]))
    return model


def _points(n=40):
    X = np.random.default_rng(0).uniform(0, 1, size=(n, 2)).astype(np.float32)
    y = (X @ np.array([1.0, 0.5]) - 0.6 < 0).astype(int)  # class 1 where logit 0 < logit 1
    return X, y


def _distance(X):
    """Distance to the boundary of the linear model (the logit difference is 2 (w.x + b))."""
    return np.abs(X @ np.array([1.0, 0.5]) - 0.6) / np.linalg.norm([1.0, 0.5])


def test_radius_uses_the_one_sided_clopper_pearson_bound():
    """pA is the lower end of the exact two-sided interval at confidence 1 - 2 alpha (scipy's binomtest)."""
    from pytest_mlaudit.adapters import as_classifier

    x = torch.tensor([0.9, 0.9])
    generator = torch.Generator().manual_seed(0)
    classifier = as_classifier(_linear(), device="cpu")
    label, radius = certify(classifier, x, n0=100, n=2000, sigma=0.5, alpha=0.001, batch_size=500,
                            generator=generator)
    generator = torch.Generator().manual_seed(0)
    from pytest_mlaudit.robustness.smoothing import noisy_counts

    noisy_counts(classifier, x, 100, 0.5, 500, generator)
    top = int(noisy_counts(classifier, x, 2000, 0.5, 500, generator)[label])
    p_lower = binomtest(top, 2000).proportion_ci(confidence_level=1 - 2 * 0.001, method="exact").low
    assert radius == pytest.approx(0.5 * norm.ppf(p_lower), rel=1e-9)


def test_certified_radius_never_exceeds_the_true_one_of_a_linear_model():
    X, y = _points()
    result = mla.certified_accuracy(_linear(), X, y, sigma=0.25, radii=[0.0], n=10_000, batch_size=5000)
    radius, exact = np.array(result.radius_per_sample), _distance(X)
    certified = radius > 0
    assert certified.sum() >= 30
    assert np.all(radius[certified] <= exact[certified] + 1e-9)
    reachable = certified & (exact < result.max_certifiable_radius)
    assert np.median(radius[reachable] / exact[reachable]) > 0.7


def test_certified_accuracy_falls_with_the_radius_and_abstentions_count_as_wrong():
    X, y = _points()
    result = mla.certified_accuracy(_linear(), X, y, sigma=0.25, radii=[0.0, 0.1, 0.3], n=2000, batch_size=2000)
    values = [e.value for e in result.certified_accuracy]
    assert values == sorted(values, reverse=True)
    assert values[0] <= 1.0 - result.abstention_rate.value


def test_gate_at_a_radius_fails_on_a_miss():
    X, y = _points(20)
    with pytest.raises(AssertionError, match="certified_accuracy"):
        mla.assert_certified_accuracy(_linear(), X, y, sigma=0.25, radius=0.3, at_least=0.99, n=1000)


def test_largest_certifiable_radius_is_sigma_times_the_quantile_of_alpha_to_the_one_over_n():
    assert max_certifiable_radius(0.25, 10_000, 0.001) == pytest.approx(0.25 * norm.ppf(0.001 ** (1 / 10_000)))


def test_a_radius_beyond_reach_is_a_failed_check():
    X, y = _points(10)
    result = mla.certified_accuracy(_linear(), X, y, sigma=0.1, radii=[0.0, 5.0], n=500)
    assert result.at(5.0).value == 0.0
    assert [(check.name, check.passed) for check in result.checks] == [("radii within what n can certify", False)]


@pytest.mark.parametrize("kwargs, message", [
    ({"sigma": 0.0}, r"sigma must be positive"),
    ({"sigma": 0.25, "alpha": 1.0}, r"alpha must be in \(0, 1\)"),
    ({"sigma": 0.25, "radii": "wide"}, r"radii"),
])
def test_bad_settings_are_clear_errors(kwargs, message):
    X, y = _points(5)
    with pytest.raises((ValueError, TypeError), match=message):
        mla.certified_accuracy(_linear(), X, y, **kwargs)
