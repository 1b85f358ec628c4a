"""The likelihood-ratio attack, LiRA (Carlini et al., "Membership Inference Attacks
From First Principles", IEEE S&P 2022), for :func:`~pytest_mlaudit.membership_inference`.

The loss-threshold attack compares every sample's loss with one global threshold, but
some samples are hard (high loss whether trained on or not) and others easy. LiRA asks,
per sample, how the model's confidence on it is distributed when the sample is in the
training set and when it is not, by training *shadow models* the way the target was:

1. The pool is the target's members, its holdout and an optional extra ``population``
   from the same distribution. Each shadow model trains on a random half of the pool,
   so that every pool sample is IN exactly half of the shadows (the paper's design).
2. Each shadow scores every pool sample by the logit-scaled confidence of its true
   label, ``phi = log(p_y / (1 - p_y))`` (:func:`~.scores.logit_confidence`), which the
   paper shows is close to Gaussian.
3. Per sample, Gaussians are fitted to the IN and OUT confidences (mean and variance,
   Algorithm 1). The paper suggests one global variance when there are few shadows
   (for its CIFAR models); on the tabular models of our tests the per-sample variance
   was the stronger attack at 8 and 16 shadows too (TPR at 1% FPR 0.26 against 0.07
   for a global one, random forest, 8 shadows), so we keep Algorithm 1 as it is.
4. Online LiRA scores the target's confidence by the log likelihood ratio
   ``log N(phi; mu_in, s_in^2) - log N(phi; mu_out, s_out^2)``. Offline LiRA uses the
   OUT shadows only: the one-sided ``log P[Z < phi]``, ``Z ~ N(mu_out, s_out^2)``.

We query each sample once (the paper also averages over augmentations of images; for
tabular data there are none). Cost: ``n_shadow`` trainings of the user's model on half
the pool, and ``n_shadow + 1`` scorings of the pool; memory ``n_shadow x pool`` floats.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.stats import norm

from ..progress import Task
from .scores import logit_confidence

SMALLEST_STD = 1e-6  # confidences that never vary (a tree's 0/1 probabilities) still give finite ratios
MIN_SHADOWS = 4
SHADOW_SIZE_TOLERANCE = 0.25  # shadow training sets within 25% of the target's size


def check_shadow_count(n_shadow) -> int:
    if isinstance(n_shadow, bool) or not isinstance(n_shadow, (int, np.integer)):
        raise TypeError(f"n_shadow must be an even integer of at least {MIN_SHADOWS}, got {n_shadow!r}")
    if n_shadow < MIN_SHADOWS or n_shadow % 2:
        raise ValueError(f"n_shadow must be an even integer of at least {MIN_SHADOWS} (each sample is IN half the "
                         f"shadow models), got {n_shadow}")
    return int(n_shadow)


def inclusion_matrix(n_shadow: int, n_points: int, seed: int):
    """``keep[s, i]``: whether shadow ``s`` trains on pool sample ``i``; each sample is IN exactly half the shadows."""
    rng = np.random.default_rng(seed)
    order = rng.uniform(size=(n_shadow, n_points)).argsort(axis=0)
    return order < n_shadow // 2


def shadow_confidences(shadow_factory: Callable, X_pool, y_pool, keep, seeds) -> np.ndarray:
    """Train one shadow model per row of ``keep`` and score the whole pool: shape ``(n_shadow, n_pool)``."""
    confidences = np.empty(keep.shape, dtype=np.float64)
    with Task(f"LiRA shadow models on halves of {keep.shape[1]} samples: model", len(keep)) as task:
        for s, (inside, seed) in enumerate(zip(keep, seeds)):
            try:
                shadow = shadow_factory(X_pool[inside], y_pool[inside], int(seed))
            except Exception as exc:
                raise ValueError(f"shadow_factory(X, y, seed) raised {type(exc).__name__} on shadow model {s}: "
                                 f"{exc}") from exc
            if shadow is None:
                raise TypeError("shadow_factory(X, y, seed) returned None: it must return the model trained on (X, y)")
            confidences[s] = logit_confidence(shadow, X_pool, y_pool, "population labels", "population")
            task.advance()
    return confidences


def gaussian_fits(shadow, keep):
    """``(mu_in, std_in, mu_out, std_out)`` per sample from the shadow confidences (``n_shadow x n``)."""
    n_in, n_out = keep.sum(axis=0), (~keep).sum(axis=0)
    mu_in = np.where(keep, shadow, 0.0).sum(axis=0) / n_in
    mu_out = np.where(keep, 0.0, shadow).sum(axis=0) / n_out
    residual_in = np.where(keep, shadow - mu_in, 0.0) ** 2
    residual_out = np.where(keep, 0.0, shadow - mu_out) ** 2
    std_in = np.sqrt(residual_in.sum(axis=0) / (n_in - 1))
    std_out = np.sqrt(residual_out.sum(axis=0) / (n_out - 1))
    return mu_in, np.maximum(std_in, SMALLEST_STD), mu_out, np.maximum(std_out, SMALLEST_STD)


def likelihood_ratio_scores(target, shadow, keep, *, online: bool) -> np.ndarray:
    """LiRA's membership score of each sample (higher: more likely a member).

    ``target`` holds the target model's confidences, ``shadow`` and ``keep`` the shadow
    models' confidences and inclusions on the same samples (``n_shadow x n``).
    """
    mu_in, std_in, mu_out, std_out = gaussian_fits(shadow, keep)
    if online:
        return norm.logpdf(target, mu_in, std_in) - norm.logpdf(target, mu_out, std_out)
    return norm.logcdf((target - mu_out) / std_out)


def lira_member_scores(shadow_factory: Callable, target_confidences, X_pool, y_pool, n_audited: int, *,
                       n_shadow: int, online: bool, seed: int):
    """LiRA scores of the first ``n_audited`` pool samples (the target's members, then its holdout)."""
    keep = inclusion_matrix(n_shadow, len(X_pool), seed)
    seeds = np.random.SeedSequence(seed).generate_state(n_shadow)
    shadow = shadow_confidences(shadow_factory, X_pool, y_pool, keep, seeds)
    return likelihood_ratio_scores(target_confidences, shadow[:, :n_audited], keep[:, :n_audited], online=online)


def describe(n_shadow: int, online: bool, n_pool: int, n_population: int) -> dict:
    """The attack's settings, for the record's ``params``."""
    return {
        "lira_variant": "online (IN and OUT Gaussians)" if online else "offline (OUT Gaussians only, one-sided)",
        "n_shadow": n_shadow,
        "shadow_pool": n_pool,
        "population": n_population,
        "shadow_training_set": "a random half of the pool; each pool sample IN exactly n_shadow/2 shadow models",
        "gaussians": "mean and variance per sample (Algorithm 1 of the paper)",
        "statistic": "logit-scaled confidence log(p_y / (1 - p_y)) of the true label, one query per sample",
    }


def shadow_size_check(shadow_size: int, target_size: int) -> tuple[bool, str]:
    """Shadows must train like the target, on as many samples: within :data:`SHADOW_SIZE_TOLERANCE`.

    A model trained on twice the data memorizes less, so mismatched shadows misjudge
    the target's IN and OUT confidences. The pool (members + holdout + population)
    should hold about twice the target's training set.
    """
    ratio = shadow_size / target_size
    detail = (f"each shadow trains on {shadow_size} samples (half the pool), the target on {target_size} "
              f"(ratio {ratio:.2f})")
    passed = abs(ratio - 1.0) <= SHADOW_SIZE_TOLERANCE
    if not passed:
        detail += (f"; the pool (members + holdout + population) should hold about {2 * target_size} samples, "
                   f"it holds {2 * shadow_size}: adjust population")
    return passed, detail
