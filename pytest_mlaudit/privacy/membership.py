"""Membership-inference audits: how well an attacker tells training members from
held-out samples, and the privacy loss that implies.

Two attacks, on the same figures (AUC, advantage, TPR at 1% and 0.1% FPR, an empirical
epsilon lower bound):

- ``attack="loss"`` (the default): the loss-threshold attack (Yeom et al. 2018), a
  sample whose loss under the model is low is guessed to be a member. It needs no
  shadow models. We use it rather than ART's membership-inference attacks deliberately:
  it takes no samples away for training an attack model and adds no randomness of its
  own, it gives a score per sample and so the whole ROC curve (AUC, TPR at a fixed
  low FPR), where ART's rule-based attack gives one point, and it is the attack that
  Jagielski et al. 2020 ("Auditing Differentially Private Machine Learning") turn
  into an empirical epsilon lower bound.
- ``attack="lira"``: the likelihood-ratio attack of Carlini et al. 2022 (:mod:`.lira`),
  the field's reference at low FPR, with shadow models trained by the user's
  ``shadow_factory`` on random halves of a population. The loss attack is measured
  beside it on the same model (``loss_*`` metrics, both ROC curves on one chart).

Thresholds chosen on the data they are scored on would flatter the attacker, so the
advantage and the epsilon bound choose their threshold on one seeded half of the
members and non-members and are measured on the other half. AUC and the TPR at a
fixed FPR need no such choice and use all samples. Intervals: Newcombe's for the
advantage, DeLong's for the AUC, Clopper-Pearson for the TPRs and the epsilon bound.

A holdout of n samples measures FPRs in steps of 1/n: the TPR at an FPR below 1/n is
measured with no false positive allowed. That is said in ``params.low_fpr_resolution``;
the audit is SUSPECT for it only when such a TPR is gated
(:func:`assert_membership_tpr`), never for the advantage or the AUC, whose intervals
account for the sample size.

Models: fitted scikit-learn-style classifiers (``predict_proba``, e.g. diffprivlib's)
and torch modules returning class logits (through the classifier adapter).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import extras, validation
from ..authoring import Audit, audit
from ..estimators import repeatable
from ..records import Check, Estimate, SanityChecked
from ..stats import auc_interval, clopper_pearson_interval, independent_difference, proportion
from . import lira
from .scores import logit_confidence, true_label_log_probabilities

LOW_FPRS = (0.01, 0.001)
TPR_METRICS = {0.01: "tpr_at_1pct_fpr", 0.001: "tpr_at_01pct_fpr"}
ATTACKS = ("loss", "lira")
ATTACK = "loss threshold (Yeom et al. 2018)"
LIRA = "likelihood ratio, LiRA (Carlini et al. 2022)"
# The stored ROC curve: exact at every false-positive count up to the lowest reported FPR (and at
# least the first EXACT_FALSE_POSITIVES), then at ROC_LOG_POINTS log-spaced counts: a few hundred
# points whatever the number of samples.
EXACT_FALSE_POSITIVES = 50
ROC_LOG_POINTS = 200


@dataclass(frozen=True)
class AttackFigures:
    """The threshold-free figures of one attack: AUC and TPR at the low FPRs."""

    auc: Estimate
    tpr_at_1pct_fpr: Estimate
    tpr_at_01pct_fpr: Estimate


@dataclass(frozen=True)
class MembershipResult(SanityChecked):
    """What one membership-inference audit measured (``attack``'s figures; the loss attack's beside LiRA's)."""

    auc: Estimate
    advantage: Estimate  # TPR - FPR at the threshold chosen on the selection half
    tpr_at_1pct_fpr: Estimate
    tpr_at_01pct_fpr: Estimate
    empirical_epsilon: Estimate  # .low is the Jagielski et al. lower bound at the confidence level
    n_members: int
    n_nonmembers: int
    checks: tuple[Check, ...] = field(default_factory=tuple)
    attack: str = "loss"
    loss_attack: AttackFigures | None = None  # with attack="lira": the loss attack on the same model


@dataclass(frozen=True)
class _Attack:
    """The attack arguments of a membership audit, checked."""

    name: str
    shadow_factory: Callable | None = None
    population: tuple[Any, Any] | None = None
    n_shadow: int = 16
    online: bool = True


def membership_inference(model, X_train, y_train, X_holdout, y_holdout, *, attack: str = "loss",
                         shadow_factory: Callable | None = None, population=None, n_shadow: int = 16,
                         online: bool = True, delta: float = 0.0, requirement=None) -> MembershipResult:
    """Membership inference against a fitted ``model``, by the loss-threshold attack or LiRA.

    ``X_train, y_train`` are the model's training members; ``X_holdout, y_holdout``
    samples from the same distribution it never saw. ``delta`` is the model's DP
    delta, used by the epsilon bound (0 for pure epsilon-DP models such as
    diffprivlib's LogisticRegression).

    ``attack="lira"`` needs ``shadow_factory(X, y, seed)``, which returns a model trained
    on ``(X, y)`` the way the target was (same architecture and recipe, seeded by
    ``seed``). ``n_shadow`` (even, at least 4) shadow models are trained on random halves
    of the pool: the members, the holdout and ``population=(X, y)``, more samples of the
    same distribution when you have them. ``online=False`` is offline LiRA (OUT models
    only). Cost: ``n_shadow`` trainings (progress is shown); the paper uses 64 or more,
    16 already beats the loss attack at low FPR on a model that memorizes.
    """
    with audit("privacy", "membership inference", requirement=requirement) as a:
        chosen = _attack_arguments(attack, shadow_factory, population, n_shadow, online)
        return _measure(a, model, X_train, y_train, X_holdout, y_holdout, delta, chosen)


def assert_membership_advantage(model, X_train, y_train, X_holdout, y_holdout, *, at_most: float,
                                policy: str | None = None, attack: str = "loss", shadow_factory: Callable | None = None,
                                population=None, n_shadow: int = 16, online: bool = True, delta: float = 0.0,
                                requirement=None) -> MembershipResult:
    """Measure as :func:`membership_inference` does and gate the attacker's advantage (TPR - FPR)."""
    with audit("privacy", "membership advantage", requirement=requirement) as a:
        a.gate("advantage", at_most=at_most, policy=policy, requirement=requirement, bounds=(-1.0, 1.0))
        chosen = _attack_arguments(attack, shadow_factory, population, n_shadow, online)
        return _measure(a, model, X_train, y_train, X_holdout, y_holdout, delta, chosen)


def assert_membership_tpr(model, X_train, y_train, X_holdout, y_holdout, *, at_most: float, fpr: float = 0.001,
                          policy: str | None = None, attack: str = "loss", shadow_factory: Callable | None = None,
                          population=None, n_shadow: int = 16, online: bool = True, delta: float = 0.0,
                          requirement=None) -> MembershipResult:
    """Measure as :func:`membership_inference` does and gate the attacker's TPR at ``fpr`` (0.01 or 0.001).

    The field's figure of merit (Carlini et al. 2022): how many members an attacker
    identifies while almost never accusing a non-member. A holdout of fewer than
    ``1 / fpr`` samples cannot resolve that FPR, and the audit is then SUSPECT.
    """
    if fpr not in TPR_METRICS:
        raise ValueError(f"fpr must be one of {', '.join(f'{f:g}' for f in LOW_FPRS)}, got {fpr!r}")
    with audit("privacy", f"membership TPR at {fpr:.1%} FPR", requirement=requirement) as a:
        a.gate(TPR_METRICS[fpr], at_most=at_most, policy=policy, requirement=requirement, bounds=(0.0, 1.0))
        chosen = _attack_arguments(attack, shadow_factory, population, n_shadow, online)
        return _measure(a, model, X_train, y_train, X_holdout, y_holdout, delta, chosen, gated_fpr=fpr)


def _attack_arguments(attack, shadow_factory, population, n_shadow, online) -> _Attack:
    if attack not in ATTACKS:
        raise ValueError(f"attack must be one of {', '.join(map(repr, ATTACKS))}, got {attack!r}")
    online = validation.flag(online, "online")
    if attack == "loss":
        if shadow_factory is not None or population is not None:
            raise ValueError("shadow_factory and population are LiRA's: pass attack='lira' to use them")
        return _Attack("loss")
    if not callable(shadow_factory):
        raise TypeError("attack='lira' needs shadow_factory(X, y, seed) returning a model trained on (X, y) the way "
                        f"the target was, got {type(shadow_factory).__name__}")
    if population is not None and not (isinstance(population, tuple) and len(population) == 2):
        raise TypeError(f"population must be a tuple (X, y) of samples from the members' distribution, got "
                        f"{type(population).__name__}")
    return _Attack("lira", shadow_factory, population, lira.check_shadow_count(n_shadow), online)


def _measure(a: Audit, model, X_train, y_train, X_holdout, y_holdout, delta, attack: _Attack,
             gated_fpr: float | None = None) -> MembershipResult:
    for name, value in (("X_train", X_train), ("X_holdout", X_holdout)):
        validation.refuse_chunks(name, value, "membership inference",
                                 "its AUC ranks every member's score against every holdout score and its thresholds "
                                 "are chosen on a random half of all the scores")
    X_train, y_train, X_holdout, y_holdout = validation.two_splits(
        X_train, y_train, X_holdout, y_holdout, ("X_train", "y_train", "X_holdout", "y_holdout"))
    if len(X_train) < 4 or len(X_holdout) < 4:
        raise ValueError(f"need at least 4 members and 4 holdout samples (two per half), got {len(X_train)} and {len(X_holdout)}")
    delta = validation.positive_number(delta, "delta")
    if delta >= 1.0:
        raise ValueError(f"delta must be below 1, got {delta!r}")
    confidence = a.settings.confidence

    (loss_members, loss_nonmembers), determinism = repeatable(
        lambda: (-sample_losses(model, X_train, y_train, "y_train", "X_train"),
                 -sample_losses(model, X_holdout, y_holdout, "y_holdout", "X_holdout")), "X_train and X_holdout")
    checks = [determinism]
    if attack.name == "lira":
        members, nonmembers, shadow_check = _lira_scores(a, model, attack, X_train, y_train, X_holdout, y_holdout)
        checks.append(shadow_check)
    else:
        members, nonmembers = loss_members, loss_nonmembers
    split_seed = a.seed("split")
    rng = np.random.default_rng(split_seed)
    m_select, m_eval = _halves(members, rng)
    n_select, n_eval = _halves(nonmembers, rng)

    figures = _figures(members, nonmembers, confidence)
    advantage_threshold = _best_threshold(m_select, n_select, lambda tp, fp, m, n: tp / m - fp / n)
    tp, fp = int(np.sum(m_eval >= advantage_threshold)), int(np.sum(n_eval >= advantage_threshold))
    advantage = independent_difference(tp, len(m_eval), fp, len(n_eval), confidence)
    epsilon_threshold = _best_threshold(
        m_select, n_select, lambda tp, fp, m, n: epsilon_lower_bound(fp, n, m - tp, m, delta, confidence).low)
    tp, fp = int(np.sum(m_eval >= epsilon_threshold)), int(np.sum(n_eval >= epsilon_threshold))
    empirical_epsilon = epsilon_lower_bound(fp, len(n_eval), len(m_eval) - tp, len(m_eval), delta, confidence)
    if gated_fpr is not None:
        resolved = len(nonmembers) * gated_fpr >= 1.0
        checks.append(Check(f"holdout resolves {gated_fpr:.1%} FPR", resolved,
                            f"{len(nonmembers)} holdout samples: FPR steps of {1 / len(nonmembers):.2%}" +
                            ("" if resolved else f"; the gated TPR at {gated_fpr:.1%} FPR is measured with no false "
                                                 f"positive allowed, need >= {math.ceil(1 / gated_fpr)}")))
    loss_figures = _figures(loss_members, loss_nonmembers, confidence) if attack.name == "lira" else None

    a.describe_model(model)
    a.describe_data((X_train, y_train, X_holdout, y_holdout))
    score = ("LiRA log likelihood ratio of the logit-scaled confidence" if attack.name == "lira" else
             "minus the cross-entropy loss of the true label")
    a.params.update({
        "attack": LIRA if attack.name == "lira" else ATTACK,
        "score": score,
        "n_members": int(len(members)),
        "n_nonmembers": int(len(nonmembers)),
        "split_seed": split_seed,
        "threshold_selection": "on a random half of members and non-members; advantage and epsilon measured on the other half",
        "advantage_threshold_score": float(advantage_threshold),
        "epsilon_threshold_score": float(epsilon_threshold),
        "delta": delta,
        "epsilon_bound": "Jagielski et al. 2020: max(ln((1-delta-FPR)/FNR), ln((1-delta-FNR)/FPR)) with Clopper-Pearson "
                         "upper ends of FPR and FNR (low end of the estimate); rates floored at 1/n for the value",
        "intervals": "advantage: Newcombe (independent samples); AUC: DeLong; TPRs and epsilon: Clopper-Pearson",
        "low_fpr_resolution": {f"{fpr:.1%}": _resolution(len(nonmembers), fpr) for fpr in LOW_FPRS},
    })
    result = MembershipResult(figures.auc, advantage, figures.tpr_at_1pct_fpr, figures.tpr_at_01pct_fpr,
                              empirical_epsilon, int(len(members)), int(len(nonmembers)), tuple(checks),
                              attack.name, loss_figures)
    for name in ("auc", "advantage", "tpr_at_1pct_fpr", "tpr_at_01pct_fpr", "empirical_epsilon"):
        a.metric(name, getattr(result, name))
    a.outcomes("advantage", m_eval >= advantage_threshold, minus=n_eval >= advantage_threshold)
    if loss_figures is not None:
        for name in ("auc", "tpr_at_1pct_fpr", "tpr_at_01pct_fpr"):
            a.metric(f"loss_{name}", getattr(loss_figures, name))
    for check in checks:
        a.check(check.name, check.passed, check.detail)
    curves = [("LiRA" if attack.name == "lira" else "loss attack", members, nonmembers)]
    if attack.name == "lira":
        curves.append(("loss attack", loss_members, loss_nonmembers))
    a.extra(_roc_chart(curves, len(nonmembers)))
    return result


def _lira_scores(a: Audit, model, attack: _Attack, X_train, y_train, X_holdout, y_holdout):
    """LiRA scores of the members and of the holdout (the attack's settings go to ``params``), and the check
    that the shadow models train on as many samples as the target."""
    X_pool, y_pool = np.concatenate([X_train, X_holdout]), np.concatenate([y_train, y_holdout])
    n_population = 0
    if attack.population is not None:
        X_extra, y_extra = validation.features(attack.population[0], "population[0]"), attack.population[1]
        y_extra = validation.labels(y_extra, len(X_extra), "population[1]", "population[0]")
        validation.check_same_rows(X_train, X_extra, "X_train", "population[0]")
        X_pool, y_pool = np.concatenate([X_pool, X_extra]), np.concatenate([y_pool, y_extra])
        n_population = len(X_extra)
    target = np.concatenate([logit_confidence(model, X_train, y_train, "y_train", "X_train"),
                             logit_confidence(model, X_holdout, y_holdout, "y_holdout", "X_holdout")])
    shadow_seed = a.seed("shadow models")
    scores = lira.lira_member_scores(attack.shadow_factory, target, X_pool, y_pool, len(target),
                                     n_shadow=attack.n_shadow, online=attack.online, seed=shadow_seed)
    a.params.update(lira.describe(attack.n_shadow, attack.online, len(X_pool), n_population))
    a.params["shadow_seed"] = shadow_seed
    passed, detail = lira.shadow_size_check(len(X_pool) // 2, len(X_train))
    check = Check("shadow models train on as many samples as the target", passed, detail)
    return scores[:len(X_train)], scores[len(X_train):], check


def _figures(members, nonmembers, confidence: float) -> AttackFigures:
    auc = auc_interval(members, nonmembers, confidence)
    low_fpr = [tpr_at_fpr(members, nonmembers, fpr, confidence) for fpr in LOW_FPRS]
    return AttackFigures(auc, low_fpr[0], low_fpr[1])


def _resolution(n_nonmembers: int, fpr: float) -> str:
    if n_nonmembers * fpr >= 1.0:
        return f"resolved: {n_nonmembers} holdout samples, FPR steps of {1 / n_nonmembers:.3%}"
    return (f"not resolved: {n_nonmembers} holdout samples, FPR steps of {1 / n_nonmembers:.3%}; the TPR is measured "
            f"with no false positive allowed (resolving {fpr:.1%} needs >= {math.ceil(1 / fpr)})")


def roc_points(members, nonmembers) -> tuple[list[float], list[float]]:
    """The ROC curve down-sampled to a few hundred points, exact in the low-FPR region.

    A point ``(k / n, TPR_k)`` per false-positive count ``k``, ``TPR_k`` the highest TPR
    with at most ``k`` false positives (the top of the curve's step at ``k``): every
    ``k`` up to the lowest reported FPR (and at least the first
    :data:`EXACT_FALSE_POSITIVES`), then :data:`ROC_LOG_POINTS` log-spaced ones up to
    ``k = n``. ``k`` starts at 1, so the points suit a log FPR axis.
    """
    # from the two sorted score arrays, not scikit-learn's roc_curve: that one concatenates, labels and sorts all
    # the scores with their cumulative sums (about 70 bytes per sample at 1M samples); this is one sorted copy
    n = len(nonmembers)
    exact = min(n, max(EXACT_FALSE_POSITIVES, math.ceil(min(LOW_FPRS) * n)))
    counts = np.unique(np.r_[np.arange(1, exact + 1),
                             np.rint(np.geomspace(exact, n, ROC_LOG_POINTS)).astype(np.int64)])
    highest_nonmembers = np.sort(np.asarray(nonmembers, dtype=np.float64))[::-1]
    sorted_members = np.sort(np.asarray(members, dtype=np.float64))
    # at most k false positives: a threshold above the (k+1)-th highest non-member score takes every member above it
    below = highest_nonmembers[np.minimum(counts, n - 1)]
    caught = len(sorted_members) - np.searchsorted(sorted_members, below, side="right")
    caught = np.where(counts >= n, len(sorted_members), caught)
    return (counts / n).tolist(), (caught / len(sorted_members)).tolist()


def _roc_chart(curves, n_nonmembers: int) -> extras.Curve:
    series = []
    for label, members, nonmembers in curves:
        x, y = roc_points(members, nonmembers)
        series.append(extras.Series(label, x=x, y=y))
    chance = [1.0 / n_nonmembers, 1.0]
    series.append(extras.Series("chance", x=chance, y=chance))
    return extras.Curve(f"Membership inference ROC (all samples; FPR from 1/{n_nonmembers}, log scale)",
                        x_label="false positive rate", y_label="true positive rate", series=series, x_scale="log")


def sample_losses(model, X, y, labels_name: str = "y", features_name: str = "X"):
    """Cross-entropy loss of each sample's true label under a fitted classifier or a torch module."""
    log_true, _ = true_label_log_probabilities(model, X, y, labels_name, features_name)
    return -log_true


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


