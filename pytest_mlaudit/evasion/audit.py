"""The robustness audit functions: measure clean and robust accuracy under an attack.

Robust accuracy is counted over *all* samples (a sample misclassified before the
attack counts as not robust, and is not attacked), attack success rate over the
correctly classified ones only; each comes with its interval. Data is attacked batch
by batch, so memory follows the batch size, not the data set size. Every audit runs
the sanity checks of :mod:`.sanity` on a bounded subsample.

The measuring loop, :func:`attack_outcomes`, is shared with the robustness curves of
:mod:`.curves`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_mlaudit.dependencies import require

from .. import validation
from ..progress import Task
from ..adapters import as_classifier
from ..records import Check, Estimate, SanityChecked
from ..recording import AuditCall, audit_call, resolve_policy, threshold_spec
from ..stats import paired_difference, proportion
from . import sanity
from .attacks import FGSM, describe_attack, run_attack

SANITY_SAMPLES = 32


@dataclass(frozen=True)
class RobustnessResult(SanityChecked):
    """What one robustness audit measured."""

    clean_accuracy: Estimate
    robust_accuracy: Estimate
    attack_success_rate: Estimate
    accuracy_drop: Estimate
    n: int
    attack: dict[str, Any]
    checks: tuple[Check, ...] = field(default_factory=tuple)


def robustness(model, X, y, *, attack, clip, batch_size: int = 256, device: str | None = None,
               normalization=None, requirement=None, sanity_samples: int = SANITY_SAMPLES,
               strict: bool = False) -> RobustnessResult:
    """Clean accuracy, robust accuracy, attack success rate and accuracy drop of ``model``.

    ``clip=(low, high)`` declares the input domain, as two numbers or per-feature
    arrays (see :func:`feature_range` for tabular data): ``X`` must lie inside it,
    and adversarial examples are clipped to it. ``normalization=(mean, std)`` is
    applied inside the model, so attacks run on raw inputs. The sanity checks run on
    up to ``sanity_samples`` samples (0 turns them off); ``strict=True`` makes a
    failed check fail the audit.
    """
    with audit_call("robustness", "robustness", requirement=requirement) as call:
        return _measure(call, model, X, y, attack, clip, batch_size, device, normalization, sanity_samples, strict)


def assert_robust_accuracy(model, X, y, *, attack, clip, at_least: float | None = None, at_most: float | None = None,
                           policy: str | None = None, batch_size: int = 256, device: str | None = None,
                           normalization=None, requirement=None, sanity_samples: int = SANITY_SAMPLES,
                           strict: bool = False) -> RobustnessResult:
    """Measure as :func:`robustness` does, record a gate on robust accuracy, fail on a miss."""
    op, threshold = threshold_spec(at_least, at_most)
    policy = resolve_policy(policy)
    with audit_call("robustness", "robust accuracy", requirement=requirement) as call:
        result = _measure(call, model, X, y, attack, clip, batch_size, device, normalization, sanity_samples, strict)
        call.gate("robust_accuracy", op, threshold, policy, requirement)
    return result


def feature_range(X_train, margin: float = 0.0) -> tuple[Any, Any]:
    """Per-feature bounds ``(low, high)`` of the training data, for ``clip=`` on tabular data.

    The domain of a tabular model is where its training data lives: attacks are
    clipped to it feature by feature. ``margin`` widens each range by that fraction
    of its width on both sides (e.g. 0.05 to admit test data slightly outside it).
    """
    import numpy as np

    X_train = validation.features(X_train, "X_train")
    margin = validation.positive_number(margin, "margin")
    low, high = X_train.min(axis=0).astype(np.float64), X_train.max(axis=0).astype(np.float64)
    width = np.where(high > low, high - low, 1.0)
    return low - margin * width, high + margin * width


@dataclass
class Audited:
    """A validated audit set-up: the data, the adapted model and the domain as tensors."""

    X: Any
    y: Any
    classifier: Any
    clip: tuple[Any, Any]
    batch_size: int


def prepare(call: AuditCall, model, X, y, clip, batch_size, device, normalization, attack: dict[str, Any],
            sanity_samples: int, strict: bool) -> Audited:
    """Validate the inputs, adapt the model and fill the record's model, data and params."""
    import torch

    X = validation.features(X, "X")
    y = validation.labels(y, X.shape[0], "y")
    low, high = validation.domain(clip)
    _check_domain_shape(low, high, X)
    validation.check_in_domain(X, low, high)
    batch_size = validation.positive_int(batch_size, "batch_size")
    sanity_samples = validation.positive_int(sanity_samples, "sanity_samples", allow_zero=True)
    strict = validation.flag(strict, "strict")
    classifier = as_classifier(model, device=device, normalization=normalization)
    call.record.model = classifier.describe()
    call.record.data = validation.fingerprint(X, y)
    call.record.params = {
        **attack,
        "clip": [_jsonable(low), _jsonable(high)],
        "batch_size": batch_size,
        "device": str(classifier.device),
        "n_samples": int(X.shape[0]),
        "input_shape": list(X.shape[1:]),
        "sanity_samples": sanity_samples,
        "strict": bool(strict),
    }
    dev = classifier.device
    clip_tensors = (torch.as_tensor(low, dtype=torch.float32, device=dev), torch.as_tensor(high, dtype=torch.float32, device=dev))
    return Audited(X, y, classifier, clip_tensors, batch_size)


