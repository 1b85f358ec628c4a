"""Universal adversarial perturbations: one perturbation, added to every input, that
changes the model's answer on as many inputs as possible (Moosavi-Dezfooli et al. 2017).

The perturbation is crafted on ``X_craft`` and measured on ``X``: the fooling rate is
the share of samples of ``X`` whose predicted class changes when it is added (ART's
definition), a proportion with its Wilson interval; the perturbed input is clipped to
the declared domain. Crafted on the very samples it is measured on, the rate would
describe those samples only, so an audit without a separate ``X_craft`` is marked
suspect.

Crafting is native, by stochastic gradient ascent on the batch loss (SGD-UAP, Shafahi
et al. 2020 "Universal adversarial training"): each step moves the single perturbation
along the sign (L-inf) or the direction (L2) of the gradient of the mean cross-entropy
against the clean predictions, each sample's loss clamped at ``LOSS_CLAMP`` so that
inputs already fooled do not dominate, then projects it back onto the eps-ball; the
perturbation after the last epoch is the result. We do
not use ART's ``UniversalPerturbation``: it runs its inner attack (DeepFool by default)
one sample at a time in a Python loop and recomputes the fooling rate over the whole set
after each pass, which is one batched gradient step per batch here;
``benchmarks/universal_speed.py`` measures both, time and fooling rate, in one run.

A random perturbation of the same size (a random sign vector scaled to eps for L-inf,
a random direction of length eps for L2) is measured beside it: an attack that fools
no more than random noise has not worked (Carlini et al. 2019).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import extras, validation
from ..authoring import Audit, audit
from ..dependencies import require
from ..records import Check, Estimate, SanityChecked
from ..stats import proportion
from . import geometry
from .audit import set_up

LOSS_CLAMP = 10.0


@dataclass(frozen=True)
class UniversalPerturbationResult(SanityChecked):
    """What one universal-perturbation audit measured on ``X``."""

    fooling_rate: Estimate
    random_fooling_rate: Estimate  # a random perturbation of the same size
    clean_accuracy: Estimate | None  # when labels are given
    perturbed_accuracy: Estimate | None
    perturbation: Any  # numpy array shaped like one sample
    eps: float
    norm: str
    dominant_label: int  # the commonest prediction on the fooled samples
    dominant_share: float
    checks: tuple[Check, ...] = field(default_factory=tuple)


def universal_perturbation(model, X, y=None, *, eps: float, clip, X_craft=None, norm="inf", epochs: int = 10,
                           step_size: float | None = None, craft_batch_size: int = 32, batch_size: int = 256,
                           device: str | None = None, normalization=None, requirement=None) -> UniversalPerturbationResult:
    """The fooling rate on ``X`` of one perturbation of size ``eps`` crafted on ``X_craft``.

    ``clip`` declares the input domain as in :func:`pytest_mlaudit.robustness`; ``y``
    (optional) adds clean and perturbed accuracy. ``step_size`` defaults to eps / 10; each
    crafting step takes ``craft_batch_size`` samples (small batches: more steps per pass),
    measuring takes ``batch_size``.
    """
    label = geometry.norm_label(geometry.norm_name(norm))
    with audit("robustness", f"universal perturbation (eps={eps:g}, {label})", requirement=requirement) as a:
        return _measure(a, model, X, y, eps, clip, X_craft, norm, epochs, step_size, craft_batch_size, batch_size,
                        device, normalization)


def assert_universal_fooling_rate(model, X, y=None, *, eps: float, clip, at_most: float, X_craft=None, norm="inf",
                                  epochs: int = 10, step_size: float | None = None, craft_batch_size: int = 32,
                                  batch_size: int = 256,
                                  device: str | None = None, normalization=None, policy: str | None = None,
                                  requirement=None) -> UniversalPerturbationResult:
    """Measure as :func:`universal_perturbation` does and gate the fooling rate."""
    label = geometry.norm_label(geometry.norm_name(norm))
    with audit("robustness", f"universal fooling rate (eps={eps:g}, {label})", requirement=requirement) as a:
        a.gate("fooling_rate", at_most=at_most, policy=policy, requirement=requirement, bounds=(0.0, 1.0))
        return _measure(a, model, X, y, eps, clip, X_craft, norm, epochs, step_size, craft_batch_size, batch_size,
                        device, normalization)


def _measure(a: Audit, model, X, y, eps, clip, X_craft, norm, epochs, step_size, craft_batch_size, batch_size,
             device, normalization) -> UniversalPerturbationResult:
    require("torch", "robustness")
    import torch

    norm = geometry.norm_name(norm)
    eps = geometry.budget(eps, "eps")
    if eps == 0:
        raise ValueError("eps must be positive: a perturbation of size 0 fools nothing")
    step_size = eps / 10 if step_size is None else geometry.budget(step_size, "step_size")
    epochs = validation.positive_int(epochs, "epochs")
    craft_batch_size = validation.positive_int(craft_batch_size, "craft_batch_size")
    X = validation.features(X, "X")
    labelled = y is not None
    y_checked = validation.labels(y, len(X), "y", "X") if labelled else np.zeros(len(X), dtype=np.int64)
    audited = set_up(model, X, y_checked, clip, batch_size, device, normalization)
    classifier = audited.classifier
    if not classifier.differentiable:
        raise TypeError("the universal perturbation is crafted by gradient ascent: model must be a torch module or a "
                        f"differentiable model, got {type(model).__name__} (black-box)")
    held_out = X_craft is not None
    if held_out:
        X_craft = validation.features(X_craft, "X_craft")
        validation.check_same_rows(X_craft, X, "X_craft", "X")
        low, high = audited.bounds
        validation.check_in_domain(X_craft, low, high, "X_craft")
    else:
        X_craft = X
    seed = a.seed("crafting")
    generator = torch.Generator().manual_seed(seed)
    dev = classifier.device

    with classifier.audit_mode():
        craft_labels = _predictions(classifier, X_craft, None, audited)
        delta, history = _craft(classifier, X_craft, craft_labels, audited, eps, norm, step_size, epochs,
                                craft_batch_size, generator)
        random_delta = _random_perturbation(X.shape[1:], eps, norm, generator)
        clean = _predictions(classifier, X, None, audited)
        perturbed = _predictions(classifier, X, delta.to(dev), audited)
        noisy = _predictions(classifier, X, random_delta.to(dev), audited)

    confidence = a.settings.confidence
    fooled = perturbed != clean
    fooling_rate = proportion(int(fooled.sum()), len(X), confidence)
    random_rate = proportion(int((noisy != clean).sum()), len(X), confidence)
    clean_accuracy = proportion(int((clean == y_checked).sum()), len(X), confidence) if labelled else None
    perturbed_accuracy = proportion(int((perturbed == y_checked).sum()), len(X), confidence) if labelled else None
    destinations, counts = np.unique(perturbed[fooled], return_counts=True)
    dominant = int(destinations[np.argmax(counts)]) if fooled.any() else -1
    dominant_share = float(counts.max() / fooled.sum()) if fooled.any() else 0.0
    size = float(geometry.perturbation_size(delta[None], norm)[0])
    overlap = _shared_rows(X_craft, X) if held_out else len(X)
    checks = (
        Check("crafted on other samples than measured", held_out and overlap == 0,
              "crafted on X_craft, disjoint from X" if held_out and overlap == 0 else
              f"{overlap} of the {len(X)} measured samples were also used to craft the perturbation: the fooling "
              "rate describes those samples, not new inputs" + ("" if held_out else "; pass X_craft=")),
        Check("perturbation within eps", size <= eps * (1 + 1e-5), f"size {size:.6g} ({geometry.norm_label(norm)}), "
                                                                  f"eps {eps:g}"),
        Check("random perturbation weaker than the attack", random_rate.value <= fooling_rate.value,
              f"random perturbation of the same size fools {random_rate.value:.3f}, the crafted one "
              f"{fooling_rate.value:.3f}"),
    )

    a.describe_model(classifier.describe())
    a.describe_data({"X": (X, y_checked) if labelled else X, **({"X_craft": X_craft} if held_out else {})})
    low, high = audited.bounds
    a.params.update({
        "threat_model": "one input-agnostic perturbation, added to every input (white-box crafting, gradients)",
        "attack": "native SGD-UAP (Shafahi et al. 2020): sign/direction steps on the clamped mean cross-entropy, "
                  "projected onto the eps-ball",
        "eps": eps, "norm": geometry.norm_label(norm), "step_size": step_size, "epochs": epochs,
        "craft_batch_size": craft_batch_size, "batch_size": audited.batch_size, "loss_clamp": LOSS_CLAMP, "seed": seed,
        "clip": [_jsonable(low), _jsonable(high)],
        "n_samples": int(len(X)), "n_craft": int(len(X_craft)), "crafted_on": "X_craft" if held_out else "X itself",
        "fooling_rate": "share of samples whose predicted class changes (ART's definition)",
        "perturbation_size": size,
    })
    a.metric("fooling_rate", fooling_rate)
    a.metric("random_fooling_rate", random_rate)
    if labelled:
        a.metric("clean_accuracy", clean_accuracy)
        a.metric("perturbed_accuracy", perturbed_accuracy)
    for check in checks:
        a.check(check.name, check.passed, check.detail)
    _charts(a, clean, perturbed, y_checked if labelled else None, history, confidence, destinations, counts)
    return UniversalPerturbationResult(fooling_rate, random_rate, clean_accuracy, perturbed_accuracy,
                                       delta.cpu().numpy(), eps, geometry.norm_label(norm), dominant, dominant_share,
                                       checks)


def _predictions(classifier, X, delta, audited):
    """Predicted classes of ``X`` (plus ``delta``, clipped to the domain), batch by batch."""
    import torch

    low, high = audited.clip
    out = []
    with torch.no_grad():
        for start in range(0, len(X), audited.batch_size):
            x = torch.as_tensor(np.ascontiguousarray(X[start:start + audited.batch_size]), dtype=torch.float32,
                                device=classifier.device)
            if delta is not None:
                x = torch.max(torch.min(x + delta, high), low)
            out.append(classifier.logits(x).argmax(dim=1).cpu().numpy())
    return np.concatenate(out)


def _craft(classifier, X, labels, audited, eps, norm, step_size, epochs, batch_size, generator):
    """SGD-UAP: the perturbation after ``epochs`` passes over ``X``, and each epoch's running fooling rate.

    The running rate counts, batch by batch, the samples the perturbation of that moment
    fools (read off the logits the step computes anyway): a progress measure, not the
    audit's estimate.
    """
    import torch

    low, high = audited.clip
    dev = classifier.device
    delta = torch.zeros((1, *X.shape[1:]), dtype=torch.float32, device=dev)
    targets = torch.as_tensor(labels, device=dev)
    history = []
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator).numpy()
        fooled = 0
        for start in range(0, len(X), batch_size):
            rows = order[start:start + batch_size]
            x = torch.as_tensor(np.ascontiguousarray(X[rows]), dtype=torch.float32, device=dev)
            delta.requires_grad_(True)
            logits = classifier.logits(torch.max(torch.min(x + delta, high), low))
            loss = torch.nn.functional.cross_entropy(logits, targets[rows], reduction="none").clamp(max=LOSS_CLAMP)
            (grad,) = torch.autograd.grad(loss.mean(), delta)
            fooled += int((logits.argmax(dim=1) != targets[rows]).sum())
            delta = geometry.project(delta.detach() + step_size * geometry.direction(grad, norm), eps, norm)
        history.append(fooled / len(X))
    return delta[0], history


def _random_perturbation(shape, eps, norm, generator):
    """A random perturbation of size eps: random signs (L-inf, a corner of the cube) or a random direction (L2)."""
    import torch

    if norm == "inf":
        return (torch.randint(0, 2, tuple(shape), generator=generator) * 2 - 1).float() * eps
    flat = torch.randn(int(np.prod(shape)), generator=generator)
    return (flat / flat.norm() * eps).reshape(tuple(shape))


def _shared_rows(X_a, X_b) -> int:
    rows = {row.tobytes() for row in np.ascontiguousarray(X_a.reshape(len(X_a), -1))}
    return sum(row.tobytes() in rows for row in np.ascontiguousarray(X_b.reshape(len(X_b), -1)))


def _jsonable(bound) -> Any:
    return float(bound) if np.ndim(bound) == 0 else np.asarray(bound).tolist()


def _charts(a: Audit, clean, perturbed, y, history, confidence, destinations, counts) -> None:
    groups = y if y is not None else clean
    bars = []
    for label in np.unique(groups):
        rows = groups == label
        estimate = proportion(int((perturbed[rows] != clean[rows]).sum()), int(rows.sum()), confidence)
        bars.append(extras.Bar(str(label), estimate.value, estimate.low, estimate.high))
    a.extra(extras.Bars("Fooling rate by " + ("true class" if y is not None else "clean prediction"),
                        metric="fooling rate", bars=bars))
    a.extra(extras.Curve("Crafting: running fooling rate per epoch", x_label="epoch",
                         y_label="fooling rate", series=[extras.Series("crafting samples",
                                                                       x=list(range(1, len(history) + 1)),
                                                                       y=list(history))]))
    if len(destinations):
        a.extra(extras.Table("Where the fooled samples go (prediction under the perturbation)",
                             columns=["predicted class", "fooled samples", "share"],
                             rows=[[str(d), int(c), round(float(c) / float(counts.sum()), 4)]
                                   for d, c in sorted(zip(destinations, counts), key=lambda dc: -dc[1])]))
