"""Sanity checks of a robustness evaluation (Carlini et al. 2019, "On Evaluating
Adversarial Robustness"): signs that an audit number may not mean what it says.

Each check runs on one batch and returns a :class:`~pytest_mlaudit.records.Check`; a
failed check marks the audit suspect in the report.
"""

from __future__ import annotations

from typing import Any

from ..records import Check

ZERO_GRADIENT_LIMIT = 0.10


def refuse_probabilities(logits: Any) -> None:
    """Gradient attacks on softmax outputs are masked: refuse models that return probabilities."""
    import torch

    if logits.dim() != 2:
        raise ValueError(f"model must return logits of shape (batch, n_classes), got shape {tuple(logits.shape)}")
    if logits.shape[1] < 2:
        raise ValueError(f"model must return one logit per class (at least 2), got {logits.shape[1]}")
    sums = logits.sum(dim=1)
    if bool((logits >= 0).all() and (logits <= 1).all() and torch.allclose(sums, torch.ones_like(sums), atol=1e-4)):
        raise ValueError(
            "model returns probabilities (outputs in [0, 1] summing to 1); audits need logits. "
            "Remove the final softmax: attacks through a softmax see vanishing gradients."
        )


def deterministic_forward(classifier: Any, x: Any) -> Check:
    import torch

    with torch.no_grad():
        first, second = classifier.logits(x), classifier.logits(x)
    same = bool(torch.allclose(first, second, rtol=1e-5, atol=1e-5))
    detail = "two forward passes agree" if same else (
        f"two forward passes differ by up to {float((first - second).abs().max()):.3g}: "
        "randomness in the model (dropout left on, stochastic layers) can mask gradients"
    )
    return Check("deterministic forward pass", same, detail)


def nonzero_gradients(classifier: Any, x: Any, y: Any) -> Check:
    grad = classifier.loss_gradient(x, y)
    zero = (grad.flatten(1).abs().sum(dim=1) == 0).float().mean().item()
    passed = zero <= ZERO_GRADIENT_LIMIT
    return Check(
        "non-zero input gradients",
        passed,
        f"{zero:.1%} of {len(x)} samples have an all-zero input gradient (limit {ZERO_GRADIENT_LIMIT:.0%})",
    )
