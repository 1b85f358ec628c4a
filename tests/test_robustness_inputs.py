"""Bad input to a robustness audit gets one clear error naming the argument."""

import numpy as np
import pytest
from extras import need

need("torch")

import torch
from tiny_models import digits, digits_mlp

import pytest_mlaudit as mla


def _audit(model=None, X=None, y=None, **kwargs):
    _, _, X_test, y_test = digits()
    arguments = dict(attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0))
    arguments.update(kwargs)
    return mla.robustness(digits_mlp() if model is None else model, X_test[:30] if X is None else X,
                          y_test[:30] if y is None else y, **arguments)


def test_nan_in_x():
    X = digits()[2][:30].copy()
    X[3, 5] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        _audit(X=X)


def test_x_without_a_sample_axis():
    with pytest.raises(ValueError, match="X must have at least 2 dimensions"):
        _audit(X=np.zeros(64, dtype=np.float32), y=np.zeros(64, dtype=int))


def test_x_of_the_wrong_width_for_the_model():
    with pytest.raises(ValueError, match="model could not be applied to X \\(samples of shape \\(10,\\)\\)"):
        _audit(X=np.zeros((30, 10), dtype=np.float32))


def test_labels_out_of_range():
    with pytest.raises(ValueError, match="y has label 12 but the model outputs only 10 classes"):
        _audit(y=np.full(30, 12))


def test_labels_of_the_wrong_length():
    with pytest.raises(ValueError, match="y has 29 labels but X has 30 samples"):
        _audit(y=np.zeros(29, dtype=int))


def test_data_outside_the_domain():
    with pytest.raises(ValueError, match="X has .* values outside the declared domain clip=\\(0, 0.5\\)"):
        _audit(clip=(0.0, 0.5))


def test_bounds_that_do_not_fit_the_samples():
    with pytest.raises(ValueError, match="clip bounds of shape \\(3,\\) do not fit samples of shape \\(64,\\)"):
        _audit(clip=(np.zeros(3), np.ones(3)))


def test_a_model_returning_probabilities():
    with pytest.raises(ValueError, match="model returns probabilities"):
        _audit(model=torch.nn.Sequential(digits_mlp(), torch.nn.Softmax(dim=1)))


def test_a_model_returning_nan():
    class Broken(torch.nn.Module):
        def forward(self, x):
            return torch.full((len(x), 10), float("nan"))

    with pytest.raises(ValueError, match="model returned NaN or infinite logits"):
        _audit(model=Broken())


def test_negative_eps():
    with pytest.raises(ValueError, match="FGSM eps must be non-negative"):
        _audit(attack=mla.FGSM(eps=-0.1))


def test_an_attack_that_is_not_an_attack():
    with pytest.raises(TypeError, match="attack must be an attack object"):
        _audit(attack="fgsm")


def test_a_negative_sanity_sample_count():
    with pytest.raises(ValueError, match="sanity_samples must be a non-negative integer"):
        _audit(sanity_samples=-1)
