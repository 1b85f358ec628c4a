"""Auditing a differential-privacy claim in one training run (Steinke, Nasr & Jagielski,
"Privacy Auditing with One (1) Training Run", NeurIPS 2023, arXiv:2305.08846).

A model that claims (epsilon, delta)-DP bounds how well anyone can tell, from the
trained model, whether a given example was in its training set. The audit tests that:

1. ``canaries`` rows of ``X`` become canaries: each gets a random label other than its
   own (a mislabeled example, which a model can only fit by memorizing it), and is
   left out of the base training set.
2. Each canary is included independently with probability 1/2 (``S_i = +1``), and the
   model is trained once, by the user's ``train_fn(X, y, seed)``, on the other rows plus
   the included canaries.
3. Each canary is scored by the trained model's logit-scaled confidence in its canary
   label; the auditor guesses IN for the ``k`` highest scores and OUT for the ``k``
   lowest, abstaining on the rest: ``r = 2k`` guesses, ``v`` of them correct.
4. If the training were (epsilon, delta)-DP, ``v`` could not be large: the paper's main
   theorem (its bound for approximate DP) gives, with ``W = v`` and
   ``f(t) = P[Binomial(r, e^eps / (1 + e^eps)) >= t]``,

       P[W >= v] <= f(v) + 2 m delta max_{i = 1..v} (f(v - i) - f(v)) / i,

   the p-value of the claim. :func:`one_run_p_value` computes it as the paper's own
   routine does; :func:`epsilon_lower_bound` finds, by bisection, the largest epsilon
   whose p-value stays below ``1 - confidence``: with that confidence the training is
   *not* (epsilon', delta)-DP for any epsilon' below it.

Several guess counts ``k`` are tried; each is tested at ``(1 - confidence) / K``
(Bonferroni over the K counts), so reporting the largest bound keeps its confidence.
(The paper sweeps k and reports the best without such a correction.)

The bound is a lower bound: a correct DP implementation gives one below its claimed
epsilon (usually far below: black-box canaries are weak), and a bound *above* the
claim proves, at the stated confidence, that the implementation does not deliver
its claim (noise calibrated to the wrong batch size, clipping skipped, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.stats import binom

from .. import extras, validation
from ..authoring import Audit, audit
from ..records import Estimate
from .scores import logit_confidence

GUESS_SHARES = (0.05, 0.1, 0.2, 0.3, 0.5)  # k as shares of the canaries, on each side
BISECTION_STEPS = 60


@dataclass(frozen=True)
class DPClaimAudit:
    """What one one-run audit measured: the empirical epsilon lower bound and the guesses behind it."""

    epsilon_lower_bound: Estimate  # value = low = high: itself a one-sided bound at the run's confidence
    claimed_epsilon: float
    delta: float
    canaries: int
    included: int
    guesses: int  # r, at the guess count that gave the largest bound
    correct: int  # v, there
    per_guess_count: tuple[tuple[int, int, float], ...]  # (guesses r, correct v, epsilon bound) per count tried


def audit_dp_training(train_fn: Callable, X, y, *, epsilon: float, delta: float, canaries: int = 1000,
                      requirement=None) -> DPClaimAudit:
    """Audit a DP training procedure's (epsilon, delta) claim in one run, with ``canaries`` canaries.

    ``train_fn(X, y, seed)`` trains and returns the model (a fitted classifier with
    ``predict_proba`` or a torch module returning logits) exactly as the claim covers,
    e.g. ``lambda X, y, seed: mla.DPSGDClassifier(net, epsilon=1.0, random_state=seed).fit(X, y)``.
    ``X, y`` are the training data; ``canaries`` of its rows become canaries.
    """
    with audit("privacy", "DP claim, one-run audit", requirement=requirement) as a:
        return _measure(a, train_fn, X, y, epsilon, delta, canaries)


def assert_dp_claim(train_fn: Callable, X, y, *, epsilon: float, delta: float, canaries: int = 1000,
                    policy: str | None = None, requirement=None) -> DPClaimAudit:
    """Measure as :func:`audit_dp_training` does; fail when the empirical lower bound exceeds the claimed ``epsilon``.

    A failure proves (at the run's confidence) that the training is not (epsilon,
    delta)-DP: a bug in the DP implementation or its accounting. A pass proves nothing
    beyond the attack's power. The gated metric is itself a one-sided bound, so
    ``policy`` does not change the verdict.
    """
    with audit("privacy", "DP claim, one-run audit", requirement=requirement) as a:
        epsilon = validation.positive_number(epsilon, "epsilon", allow_zero=False)
        a.gate("epsilon_lower_bound", at_most=epsilon, policy=policy, requirement=requirement)
        return _measure(a, train_fn, X, y, epsilon, delta, canaries)


def one_run_p_value(m: int, r: int, v: int, epsilon: float, delta: float) -> float:
    """P[at least ``v`` of ``r`` guesses correct] under an (epsilon, delta)-DP training with ``m`` canaries.

    The paper's bound for approximate DP: ``f(v) + 2 m delta max_i (f(v-i) - f(v)) / i``,
    ``f(t) = P[Binomial(r, q) >= t]``, ``q = e^eps / (1 + e^eps)`` the accuracy of
    eps-DP randomized response.
    """
    if not 0 <= v <= r <= m:
        raise ValueError(f"need 0 <= v <= r <= m, got v={v}, r={r}, m={m}")
    q = 1.0 / (1.0 + math.exp(-epsilon))
    tail = float(binom.sf(v - 1, r, q))
    if delta == 0.0 or v == 0:
        return min(tail, 1.0)
    i = np.arange(1, v + 1)
    between = np.cumsum(binom.pmf(v - i, r, q))  # f(v - i) - f(v) = P[v - i <= W < v]
    alpha = float(np.max(between / i))
    return min(tail + 2.0 * m * delta * alpha, 1.0)


def epsilon_lower_bound(m: int, r: int, v: int, delta: float, significance: float) -> float:
    """The largest epsilon whose :func:`one_run_p_value` is below ``significance`` (0 when none is)."""
    if one_run_p_value(m, r, v, 0.0, delta) >= significance:
        return 0.0
    low, high = 0.0, 1.0
    while one_run_p_value(m, r, v, high, delta) < significance:
        low, high = high, 2.0 * high
        if high > 1e4:
            return low
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2.0
        if one_run_p_value(m, r, v, middle, delta) < significance:
            low = middle
        else:
            high = middle
    return low


def guess_counts(canaries: int) -> tuple[int, ...]:
    """The k (guesses per side) tried: :data:`GUESS_SHARES` of the canaries, at least 1."""
    return tuple(sorted({max(1, int(share * canaries)) for share in GUESS_SHARES}))


def _measure(a: Audit, train_fn, X, y, epsilon, delta, canaries) -> DPClaimAudit:
    if not callable(train_fn):
        raise TypeError(f"train_fn must be a callable train_fn(X, y, seed) returning the trained model, "
                        f"got {type(train_fn).__name__}")
    X = validation.features(X, "X")
    y = validation.labels(y, len(X), "y", "X")
    epsilon = validation.positive_number(epsilon, "epsilon", allow_zero=False)
    delta = validation.positive_number(delta, "delta")
    if delta >= 1.0:
        raise ValueError(f"delta must be below 1, got {delta!r}")
    m = validation.positive_int(canaries, "canaries")
    if m < 10:
        raise ValueError(f"canaries must be at least 10 (the bound grows with the number of guesses), got {m}")
    if m >= len(X):
        raise ValueError(f"canaries={m} leaves no training data: X has {len(X)} rows")
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(f"y holds a single class ({classes[0]}): a canary needs a label other than its own")
    confidence = a.settings.confidence

    rng = np.random.default_rng(a.seed("canaries"))
    order = rng.permutation(len(X))
    canary_rows, base_rows = order[:m], order[m:]
    shift = rng.integers(1, classes.size, size=m)  # a label other than the row's own, uniformly
    own = np.searchsorted(classes, y[canary_rows])
    canary_labels = classes[(own + shift) % classes.size]
    included = rng.random(m) < 0.5
    X_train = np.concatenate([X[base_rows], X[canary_rows[included]]])
    y_train = np.concatenate([y[base_rows], canary_labels[included]])
    training_seed = a.seed("training")
    try:
        model = train_fn(X_train, y_train, int(training_seed))
    except Exception as exc:
        raise ValueError(f"train_fn(X, y, seed) raised {type(exc).__name__}: {exc}") from exc
    if model is None:
        raise TypeError("train_fn(X, y, seed) returned None: it must return the trained model")
    scores = logit_confidence(model, X[canary_rows], canary_labels, "canary labels", "X")

    counts = guess_counts(m)
    significance = (1.0 - confidence) / len(counts)
    ranked = np.argsort(-scores, kind="stable")
    per_count = []
    for k in counts:
        k = min(k, m // 2)
        guessed_in, guessed_out = ranked[:k], ranked[m - k:]
        correct = int(included[guessed_in].sum() + (~included[guessed_out]).sum())
        per_count.append((2 * k, correct, epsilon_lower_bound(m, 2 * k, correct, delta, significance)))
    r, v, bound = max(per_count, key=lambda row: row[2])
    estimate = Estimate(bound, bound, bound, m,
                        f"one-run audit bound (Steinke, Nasr & Jagielski 2023), one-sided, Bonferroni over "
                        f"{len(counts)} guess counts", confidence)

    a.describe_model(model)
    a.describe_data({"training (with the included canaries)": (X_train, y_train)})
    a.params.update({
        "claimed_epsilon": epsilon,
        "delta": delta,
        "canaries": m,
        "canaries_included": int(included.sum()),
        "canary_kind": "rows of X with a random label other than their own, each included with probability 1/2",
        "score": "logit-scaled confidence of the canary label under the trained model (black-box)",
        "guess_counts_per_side": list(counts),
        "significance_per_count": significance,
        "training_seed": int(training_seed),
        "bound": "Steinke, Nasr & Jagielski 2023: P[W >= v] <= f(v) + 2 m delta max_i (f(v-i) - f(v)) / i, "
                 "f(t) = P[Binomial(r, e^eps/(1+e^eps)) >= t]; largest eps with p-value below the significance",
    })
    a.metric("epsilon_lower_bound", estimate)
    a.extra(extras.Table("One-run audit: guesses and the epsilon each proves",
                         columns=["guesses (r)", "correct (v)", "accuracy", "epsilon lower bound"],
                         rows=[[rr, vv, round(vv / rr, 4), round(b, 4)] for rr, vv, b in per_count]))
    return DPClaimAudit(estimate, epsilon, delta, m, int(included.sum()), r, v, tuple(per_count))

