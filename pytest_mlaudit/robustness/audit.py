"""The robustness audit functions: measure clean and robust accuracy under an attack.

Robust accuracy is counted over *all* samples (a sample misclassified before the
attack counts as not robust), attack success rate over the correctly classified
ones only; each comes with its interval. Data is attacked batch by batch, so memory
follows the batch size, not the data set size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import validation
from ..adapters import as_classifier
from ..records import Check, Estimate
from ..recording import AuditCall, audit_call, resolve_policy, threshold_spec
from ..stats import paired_difference, proportion
from . import sanity


@dataclass(frozen=True)
class RobustnessResult:
    """What one robustness audit measured."""

    clean_accuracy: Estimate
    robust_accuracy: Estimate
    attack_success_rate: Estimate
    accuracy_drop: Estimate
    n: int
    attack: dict[str, Any]
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def suspect(self) -> bool:
        return any(not check.passed for check in self.checks)


def robustness(model, X, y, *, attack, clip, batch_size: int = 256, device: str | None = None,
               normalization=None, requirement=None) -> RobustnessResult:
    """Clean accuracy, robust accuracy, attack success rate and accuracy drop of ``model``.

    ``clip=(low, high)`` declares the input domain: ``X`` must lie inside it, and
    adversarial examples are clipped to it. ``normalization=(mean, std)`` is applied
    inside the model, so attacks run on raw inputs.
    """
    with audit_call("robustness", "robustness", requirement=requirement) as call:
        return _measure(call, model, X, y, attack, clip, batch_size, device, normalization)


def assert_robust_accuracy(model, X, y, *, attack, clip, at_least: float | None = None, at_most: float | None = None,
                           policy: str | None = None, batch_size: int = 256, device: str | None = None,
                           normalization=None, requirement=None) -> RobustnessResult:
    """Measure as :func:`robustness` does, record a gate on robust accuracy, fail on a miss."""
    op, threshold = threshold_spec(at_least, at_most)
    policy = resolve_policy(policy)
    with audit_call("robustness", "robust accuracy", requirement=requirement) as call:
        result = _measure(call, model, X, y, attack, clip, batch_size, device, normalization)
        call.gate("robust_accuracy", op, threshold, policy, requirement)
    return result


def _measure(call: AuditCall, model, X, y, attack, clip, batch_size, device, normalization) -> RobustnessResult:
    import numpy as np
    import torch

    X = validation.features(X, "X")
    y = validation.labels(y, X.shape[0], "y")
    low, high = validation.domain(clip)
    validation.check_in_domain(X, low, high)
    batch_size = validation.positive_int(batch_size, "batch_size")
    if not callable(getattr(attack, "generate", None)):
        raise TypeError(f"attack must be an attack object such as FGSM(eps=...), got {attack!r}")

    classifier = as_classifier(model, device=device, normalization=normalization)
    attack_params = attack.describe() if hasattr(attack, "describe") else {"attack": type(attack).__name__}
    call.record.name = f"{call.record.name} under {attack_label(attack_params)}"
    call.record.model = classifier.describe()
    call.record.data = validation.fingerprint(X, y)
    call.record.params = {
        **attack_params,
        "clip": [_jsonable(low), _jsonable(high)],
        "batch_size": batch_size,
        "device": str(classifier.device),
        "n_samples": int(X.shape[0]),
        "input_shape": list(X.shape[1:]),
    }

    dev = classifier.device
    clip_tensors = (torch.as_tensor(low, dtype=torch.float32, device=dev), torch.as_tensor(high, dtype=torch.float32, device=dev))
    clean_correct = np.empty(X.shape[0], dtype=bool)
    robust_correct = np.empty(X.shape[0], dtype=bool)
    checks: list[Check] = []
    with classifier.audit_mode():
        for start in range(0, X.shape[0], batch_size):
            xb = torch.as_tensor(np.ascontiguousarray(X[start:start + batch_size]), dtype=torch.float32).to(dev)
            yb = torch.as_tensor(y[start:start + batch_size]).to(dev)
            with torch.no_grad():
                clean_logits = classifier.logits(xb)
            if start == 0:
                sanity.refuse_probabilities(clean_logits)
                validation.check_labels_fit(y, clean_logits.shape[1])
                checks += [sanity.deterministic_forward(classifier, xb), sanity.nonzero_gradients(classifier, xb, yb)]
            x_adv = attack.generate(classifier, xb, yb, clip_tensors)
            with torch.no_grad():
                adv_logits = classifier.logits(x_adv)
            stop = start + xb.shape[0]
            clean_correct[start:stop] = (clean_logits.argmax(1) == yb).cpu().numpy()
            robust_correct[start:stop] = (adv_logits.argmax(1) == yb).cpu().numpy()

    result = summarize(clean_correct, robust_correct, call.settings.confidence, attack_params, tuple(checks))
    for name in ("clean_accuracy", "robust_accuracy", "attack_success_rate", "accuracy_drop"):
        call.metric(name, getattr(result, name))
    for check in checks:
        call.record.checks.append(check)
    return result


def summarize(clean_correct, robust_correct, confidence: float, attack: dict[str, Any], checks=()) -> RobustnessResult:
    """Estimates from per-sample outcomes before and after the attack."""
    import numpy as np

    n = int(clean_correct.size)
    both = int(np.count_nonzero(clean_correct & robust_correct))
    broken = int(np.count_nonzero(clean_correct & ~robust_correct))
    fixed = int(np.count_nonzero(~clean_correct & robust_correct))
    neither = n - both - broken - fixed
    clean = both + broken
    return RobustnessResult(
        clean_accuracy=proportion(clean, n, confidence),
        robust_accuracy=proportion(both + fixed, n, confidence),
        attack_success_rate=proportion(broken, clean, confidence),
        accuracy_drop=paired_difference(both, broken, fixed, neither, confidence),
        n=n,
        attack=attack,
        checks=checks,
    )


def attack_label(params: dict[str, Any]) -> str:
    label = str(params.get("attack", "attack"))
    if "eps" in params:
        label += f" (eps={params['eps']:.4g}, {params.get('norm', 'Linf')})"
    return label


def _jsonable(bound) -> float | list:
    return float(bound) if bound.ndim == 0 else bound.tolist()