def _check_domain_shape(low, high, X) -> None:
    import numpy as np

    for bound in (low, high):
        try:
            fits = np.broadcast_shapes(bound.shape, X.shape[1:]) == X.shape[1:]
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"clip bounds of shape {bound.shape} do not fit samples of shape {X.shape[1:]}: give two numbers "
                f"or per-feature arrays shaped like one sample (or broadcastable to it)"
            )


def attack_outcomes(audited: Audited, attacks: list[Any], generator: Any, label: str = "attack") -> tuple[Any, list[Any]]:
    """Which samples are classified correctly, clean and under each attack.

    ``attacks`` are in order of increasing strength (the eps of a curve): a sample
    broken by one is not attacked by the next, so its robustness is cumulative. An
    all-FGSM sweep on a differentiable model takes one gradient pass per batch
    (which also gives the clean logits) and one forward pass per eps. Progress is
    reported per batch under ``label`` (shown only when the work takes seconds).
    """
    import numpy as np
    import torch

    X, y, classifier, clip = audited.X, audited.y, audited.classifier, audited.clip
    fgsm_sweep = classifier.differentiable and all(type(attack) is FGSM for attack in attacks)
    clean_correct = np.zeros(len(X), dtype=bool)
    robust = [np.zeros(len(X), dtype=bool) for _ in attacks]
    batches = range(0, len(X), audited.batch_size)
    with classifier.audit_mode(), Task(f"{label}, {len(X):,} samples: batch", len(batches)) as task:
        for start in batches:
            xb = torch.as_tensor(np.ascontiguousarray(X[start:start + audited.batch_size]), dtype=torch.float32)
            xb, yb = xb.to(classifier.device), torch.as_tensor(y[start:start + len(xb)]).to(classifier.device)
            if start == 0:
                _probe(classifier, xb, y)
            if fgsm_sweep:
                logits, grad = classifier.logits_and_gradient(xb, yb)
            else:
                with torch.no_grad():
                    logits = classifier.logits(xb)
            remaining = (logits.argmax(1) == yb).nonzero().squeeze(1)
            clean_correct[start + remaining.cpu().numpy()] = True
            for outcome, attack in zip(robust, attacks):
                if len(remaining):
                    if fgsm_sweep:
                        x_adv = attack.step(xb[remaining], grad[remaining], clip)
                    else:
                        x_adv = run_attack(attack, classifier, xb[remaining], yb[remaining], clip, generator)
                    with torch.no_grad():
                        remaining = remaining[classifier.logits(x_adv).argmax(1) == yb[remaining]]
                outcome[start + remaining.cpu().numpy()] = True
            task.advance()
    return clean_correct, robust


def _probe(classifier: Any, xb: Any, y: Any) -> None:
    """One small forward pass that turns a model/data mismatch into a clear error."""
    import torch

    try:
        with torch.no_grad():
            logits = classifier.logits(xb[:8])
    except Exception as exc:
        raise ValueError(
            f"model could not be applied to X (samples of shape {tuple(xb.shape[1:])}): {type(exc).__name__}: {exc}"
        ) from exc
    sanity.refuse_probabilities(logits)
    validation.check_labels_fit(y, logits.shape[1])


def run_checks(call: AuditCall, audited: Audited, attack: Any, clean_correct, robust_correct, sanity_samples: int,
               strict: bool) -> tuple[Check, ...]:
    """The sanity checks on the first correctly classified samples; recorded, and gates when strict."""
    import numpy as np
    import torch

    chosen = np.flatnonzero(clean_correct)[:sanity_samples]
    if len(chosen) == 0:
        return ()
    classifier = audited.classifier
    x = torch.as_tensor(np.ascontiguousarray(audited.X[chosen]), dtype=torch.float32).to(classifier.device)
    y = torch.as_tensor(audited.y[chosen]).to(classifier.device)
    generator = torch.Generator().manual_seed(call.seed("sanity"))
    with classifier.audit_mode():
        checks = sanity.evaluation_checks(classifier, describe_attack(attack), x, y, robust_correct[chosen],
                                          audited.clip, generator)
    for check in checks:
        call.record.checks.append(check)
        if strict and not check.passed:
            call.misses.append(f"{call.record.name}: sanity check '{check.name}' failed (strict=True): {check.detail}")
    return tuple(checks)


def attack_generator(call: AuditCall) -> Any:
    import torch

    seed = call.seed("attack")
    call.record.params["seed"] = seed
    return torch.Generator().manual_seed(seed)


def _measure(call: AuditCall, model, X, y, attack, clip, batch_size, device, normalization, sanity_samples,
             strict) -> RobustnessResult:
    require("torch", "robustness")
    if not callable(getattr(attack, "generate", None)):
        raise TypeError(f"attack must be an attack object such as FGSM(eps=...), got {attack!r}")
    attack_params = describe_attack(attack)
    call.record.name = f"{call.record.name} under {attack_label(attack_params)}"
    audited = prepare(call, model, X, y, clip, batch_size, device, normalization, attack_params, sanity_samples, strict)
    clean_correct, (robust_correct,) = attack_outcomes(audited, [attack], attack_generator(call), call.record.name)
    checks = run_checks(call, audited, attack, clean_correct, robust_correct, sanity_samples, strict)
    result = summarize(clean_correct, robust_correct, call.settings.confidence, attack_params, checks)
    for name in ("clean_accuracy", "robust_accuracy", "attack_success_rate", "accuracy_drop"):
        call.metric(name, getattr(result, name))
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
    if params.get("eps") is not None:
        label += f" (eps={params['eps']:.4g}, {params.get('norm', 'Linf')})"
    return label


def _jsonable(bound) -> float | list:
    return float(bound) if bound.ndim == 0 else bound.tolist()
