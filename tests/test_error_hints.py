"""Errors that point at the likely mistake: an eps in other units than the data, data slightly outside its domain."""

import numpy as np
import pytest
from extras import needs

import pytest_mlaudit as mla
from pytest_mlaudit import validation


def test_data_outside_its_domain_is_refused_with_the_clipping_and_feature_range_hint():
    X = np.array([[0.2, 1.03], [-0.01, 0.5]])
    with pytest.raises(ValueError) as error:
        validation.check_in_domain(X, np.float64(0.0), np.float64(1.0), "X_test")
    message = str(error.value)
    assert message.startswith("X_test has 2 values outside the declared domain clip=(0, 1): its range is [-0.01, 1.03]")
    assert "np.clip(X_test, low, high)" in message and "mla.feature_range(X_train, margin=...)" in message
    assert "normalization=(mean, std)" in message


@needs("torch")
def test_an_eps_wider_than_the_domain_is_refused_as_a_units_mistake(tiny):
    model, X, y = tiny
    with pytest.raises(ValueError, match=r"FGSM eps=8 is larger than the input domain's width \(1\).*8/255.*"
                                         r"allow_large_eps=True"):
        mla.robustness(model, X, y, attack=mla.FGSM(eps=8), clip=(0.0, 1.0))


@needs("torch")
def test_a_curve_with_one_eps_too_wide_is_refused(tiny):
    model, X, y = tiny
    with pytest.raises(ValueError, match="PGD eps=2 is larger"):
        mla.robustness_curve(model, X, y, attack=mla.PGD(eps=0.1, steps=2), eps=[0.1, 2.0], clip=(0.0, 1.0))


@needs("torch")
def test_allow_large_eps_says_it_is_meant(tiny):
    model, X, y = tiny
    result = mla.robustness(model, X, y, attack=mla.FGSM(eps=8, allow_large_eps=True), clip=(0.0, 1.0),
                            sanity_samples=0)
    assert result.clean_accuracy.value == 1.0


@needs("torch")
def test_an_l2_eps_may_exceed_the_width_of_one_feature(tiny):
    model, X, y = tiny
    mla.robustness(model, X, y, attack=mla.PGD(eps=1.5, norm=2, steps=2), clip=(0.0, 1.0), sanity_samples=0)


def test_allow_large_eps_must_be_a_flag():
    with pytest.raises(TypeError, match="allow_large_eps"):
        mla.FGSM(eps=0.1, allow_large_eps="yes")
