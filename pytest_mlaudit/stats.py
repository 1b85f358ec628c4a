"""Confidence intervals for audit estimates, and the gate policies.

Proportions (accuracy, recall, success rate) get Wilson score intervals by default:
they stay inside [0, 1], behave at 0 and 1, and have close to nominal coverage down to
small n. Clopper-Pearson (exact, conservative) is there for compliance settings and for
the membership-inference epsilon bound. Differences of paired proportions (accuracy
drop) use Newcombe's hybrid score interval. Statistics without a closed form (a
range of rates over groups) get a percentile bootstrap interval from replicates the
caller draws. scipy and numpy are imported inside the functions that need them, so
that loading this module costs nothing.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from .records import Estimate

POLICIES = ("estimate", "lower", "upper")
PROPORTION_METHODS = ("wilson", "clopper-pearson")


def _check_confidence(confidence: float) -> None:
    if not (isinstance(confidence, (int, float)) and 0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be a number strictly between 0 and 1, got {confidence!r}")


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def _check_counts(successes: int, n: int) -> None:
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (n = 0 gives [0, 1])."""
    _check_confidence(confidence)
    _check_counts(successes, n)
    if n == 0:
        return 0.0, 1.0
    z = _z(confidence)
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def clopper_pearson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval: guaranteed coverage, wider than Wilson."""
    _check_confidence(confidence)
    _check_counts(successes, n)
    if n == 0:
        return 0.0, 1.0
    from scipy.stats import beta

    alpha = 1.0 - confidence
    low = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, n - successes + 1))
    high = 1.0 if successes == n else float(beta.ppf(1 - alpha / 2, successes + 1, n - successes))
    p = successes / n
    return min(low, p), max(high, p)


def proportion(successes: int, n: int, confidence: float = 0.95, method: str = "wilson") -> Estimate:
    """A proportion ``successes / n`` as an Estimate with its interval."""
    if method == "wilson":
        low, high = wilson_interval(successes, n, confidence)
    elif method == "clopper-pearson":
        low, high = clopper_pearson_interval(successes, n, confidence)
    else:
        raise ValueError(f"method must be one of {PROPORTION_METHODS}, got {method!r}")
    value = successes / n if n else 0.0
    return Estimate(value=value, low=low, high=high, n=n, method=method, confidence=confidence)


def paired_difference(
    both: int, only_first: int, only_second: int, neither: int, confidence: float = 0.95
) -> Estimate:
    """Difference p1 - p2 of two proportions measured on the same units.

    The four counts are the 2x2 table of (first succeeded, second succeeded). Uses
    Newcombe's (1998) method 10: Wilson intervals of each margin combined with the
    correlation of the pair, which stays inside [-1, 1] and copes with zero cells.
    """
    _check_confidence(confidence)
    counts = (both, only_first, only_second, neither)
    if any(c < 0 for c in counts):
        raise ValueError(f"paired counts must be non-negative, got {counts}")
    n = sum(counts)
    if n == 0:
        return Estimate(0.0, -1.0, 1.0, 0, "newcombe-paired", confidence)
    first, second = both + only_first, both + only_second
    p1, p2 = first / n, second / n
    l1, u1 = wilson_interval(first, n, confidence)
    l2, u2 = wilson_interval(second, n, confidence)
    margins = (both + only_first) * (only_second + neither) * (both + only_second) * (only_first + neither)
    phi = (both * neither - only_first * only_second) / math.sqrt(margins) if margins else 0.0
    delta = p1 - p2
    d_low = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    d_high = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    low, high = max(-1.0, delta - d_low), min(1.0, delta + d_high)
    return Estimate(delta, min(low, delta), max(high, delta), n, "newcombe-paired", confidence)


def bootstrap_percentile(value: float, replicates, n: int, confidence: float = 0.95,
                         method: str = "bootstrap-percentile") -> Estimate:
    """A statistic with the percentile interval of its bootstrap replicates.

    ``value`` is the statistic on the data, ``replicates`` its values on resamples
    (drawn by the caller, from a seeded generator); ``n`` is the number of samples.
    Replicates where the statistic is undefined (NaN, e.g. a resample without a
    positive sample) are left out. The interval is widened to contain ``value`` where
    the bootstrap distribution is biased (as for a maximum or a range over groups).
    """
    import numpy as np

    _check_confidence(confidence)
    values = np.asarray(replicates, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("no bootstrap replicate of the statistic is defined")
    alpha = 1.0 - confidence
    low, high = (float(q) for q in np.quantile(values, [alpha / 2, 1 - alpha / 2]))
    return Estimate(value, min(low, value), max(high, value), n, method, confidence)


def gate_passes(estimate: Estimate, op: str, threshold: float, policy: str) -> bool:
    """Whether an estimate meets ``op threshold`` under a gate policy.

    - ``estimate``: the point estimate must meet the threshold.
    - ``lower``: the pessimistic bound must meet it (conservative, for compliance):
      the interval's low end for ``>=``, its high end for ``<=``.
    - ``upper``: only the optimistic bound must meet it, so the gate fails only when
      the data rule the requirement out (flake-proof in CI).
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    if op == ">=":
        value = {"estimate": estimate.value, "lower": estimate.low, "upper": estimate.high}[policy]
        return value >= threshold
    if op == "<=":
        value = {"estimate": estimate.value, "lower": estimate.high, "upper": estimate.low}[policy]
        return value <= threshold
    raise ValueError(f"op must be '>=' or '<=', got {op!r}")
