"""Membership-inference audits: how well an attacker tells training members from
held-out samples, and the privacy loss that implies.

The attack is the loss-threshold attack (Yeom et al. 2018): a sample whose loss
under the model is low is guessed to be a member. We use it rather than ART's
membership-inference attacks deliberately: it needs no shadow models and no attack
model trained on part of the members (ART's ``MembershipInferenceBlackBox`` would
take samples away from an evaluation that is already small, and add its own
randomness), it gives a score per sample and so the whole ROC curve (AUC, TPR at a
fixed low FPR), where ART's rule-based attack gives one point, and it is the
attack that Jagielski et al. 2020 ("Auditing Differentially Private Machine
Learning") turn into an empirical epsilon lower bound.

Thresholds chosen on the data they are scored on would flatter the attacker, so the
advantage and the epsilon bound choose their threshold on one seeded half of the
members and non-members and are measured on the other half. AUC and the TPR at a
fixed FPR need no such choice and use all samples.

Models: fitted scikit-learn-style classifiers (``predict_proba``, e.g. diffprivlib's)
and torch modules returning class logits (through the classifier adapter).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import roc_curve

from .. import extras, validation
from ..adapters import _is_torch_module, as_classifier
from ..authoring import Audit, audit
from ..estimators import repeatable, require_fitted
from ..records import Check, Estimate, SanityChecked
from ..stats import auc_interval, clopper_pearson_interval, independent_difference, proportion

LOW_FPRS = (0.01, 0.001)
ATTACK = "loss threshold (Yeom et al. 2018)"


@dataclass(frozen=True)
class MembershipResult(SanityChecked):
    """What one membership-inference audit measured."""

    auc: Estimate
    advantage: Estimate  # TPR - FPR at the threshold chosen on the selection half
    tpr_at_1pct_fpr: Estimate
    tpr_at_01pct_fpr: Estimate
    empirical_epsilon: Estimate  # .low is the Jagielski et al. lower bound at the confidence level
    n_members: int
    n_nonmembers: int
    checks: tuple[Check, ...] = field(default_factory=tuple)


def membership_inference(model, X_train, y_train, X_holdout, y_holdout, *, delta: float = 0.0,
                         requirement=None) -> MembershipResult:
    """Loss-threshold membership inference against a fitted ``model``.

    ``X_train, y_train`` are the model's training members; ``X_holdout, y_holdout``
    samples from the same distribution it never saw. ``delta`` is the model's DP
    delta, used by the epsilon bound (0 for pure epsilon-DP models such as
    diffprivlib's LogisticRegression).
    """
    with audit("privacy", "membership inference", requirement=requirement) as a:
        return _measure(a, model, X_train, y_train, X_holdout, y_holdout, delta)


def assert_membership_advantage(model, X_train, y_train, X_holdout, y_holdout, *, at_most: float,
                                policy: str | None = None, delta: float = 0.0, requirement=None) -> MembershipResult:
    """Measure as :func:`membership_inference` does and gate the attacker's advantage (TPR - FPR)."""
    with audit("privacy", "membership advantage", requirement=requirement) as a:
        a.gate("advantage", at_most=at_most, policy=policy, requirement=requirement, bounds=(-1.0, 1.0))
        return _measure(a, model, X_train, y_train, X_holdout, y_holdout, delta)


def _measure(a: Audit, model, X_train, y_train, X_holdout, y_holdout, delta) -> MembershipResult:
    X_train, y_train, X_holdout, y_holdout = validation.two_splits(
        X_train, y_train, X_holdout, y_holdout, ("X_train", "y_train", "X_holdout", "y_holdout"))
    if len(X_train) < 4 or len(X_holdout) < 4:
        raise ValueError(f"need at least 4 members and 4 holdout samples (two per half), got {len(X_train)} and {len(X_holdout)}")
    delta = validation.positive_number(delta, "delta")
    if delta >= 1.0:
        raise ValueError(f"delta must be below 1, got {delta!r}")
    confidence = a.settings.confidence

    (members, nonmembers), determinism = repeatable(
        lambda: (-sample_losses(model, X_train, y_train, "y_train", "X_train"),
                 -sample_losses(model, X_holdout, y_holdout, "y_holdout", "X_holdout")), "X_train and X_holdout")
    split_seed = a.seed("split")
    rng = np.random.default_rng(split_seed)
    m_select, m_eval = _halves(members, rng)
    n_select, n_eval = _halves(nonmembers, rng)

    auc = auc_interval(members, nonmembers, confidence)
    advantage_threshold = _best_threshold(m_select, n_select, lambda tp, fp, m, n: tp / m - fp / n)
    tp, fp = int(np.sum(m_eval >= advantage_threshold)), int(np.sum(n_eval >= advantage_threshold))
    advantage = independent_difference(tp, len(m_eval), fp, len(n_eval), confidence)
    epsilon_threshold = _best_threshold(
        m_select, n_select, lambda tp, fp, m, n: epsilon_lower_bound(fp, n, m - tp, m, delta, confidence).low)
    tp, fp = int(np.sum(m_eval >= epsilon_threshold)), int(np.sum(n_eval >= epsilon_threshold))
    empirical_epsilon = epsilon_lower_bound(fp, len(n_eval), len(m_eval) - tp, len(m_eval), delta, confidence)
    low_fpr = [tpr_at_fpr(members, nonmembers, fpr, confidence) for fpr in LOW_FPRS]
    checks = (determinism,) + tuple(
        Check(f"holdout resolves {fpr:.1%} FPR", len(nonmembers) * fpr >= 1.0,
              f"{len(nonmembers)} holdout samples: FPR steps of {1 / len(nonmembers):.2%}"
              + ("" if len(nonmembers) * fpr >= 1.0 else
                 f"; TPR at {fpr:.1%} FPR is measured with no false positive allowed, need >= {math.ceil(1 / fpr)}"))
        for fpr in LOW_FPRS
    )

    a.describe_model(model)
    a.describe_data((X_train, y_train, X_holdout, y_holdout))
    a.params.update({
        "attack": ATTACK,
        "score": "minus the cross-entropy loss of the true label",
        "n_members": int(len(members)),
        "n_nonmembers": int(len(nonmembers)),
        "split_seed": split_seed,
        "threshold_selection": "on a random half of members and non-members; advantage and epsilon measured on the other half",
        "advantage_threshold_loss": float(-advantage_threshold),
        "epsilon_threshold_loss": float(-epsilon_threshold),
        "delta": delta,
        "epsilon_bound": "Jagielski et al. 2020: max(ln((1-delta-FPR)/FNR), ln((1-delta-FNR)/FPR)) with Clopper-Pearson "
                         "upper ends of FPR and FNR (low end of the estimate); rates floored at 1/n for the value",
    })
    result = MembershipResult(auc, advantage, low_fpr[0], low_fpr[1], empirical_epsilon,
                              int(len(members)), int(len(nonmembers)), checks)
    for name in ("auc", "advantage", "tpr_at_1pct_fpr", "tpr_at_01pct_fpr", "empirical_epsilon"):
        a.metric(name, getattr(result, name))
    a.outcomes("advantage", m_eval >= advantage_threshold, minus=n_eval >= advantage_threshold)
    for check in checks:
        a.check(check.name, check.passed, check.detail)
    fpr, tpr, _ = roc_curve(np.r_[np.ones(len(members)), np.zeros(len(nonmembers))], np.r_[members, nonmembers])
    a.extra(extras.Curve(
        "Membership inference ROC (loss threshold, all samples)", x_label="false positive rate",
        y_label="true positive rate",
        series=[extras.Series("attack", x=fpr.tolist(), y=tpr.tolist(), low=tpr.tolist(), high=tpr.tolist()),
                extras.Series("chance", x=[0.0, 1.0], y=[0.0, 1.0], low=[0.0, 1.0], high=[0.0, 1.0])]))
    return result


def sample_losses(model, X, y, labels_name: str = "y", features_name: str = "X"):
    """Cross-entropy loss of each sample's true label under a fitted classifier or a torch module."""
    if _is_torch_module(model):
        import torch

        classifier = as_classifier(model, device="cpu")
        with classifier.audit_mode(), torch.no_grad():
            logits = _applied(classifier.logits, torch.as_tensor(np.ascontiguousarray(X), dtype=torch.float32),
                              features_name)
        validation.check_labels_fit(y, logits.shape[1], labels_name)
        log_p = torch.log_softmax(logits.double(), dim=1)[torch.arange(len(y)), torch.as_tensor(y)]
        return -log_p.numpy()
    if not callable(getattr(model, "predict_proba", None)):
        raise TypeError(f"model must be a fitted classifier with predict_proba or a torch module returning logits, "
                        f"got {type(model).__name__}")
    require_fitted(model, "membership inference audits a trained model; fit it on X_train first")
    classes = np.asarray(model.classes_)
    validation.check_known_labels(y, classes, labels_name, "the model does not know")
    proba = np.asarray(_applied(model.predict_proba, X, features_name))
    p_true = proba[np.arange(len(y)), np.searchsorted(classes, y)]
    return -np.log(np.clip(p_true, 1e-300, None))


def _applied(predict, X, features_name: str):
    """``predict(X)``; a model/data mismatch becomes one error naming the data argument."""
    try:
        return predict(X)
    except Exception as exc:
        raise ValueError(f"model could not be applied to {features_name} (samples of shape {tuple(X.shape[1:])}): "
                         f"{type(exc).__name__}: {exc}") from exc


def tpr_at_fpr(members, nonmembers, fpr: float, confidence: float) -> Estimate:
    """TPR at the strictest threshold whose in-sample FPR is at most ``fpr`` (Clopper-Pearson interval).

    The threshold depends on the non-members only, so the TPR over the members is an
    honest binomial count.
    """
    allowed = int(math.floor(fpr * len(nonmembers) + 1e-9))
    threshold = np.sort(nonmembers)[::-1][allowed] if allowed < len(nonmembers) else -np.inf
    caught = int(np.sum(members > threshold))
    return proportion(caught, len(members), confidence, method="clopper-pearson")


def epsilon_lower_bound(false_positives: int, negatives: int, false_negatives: int, positives: int,
                        delta: float = 0.0, confidence: float = 0.95) -> Estimate:
    """Empirical epsilon implied by an attack's error counts (Jagielski et al. 2020).

    An (epsilon, delta)-DP model forces ``1 - delta - FNR <= e^eps FPR`` and
    ``1 - delta - FPR <= e^eps FNR``; the Clopper-Pearson upper ends of FPR and FNR
    (each two-sided at ``confidence``, so jointly one-sided at least ``confidence``)
    give ``low``, the lower bound at that confidence. ``value`` and ``high`` use the
    point and optimistic rates, floored at 1/n (n trials cannot measure a smaller
    rate), so they stay finite. Bounds below 0 are reported as 0.
    """
    n_pos, n_neg = positives, negatives
    fpr_low, fpr_high = clopper_pearson_interval(false_positives, n_neg, confidence)
    fnr_low, fnr_high = clopper_pearson_interval(false_negatives, n_pos, confidence)

    def bound(fpr: float, fnr: float) -> float:
        fpr, fnr = max(fpr, 1.0 / n_neg), max(fnr, 1.0 / n_pos)
        terms = [math.log((1.0 - delta - a) / b) for a, b in ((fpr, fnr), (fnr, fpr)) if 1.0 - delta - a > 0]
        return max([0.0, *terms])

    low = bound(fpr_high, fnr_high)
    value = bound(false_positives / n_neg, false_negatives / n_pos)
    high = bound(fpr_low, fnr_low)
    return Estimate(value, min(low, value), max(high, value), n_pos + n_neg, "clopper-pearson (Jagielski et al. 2020)",
                    confidence)


def _halves(scores, rng):
    order = rng.permutation(len(scores))
    half = len(scores) // 2
    return scores[order[:half]], scores[order[half:]]


def _best_threshold(members, nonmembers, objective) -> float:
    """The score threshold (member iff score >= threshold) that maximizes ``objective(tp, fp, m, n)``.

    Candidates are the observed scores, or 512 of their quantiles when there are more.
    """
    candidates = np.unique(np.r_[members, nonmembers])
    if candidates.size > 512:
        candidates = np.unique(np.quantile(candidates, np.linspace(0.0, 1.0, 512)))
    best, best_value = candidates[0], -math.inf
    for threshold in candidates:
        value = objective(int(np.sum(members >= threshold)), int(np.sum(nonmembers >= threshold)),
                          len(members), len(nonmembers))
        if value > best_value:
            best, best_value = threshold, value
    return float(best)


