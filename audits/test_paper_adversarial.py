"""The adversarial experiment of "Robust and Fair AI": the paper's CNN under FGSM.

On the embedded data (scikit-learn's 8x8 digits, pixel domain [0, 1]) the network is
the paper's CNN sized for 8x8 inputs (see ``reference_models.paper_cnn``).
"""

import pytest

import pytest_mlaudit as mla

pytestmark = pytest.mark.mlaudit(requirement="EU-AI-Act-Art15")


def test_cnn_is_accurate_without_attack(mlaudit, digits, digits_cnn):
    result = mlaudit.robustness(digits_cnn, digits.X_test, digits.y_test, attack=mla.FGSM(eps=0.0), clip=(0.0, 1.0))
    assert result.clean_accuracy.value >= 0.95


def test_cnn_keeps_accuracy_under_small_fgsm(mlaudit, digits, digits_cnn):
    mlaudit.assert_robust_accuracy(digits_cnn, digits.X_test, digits.y_test, attack=mla.FGSM(eps=0.02),
                                   clip=(0.0, 1.0), at_least=0.90)


def test_cnn_loses_accuracy_under_large_fgsm(mlaudit, digits, digits_cnn):
    """A standard (not adversarially trained) CNN is not robust at eps=0.2: the audit must see it."""
    mlaudit.assert_robust_accuracy(digits_cnn, digits.X_test, digits.y_test, attack=mla.FGSM(eps=0.2),
                                   clip=(0.0, 1.0), at_most=0.40, policy="lower")
