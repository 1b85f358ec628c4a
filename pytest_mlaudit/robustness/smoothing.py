"""Certified accuracy by randomized smoothing (Cohen, Rosenfeld & Kolter, ICML 2019).

The smoothed classifier ``g(x) = argmax_c P(f(x + delta) = c)``, ``delta ~ N(0,
sigma^2 I)``, is provably constant within an L2 ball around ``x``. CERTIFY guesses
the top class from ``n0`` noisy copies, counts it in ``n`` fresh ones, and takes the
one-sided Clopper-Pearson lower bound ``pA`` of its probability at level ``alpha``:
if ``pA > 1/2``, ``g`` predicts that class at every point within
``R = sigma * Phi^-1(pA)`` of ``x``; otherwise it abstains. The guarantee fails for
a given sample with probability at most ``alpha`` (over the noise draws), whatever
the model and whatever the attack: certified accuracy is a *lower* bound on the
smoothed classifier's robust accuracy, where an attack gives an upper one.

Certified accuracy at radius ``r`` is the fraction of all samples on which ``g`` is
correct with ``R >= r`` (an abstention counts as wrong); its interval (Wilson, over
the test samples) covers the sampling of the test set. Noise is not clipped to the
input domain: the guarantee is about ``f`` on ``x + delta`` as drawn. Memory: one
batch of ``batch_size`` noisy copies at a time, whatever ``n``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import validation
from ..adapters import as_classifier
from ..authoring import Audit, audit
from ..dependencies import require
from ..extras import Curve, Series
from ..progress import Task
from ..records import Check, Estimate
from ..stats import proportion

GUARANTEE = ("randomized smoothing (Cohen et al. 2019): each certified sample keeps the smoothed classifier's "
             "prediction within L2 radius R = sigma * Phi^-1(pA), pA the one-sided Clopper-Pearson bound; the "
             "guarantee fails for a sample with probability at most alpha over the noise draws")


@dataclass(frozen=True)
class CertifiedResult:
    """What certification measured: certified accuracy at each radius, the abstention rate."""

    radii: tuple[float, ...]
    certified_accuracy: tuple[Estimate, ...]
    abstention_rate: Estimate
    sigma: float
    alpha: float
    n: int
    n_noise: int
    max_certifiable_radius: float
    radius_per_sample: tuple[float, ...]  # 0.0 where wrong or abstaining
    checks: tuple[Check, ...] = ()

    def at(self, radius: float) -> Estimate:
        """Certified accuracy at ``radius`` (one of ``radii``)."""
        for r, estimate in zip(self.radii, self.certified_accuracy):
            if math.isclose(r, radius):
                return estimate
        raise KeyError(f"radius {radius!r} was not certified; certified radii: {list(self.radii)}")


def certified_accuracy(model, X, y, *, sigma: float, radii=(0.0, 0.25, 0.5, 0.75, 1.0), n0: int = 100,
                       n: int = 10_000, alpha: float = 0.001, batch_size: int = 1000, device: str | None = None,
                       normalization=None, requirement=None) -> CertifiedResult:
    """Certified accuracy of ``model`` smoothed with Gaussian noise of std ``sigma``, at each L2 radius in ``radii``."""
    with audit("robustness", f"certified accuracy (randomized smoothing, sigma={sigma:g})",
               requirement=requirement) as a:
        return _certify(a, model, X, y, sigma, radii, n0, n, alpha, batch_size, device, normalization, None)


def assert_certified_accuracy(model, X, y, *, sigma: float, radius: float, at_least: float | None = None,
                              at_most: float | None = None, policy: str | None = None, radii=(), n0: int = 100,
                              n: int = 10_000, alpha: float = 0.001, batch_size: int = 1000,
                              device: str | None = None, normalization=None, requirement=None) -> CertifiedResult:
    """Certify as :func:`certified_accuracy` does, gate ``certified_accuracy`` at ``radius``, fail on a miss."""
    with audit("robustness", f"certified accuracy at L2 radius {radius:g} (randomized smoothing, sigma={sigma:g})",
               requirement=requirement) as a:
        a.gate("certified_accuracy", at_least=at_least, at_most=at_most, policy=policy, bounds=(0.0, 1.0))
        return _certify(a, model, X, y, sigma, radii, n0, n, alpha, batch_size, device, normalization, radius)


def certify(classifier: Any, x: Any, n0: int, n: int, sigma: float, alpha: float, batch_size: int,
            generator: Any) -> tuple[int, float]:
    """CERTIFY for one sample ``x`` (a tensor): the predicted class and its certified radius, or ``(-1, 0.0)``."""
    from scipy.stats import beta, norm

    guess = int(np.argmax(noisy_counts(classifier, x, n0, sigma, batch_size, generator)))
    top = int(noisy_counts(classifier, x, n, sigma, batch_size, generator)[guess])
    p_lower = float(beta.ppf(alpha, top, n - top + 1)) if top > 0 else 0.0
    if p_lower <= 0.5:
        return -1, 0.0
    return guess, sigma * float(norm.ppf(p_lower))


def noisy_counts(classifier: Any, x: Any, draws: int, sigma: float, batch_size: int, generator: Any) -> Any:
    """How often ``classifier`` predicts each class on ``draws`` copies of ``x`` plus N(0, sigma^2) noise."""
    import torch

    counts = None
    remaining = draws
    with torch.no_grad():
        while remaining > 0:
            size = min(batch_size, remaining)
            noise = torch.randn((size, *x.shape), generator=generator).to(x.device) * sigma
            logits = classifier.logits(x.unsqueeze(0) + noise)
            found = torch.bincount(logits.argmax(1), minlength=logits.shape[1]).cpu().numpy()
            counts = found if counts is None else counts + found
            remaining -= size
    return counts


def max_certifiable_radius(sigma: float, n: int, alpha: float) -> float:
    """The largest radius ``n`` draws can certify (all ``n`` agree): ``sigma * Phi^-1(alpha ** (1 / n))``."""
    from scipy.stats import norm

    return sigma * float(norm.ppf(alpha ** (1.0 / n)))


def _certify(a: Audit, model, X, y, sigma, radii, n0, n, alpha, batch_size, device, normalization,
             gated_radius) -> CertifiedResult:
    require("torch", "robustness")
    import torch

    X = validation.features(X, "X")
    y = validation.labels(y, X.shape[0], "y")
    sigma = validation.positive_number(sigma, "sigma", allow_zero=False)
    radii = _radii(radii, gated_radius)
    n0 = validation.positive_int(n0, "n0")
    n = validation.positive_int(n, "n")
    alpha = validation.positive_number(alpha, "alpha", allow_zero=False)
    if alpha >= 1:
        raise ValueError(f"alpha must be in (0, 1) (the failure probability of each certificate), got {alpha!r}")
    batch_size = validation.positive_int(batch_size, "batch_size")
    classifier = as_classifier(model, device=device, normalization=normalization)
    a.describe_model(classifier.describe())
    a.describe_data((X, y))
    seed = a.seed("smoothing noise")
    reach = max_certifiable_radius(sigma, n, alpha)
    a.params.update({"method": "randomized smoothing (Cohen et al. 2019), CERTIFY", "norm": "L2", "sigma": sigma,
                     "radii": list(radii), "n0": n0, "n": n, "alpha": alpha, "batch_size": batch_size,
                     "n_samples": int(X.shape[0]), "seed": seed, "guarantee": GUARANTEE,
                     "max_certifiable_radius": reach, "device": str(classifier.device)})
    generator = torch.Generator().manual_seed(seed)
    predictions, radius = np.full(len(X), -1), np.zeros(len(X))
    with classifier.audit_mode(), Task(f"{a.name}, {len(X):,} samples x {n0 + n:,} noisy copies: sample",
                                       len(X)) as task:
        for i in range(len(X)):
            x = torch.as_tensor(np.asarray(X[i], dtype=np.float32)).to(classifier.device)
            if i == 0:
                _probe(classifier, x, y)
            predictions[i], radius[i] = certify(classifier, x, n0, n, sigma, alpha, batch_size, generator)
            task.advance()
    correct = predictions == y
    confidence = a.settings.confidence
    estimates = tuple(proportion(int(np.count_nonzero(correct & (radius >= r))), len(X), confidence) for r in radii)
    abstained = proportion(int(np.count_nonzero(predictions == -1)), len(X), confidence)
    for r, estimate in zip(radii, estimates):
        a.metric(f"certified_accuracy@r={r:g}", estimate)
    a.metric("certified_accuracy",
             estimates[radii.index(gated_radius)] if gated_radius is not None else estimates[0])
    a.metric("abstention_rate", abstained)
    reach_check = a.check("radii within what n can certify", max(radii) <= reach,
            f"with n={n:,} and alpha={alpha:g} no radius beyond {reach:.3g} can be certified (all draws agreeing); "
            f"largest radius asked: {max(radii):g}")
    a.extra(Curve(title=f"Certified accuracy (randomized smoothing, sigma={sigma:g}, alpha={alpha:g})",
                  x_label="L2 radius", y_label="certified accuracy",
                  series=[Series("certified", list(radii), [e.value for e in estimates],
                                 [e.low for e in estimates], [e.high for e in estimates])]))
    return CertifiedResult(radii=radii, certified_accuracy=estimates, abstention_rate=abstained, sigma=sigma,
                           alpha=alpha, n=int(len(X)), n_noise=n, max_certifiable_radius=reach,
                           radius_per_sample=tuple(float(r) if c else 0.0 for r, c in zip(radius, correct)),
                           checks=(reach_check,))


def _radii(radii, gated_radius) -> tuple[float, ...]:
    """The radii to certify, sorted, with the gated one among them."""
    if isinstance(radii, (int, float)):
        radii = [radii]
    try:
        values = [validation.positive_number(r, "radii") for r in radii]
    except TypeError:
        raise TypeError(f"radii must be a sequence of numbers >= 0 (L2 radii), got {radii!r}") from None
    if gated_radius is not None:
        values.append(validation.positive_number(gated_radius, "radius"))
    if not values:
        raise ValueError("radii must hold at least one radius (a number >= 0)")
    return tuple(sorted(set(float(v) for v in values)))


def _probe(classifier: Any, x: Any, y: Any) -> None:
    import torch

    try:
        with torch.no_grad():
            logits = classifier.logits(x.unsqueeze(0))
    except Exception as exc:
        raise ValueError(f"model could not be applied to X (samples of shape {tuple(x.shape)}): "
                         f"{type(exc).__name__}: {exc}") from exc
    validation.check_labels_fit(y, logits.shape[1])
