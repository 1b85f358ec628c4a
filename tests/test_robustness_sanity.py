"""The sanity checks every robustness audit runs, and strict=True turning them into gates."""

import pytest
from extras import need

need("torch")

import torch
from tiny_models import digits, digits_mlp

import pytest_mlaudit as mla

CHECKS = ["deterministic forward pass", "non-zero input gradients", "accuracy near chance at very large eps",
          "iterative attack at least as strong as one-step", "random noise weaker than the attack"]


class Quantized(torch.nn.Module):
    """Gradient masking by input quantization: the gradient through round() is zero."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, x):
        return self.network(torch.round(x * 4) / 4)


class Noisy(torch.nn.Module):
    """Randomness in the forward pass even in eval mode."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, x):
        return self.network(x) + torch.randn(len(x), 10)


def test_a_sound_evaluation_passes_every_check():
    _, _, X, y = digits()
    result = mla.robustness(digits_mlp(), X[:100], y[:100], attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0))
    assert [check.name for check in result.checks] == CHECKS
    assert not result.suspect


def test_an_iterative_audit_is_compared_with_one_step():
    _, _, X, y = digits()
    result = mla.robustness(digits_mlp(), X[:100], y[:100], attack=mla.PGD(eps=0.05, steps=5), clip=(0.0, 1.0))
    (check,) = [c for c in result.checks if c.name == "iterative attack at least as strong as one-step"]
    assert check.passed and "PGD (audited)" in check.detail


def test_masked_gradients_mark_the_audit_suspect(mlaudit):
    _, _, X, y = digits()
    result = mlaudit.robustness(Quantized(digits_mlp()), X[:100], y[:100], attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0))
    failed = {check.name for check in result.checks if not check.passed}
    assert {"non-zero input gradients", "accuracy near chance at very large eps"} <= failed
    assert result.suspect and mlaudit.records[-1].suspect
    assert mlaudit.records[-1].outcome == "passed"


def test_strict_turns_a_failed_check_into_a_failed_audit(mlaudit):
    _, _, X, y = digits()
    with pytest.raises(AssertionError, match="sanity check 'non-zero input gradients' failed \\(strict=True\\)"):
        mlaudit.robustness(Quantized(digits_mlp()), X[:100], y[:100], attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0),
                           strict=True)
    assert mlaudit.records[-1].outcome == "failed"


def test_a_random_forward_pass_is_flagged():
    _, _, X, y = digits()
    torch.manual_seed(0)
    result = mla.robustness(Noisy(digits_mlp()), X[:60], y[:60], attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0))
    (check,) = [c for c in result.checks if c.name == "deterministic forward pass"]
    assert not check.passed and "differ" in check.detail


def test_sanity_samples_zero_turns_the_checks_off():
    _, _, X, y = digits()
    result = mla.robustness(digits_mlp(), X[:50], y[:50], attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0), sanity_samples=0)
    assert result.checks == ()
