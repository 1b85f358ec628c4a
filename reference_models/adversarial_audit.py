"""The audit of an adversarial training: a standard model against its secured twin.

Both models are attacked with FGSM at the same eps on the same samples, so the gain
in robust accuracy and the drop in clean accuracy are *paired* differences, with
Newcombe's paired interval (``stats.paired_difference``): tighter and more honest
than comparing two independent intervals. The attack is the audit's FGSM, through
the same classifier adapter as ``mla.robustness``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from pytest_mlaudit import validation
from pytest_mlaudit.recording import audit_call, resolve_policy, threshold_spec
from pytest_mlaudit.records import Estimate


def assert_adversarial_training_gain(standard: Any, secured: Any, X: Any, y: Any, *, eps: float, clip: tuple[Any, Any],
                                     min_robust_gain: float, max_clean_drop: float, policy: str | None = None,
                                     batch_size: int = 256, requirement=None) -> dict[str, Estimate]:
    """Gate ``secured``'s robust-accuracy gain over ``standard`` (at least) and its clean-accuracy drop (at most).

    Returns the metrics: both models' clean and robust accuracy, ``robust_accuracy_gain``
    (secured - standard) and ``clean_accuracy_drop`` (standard - secured).
    """
    from pytest_mlaudit.adapters import describe_model
    from pytest_mlaudit.stats import proportion

    _, min_gain = threshold_spec(min_robust_gain, None, bounds=(-1.0, 1.0))
    _, max_drop = threshold_spec(None, max_clean_drop, bounds=(-1.0, 1.0))
    policy = resolve_policy(policy)
    with audit_call("robustness", f"adversarial training trade-off under FGSM (eps={eps:g}, Linf)",
                    requirement=requirement) as call:
        X = validation.features(X, "X")
        y = validation.labels(y, X.shape[0], "y")
        low, high = validation.domain(clip)
        validation.check_in_domain(X, low, high)
        validation.positive_number(eps, "eps")
        call.record.model = describe_model(secured)
        call.record.data = validation.fingerprint(X, y)
        call.record.params = {"attack": "FGSM", "norm": "Linf", "eps": eps, "n_samples": int(X.shape[0]),
                              "clip": [low.tolist(), high.tolist()],
                              "standard_model": describe_model(standard)["fingerprint"]}
        outcomes = {name: fgsm_outcomes(model, X, y, eps, (low, high), batch_size)
                    for name, model in (("standard", standard), ("secured", secured))}
        confidence = call.settings.confidence
        for name, (clean, robust) in outcomes.items():
            call.metric(f"{name}_clean_accuracy", proportion(int(clean.sum()), clean.size, confidence))
            call.metric(f"{name}_robust_accuracy", proportion(int(robust.sum()), robust.size, confidence))
        call.metric("robust_accuracy_gain", paired(outcomes["secured"][1], outcomes["standard"][1], confidence))
        call.metric("clean_accuracy_drop", paired(outcomes["standard"][0], outcomes["secured"][0], confidence))
        call.gate("robust_accuracy_gain", ">=", min_gain, policy, requirement)
        call.gate("clean_accuracy_drop", "<=", max_drop, policy, requirement)
        return dict(call.record.metrics)


def paired(first: Any, second: Any, confidence: float) -> Estimate:
    """``mean(first) - mean(second)`` of two boolean outcome arrays over the same samples."""
    from pytest_mlaudit.stats import paired_difference

    return paired_difference(int((first & second).sum()), int((first & ~second).sum()),
                             int((~first & second).sum()), int((~first & ~second).sum()), confidence)


def fgsm_outcomes(model: Any, X: Any, y: Any, eps: float, clip: tuple[Any, Any], batch_size: int = 256) -> tuple[Any, Any]:
    """Per sample: classified correctly before, and after, FGSM at ``eps`` (model in eval mode)."""
    import numpy as np
    import torch

    from pytest_mlaudit.adapters import as_classifier
    from pytest_mlaudit import FGSM

    classifier = as_classifier(model)
    device = classifier.device
    bounds = tuple(torch.as_tensor(bound, dtype=torch.float32, device=device) for bound in clip)
    attack = FGSM(eps=eps)
    clean, robust = np.empty(len(X), dtype=bool), np.empty(len(X), dtype=bool)
    with classifier.audit_mode():
        for start in range(0, len(X), batch_size):
            xb = torch.as_tensor(np.ascontiguousarray(X[start:start + batch_size]), dtype=torch.float32).to(device)
            yb = torch.as_tensor(y[start:start + batch_size]).to(device)
            x_adv = attack.generate(classifier, xb, yb, bounds)
            with torch.no_grad():
                clean[start:start + len(xb)] = (classifier.logits(xb).argmax(1) == yb).cpu().numpy()
                robust[start:start + len(xb)] = (classifier.logits(x_adv).argmax(1) == yb).cpu().numpy()
    return clean, robust


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
