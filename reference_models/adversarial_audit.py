"""The audit of an adversarial training: a standard model against its secured twin.

Both models are attacked with FGSM at the same eps on the same samples, so the gain
in robust accuracy and the drop in clean accuracy are *paired* differences, with
Newcombe's paired interval (``stats.paired_difference``): tighter and more honest
than comparing two independent intervals. The per-sample outcomes come from
``mla.sample_outcomes``, the measurement behind ``mla.robustness`` (a sample
misclassified clean counts as not robust), so the accuracies here agree with the
robustness audits of the same models. Written with the public authoring API only.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

import pytest_mlaudit as mla


def assert_adversarial_training_gain(standard: Any, secured: Any, X: Any, y: Any, *, eps: float, clip: tuple[Any, Any],
                                     min_robust_gain: float, max_clean_drop: float, policy: str | None = None,
                                     batch_size: int = 256, requirement=None) -> dict[str, mla.Estimate]:
    """Gate ``secured``'s robust-accuracy gain over ``standard`` (at least) and its clean-accuracy drop (at most).

    Returns the metrics: both models' clean and robust accuracy, ``robust_accuracy_gain``
    (secured - standard) and ``clean_accuracy_drop`` (standard - secured).
    """
    with mla.audit("robustness", f"adversarial training trade-off under FGSM (eps={eps:g}, Linf)",
                   requirement=requirement) as a:
        a.gate("robust_accuracy_gain", at_least=min_robust_gain, policy=policy, requirement=requirement,
               bounds=(-1.0, 1.0))
        a.gate("clean_accuracy_drop", at_most=max_clean_drop, policy=policy, requirement=requirement,
               bounds=(-1.0, 1.0))
        attack = mla.FGSM(eps=eps)
        outcomes = {name: mla.sample_outcomes(model, X, y, attack=attack, clip=clip, batch_size=batch_size,
                                              seed=a.seed("attack"))
                    for name, model in (("standard", standard), ("secured", secured))}
        # the standard model is a parameter of this audit (its fingerprint); the model audited is the secured one
        standard_fingerprint = a.describe_model(standard).get("fingerprint")
        a.describe_model(secured)
        a.describe_data((X, y))
        a.params.update({"attack": "FGSM", "norm": "Linf", "eps": eps, "n_samples": int(len(X)),
                         "clip": [np.asarray(bound, dtype=np.float64).tolist() for bound in clip],
                         "standard_model": standard_fingerprint})
        confidence = a.settings.confidence
        for name, (clean, robust) in outcomes.items():
            a.metric(f"{name}_clean_accuracy", mla.proportion(int(clean.sum()), clean.size, confidence))
            a.metric(f"{name}_robust_accuracy", mla.proportion(int(robust.sum()), robust.size, confidence))
        a.metric("robust_accuracy_gain", paired(outcomes["secured"][1], outcomes["standard"][1], confidence))
        a.metric("clean_accuracy_drop", paired(outcomes["standard"][0], outcomes["secured"][0], confidence))
        return a.metrics


def paired(first: Any, second: Any, confidence: float) -> mla.Estimate:
    """``mean(first) - mean(second)`` of two boolean outcome arrays over the same samples."""
    return mla.paired_difference(int((first & second).sum()), int((first & ~second).sum()),
                                 int((~first & second).sum()), int((~first & ~second).sum()), confidence)


@contextlib.contextmanager
def beside_published(mlaudit: Any, *entries: tuple[str, float, str, str]):
    """Run an audit, then put a study's numbers beside ours in its record, even when its gate misses.

    Each entry is ``(metric, published, source, note)`` for ``mlaudit.published``.
    """
    try:
        yield
    finally:
        if mlaudit.records:
            for metric, published, source, note in entries:
                mlaudit.published(metric, published, source, note=note)
