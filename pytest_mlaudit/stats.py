"""Confidence intervals for audit estimates, and the gate policies.

Proportions (accuracy, recall, success rate) get Wilson score intervals by default:
they stay inside [0, 1], behave at 0 and 1, and have close to nominal coverage down to
small n. Clopper-Pearson (exact, conservative) is there for compliance settings and for
the membership-inference epsilon bound. Differences of paired proportions (accuracy
drop) use Newcombe's hybrid score interval. Statistics with no closed form get a
seeded percentile bootstrap, stratified: :func:`bootstrap_weights` draws the resamples
(by class for F1 and PR-AUC, by group for disparities between groups) and
:func:`bootstrap_percentile` turns the replicates into an Estimate;
:func:`stratified_bootstrap` does both for a statistic of units. scipy and numpy are
imported inside the functions that need them, so that loading this module costs nothing.
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
    return _wilson(successes / n, n, _z(confidence))


def _wilson(p: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score bounds for an observed proportion ``p`` over ``n`` (possibly effective) trials."""
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
    return Estimate(value=value, low=low, high=high, n=n, method=method, confidence=confidence,
                    counts=(int(successes), int(n)))


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
        return Estimate(0.0, -1.0, 1.0, 0, "newcombe-paired", confidence, (0, 0, 0, 0))
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
    return Estimate(delta, min(low, delta), max(high, delta), n, "newcombe-paired", confidence,
                    tuple(int(count) for count in counts))


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


# ---------------------------------------------------------------------------
# Stratified bootstrap: statistics without a closed-form interval (F1 and PR-AUC
# in the imbalance audits, disparities between groups in the fairness audits).
# ---------------------------------------------------------------------------


BOOTSTRAP_METHOD = "bootstrap-percentile-stratified"
# The multiplicity weights of the resamples are drawn in chunks of at most this many
# numbers (resamples x cells, 16 MB of float64): memory stays bounded when there are
# as many cells as rows (continuous scores), whatever the number of resamples.
BOOTSTRAP_CHUNK_ELEMENTS = 2_000_000


def bootstrap_weights(counts, strata, *, n_resamples: int, seed):
    """Multiplicity weights of ``n_resamples`` stratified bootstrap resamples of counted units.

    ``counts[j]`` is the number of units in cell ``j`` (units a statistic cannot tell
    apart, e.g. one group's true positives) and ``strata[j]`` the stratum the cell lies
    in (a class, a group). Each stratum is resampled with replacement to its own size:
    drawing its ``m`` units and counting them per cell is exactly a multinomial draw of
    ``m`` over its cells with the observed shares, so the weights come straight from
    ``multinomial``, at a cost of ``n_resamples * n_cells`` numbers whatever the number
    of units. Returns an array of shape ``(n_resamples, n_cells)`` (an empty cell has
    probability 0). The strata are drawn in sorted order from one generator: ``seed`` is
    an integer, or a numpy ``Generator`` to continue drawing from.
    """
    import numpy as np

    counts = np.asarray(counts)
    strata = np.asarray(strata)
    if counts.ndim != 1 or counts.shape != strata.shape:
        raise ValueError(f"counts and strata must be 1-D, one entry per cell: got shapes {counts.shape} and {strata.shape}")
    rng = np.random.default_rng(seed)
    weights = np.zeros((n_resamples, counts.size))
    for stratum in np.unique(strata):
        cells = np.flatnonzero(strata == stratum)
        m = int(counts[cells].sum())
        if m:
            weights[:, cells] = rng.multinomial(m, counts[cells] / m, size=n_resamples)
    return weights


def bootstrap_percentile(value: float, replicates, n: int, confidence: float = 0.95,
                         method: str = "bootstrap-percentile") -> Estimate:
    """A statistic with the percentile interval of its bootstrap replicates.

    ``value`` is the statistic on the data, ``replicates`` its values on resamples
    (e.g. from :func:`bootstrap_weights`); ``n`` is the number of units. Replicates
    where the statistic is undefined (NaN, e.g. a resampled group without a positive
    sample) are left out. The interval is widened to contain ``value`` where the
    bootstrap distribution is biased (as for a maximum or a range over groups).
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


def stratified_bootstrap(statistic, strata, point: dict[str, float], *, seed: int, cells=None,
                         n_resamples: int = 1000, confidence: float = 0.95) -> dict[str, Estimate]:
    """Percentile intervals of statistics of units, resampled within strata (:func:`bootstrap_weights`).

    The units are resampled with replacement *within* each stratum (e.g. each class of
    a test split, ``strata[i]`` being unit i's), so every resample keeps the class
    counts of the sample: a resample never lacks the minority class, and the interval
    describes a stratified test split.

    Resamples reach ``statistic`` as multiplicity weights: ``statistic(weights)`` gets an
    array of shape ``(resamples, n_cells)`` and returns ``{name: array of shape
    (resamples,)}``, for a chunk of the resamples at a time (at most
    ``BOOTSTRAP_CHUNK_ELEMENTS`` weights), each value defined (stratification keeps
    every class in every resample). ``cells[i]`` is unit i's cell id, 0..n_cells-1,
    each cell inside one stratum; by default every unit is its own cell. With a few
    hundred cells, 1,000 resamples of 18,000 units cost milliseconds.

    ``point`` holds each statistic on the sample itself (computed by the caller with the
    reference implementation); it is the Estimate's value (:func:`bootstrap_percentile`).
    ``seed`` makes the resamples reproducible; ``n`` of each Estimate is the number of units.
    """
    import numpy as np

    _check_confidence(confidence)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 2:
        raise ValueError(f"n_resamples must be an integer of at least 2, got {n_resamples!r}")
    strata = np.asarray(strata)
    if strata.ndim != 1 or strata.size == 0:
        raise ValueError("strata must be a non-empty 1-D array with one stratum label per unit")
    cells = np.arange(strata.size) if cells is None else np.asarray(cells)
    if cells.shape != strata.shape:
        raise ValueError(f"cells must give one cell id per unit: {cells.shape} against strata {strata.shape}")
    n_cells = int(cells.max()) + 1
    _, unit_stratum = np.unique(strata, return_inverse=True)
    cell_stratum = np.full(n_cells, -1)
    cell_stratum[cells] = unit_stratum
    if np.any(cell_stratum[cells] != unit_stratum):
        raise ValueError("each cell must lie inside one stratum")
    cell_counts = np.bincount(cells, minlength=n_cells)
    return counted_stratified_bootstrap(statistic, cell_counts, cell_stratum, point, seed=seed,
                                        n_resamples=n_resamples, confidence=confidence)


def counted_stratified_bootstrap(statistic, cell_counts, cell_strata, point: dict[str, float], *, seed: int,
                                 n_resamples: int = 1000, confidence: float = 0.95) -> dict[str, Estimate]:
    """:func:`stratified_bootstrap` of units already counted per cell: ``cell_counts[j]`` units in cell j, of
    stratum ``cell_strata[j]``. The same resamples for the same seed, without a per-unit array."""
    import numpy as np

    _check_confidence(confidence)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 2:
        raise ValueError(f"n_resamples must be an integer of at least 2, got {n_resamples!r}")
    cell_counts = np.asarray(cell_counts)
    n_cells = cell_counts.size
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_resamples, BOOTSTRAP_CHUNK_ELEMENTS // n_cells))
    replicates: dict[str, list] = {name: [] for name in point}
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        values = statistic(bootstrap_weights(cell_counts, cell_strata, n_resamples=size, seed=rng))
        for name in point:
            samples = np.asarray(values[name], dtype=float)
            if samples.shape != (size,) or not np.isfinite(samples).all():
                raise ValueError(f"bootstrap statistic {name!r} must give one finite value per resample")
            replicates[name].append(samples)
    return {name: bootstrap_percentile(float(value), np.concatenate(replicates[name]), int(cell_counts.sum()),
                                       confidence, BOOTSTRAP_METHOD)
            for name, value in point.items()}


# ---------------------------------------------------------------------------
# Repeated runs and score distributions (privacy audits): proportions over
# runs x samples, quantiles of runs, independent differences, ROC AUC.
# ---------------------------------------------------------------------------


def _t(confidence: float, df: float) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + confidence / 2.0, df))


def crossed_proportion(outcomes, confidence: float = 0.95) -> Estimate:
    """Proportion of successes in a runs x samples table of 0/1 outcomes (seed x test sample).

    Both the runs (training randomness) and the samples (the finite test set) are
    random draws, so the interval carries both. The variance of the grand mean is
    estimated as ``s2_runs / S + s2_samples / N`` (variances of the run means and of
    the sample means; the run x sample interaction is counted twice, erring wide); it
    gives an effective sample size ``p (1 - p) / variance``, capped at the N samples (a
    test set of N samples never tells more than N samples' worth about the population),
    and a Wilson interval on it (Korn and Graubard's design-effect approach), with a
    Welch-Satterthwaite t quantile. When all runs are identical this is close to the
    Wilson interval of one run (n - 1 effective samples, a t quantile). ``n`` is the
    number of runs.
    """
    import numpy as np

    _check_confidence(confidence)
    table = np.asarray(outcomes, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] < 2 or table.shape[1] < 2:
        raise ValueError(f"outcomes must be a runs x samples table with at least 2 of each, got shape {table.shape}")
    if not np.isin(table, (0.0, 1.0)).all():
        raise ValueError("outcomes must be 0/1 (or boolean) values")
    runs, samples = table.shape
    p = float(table.mean())
    run_part = float(table.mean(axis=1).var(ddof=1)) / runs
    sample_part = float(table.mean(axis=0).var(ddof=1)) / samples
    variance = run_part + sample_part
    if variance == 0.0:
        n_effective, z = samples, _z(confidence)
    else:
        n_effective = min(samples, p * (1 - p) / variance)
        parts = [(part, dof) for part, dof in ((run_part, runs - 1), (sample_part, samples - 1)) if part > 0]
        df = variance ** 2 / sum(part ** 2 / dof for part, dof in parts)
        z = _t(confidence, df)
    low, high = _wilson(p, n_effective, z)
    return Estimate(p, low, high, runs, "wilson, effective n over runs x samples", confidence)


def quantile_interval(values, q: float, confidence: float = 0.95, bounds: tuple[float, float] = (0.0, 1.0)) -> Estimate:
    """The ``q`` quantile of repeated runs with a distribution-free order-statistic interval.

    The interval ``[x_(l), x_(u)]`` takes the order statistics whose binomial(n, q)
    coverage reaches ``confidence``; an end that no order statistic can reach with
    this many runs falls back to the metric's bound (e.g. the 5% quantile of 20 runs
    has no distribution-free 95% lower bound above 0: more runs are needed).
    """
    import numpy as np
    from scipy.stats import binom

    _check_confidence(confidence)
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be strictly between 0 and 1, got {q!r}")
    values = np.sort(np.asarray(values, dtype=np.float64).ravel())
    n = values.size
    if n == 0:
        raise ValueError("a quantile needs at least one run")
    value = float(np.quantile(values, q))
    alpha = (1.0 - confidence) / 2.0
    # P(x_(k) <= true quantile) = P(Binomial(n, q) >= k); order statistics are 1-based.
    k_low = int(binom.ppf(alpha, n, q))  # largest k with P(B >= k) >= 1 - alpha, when k >= 1
    while k_low >= 1 and binom.sf(k_low - 1, n, q) < 1.0 - alpha:
        k_low -= 1
    k_high = int(binom.ppf(1.0 - alpha, n, q)) + 1  # smallest k with P(B < k) >= 1 - alpha
    low = float(values[k_low - 1]) if k_low >= 1 else bounds[0]
    high = float(values[k_high - 1]) if k_high <= n else bounds[1]
    return Estimate(value, min(low, value), max(high, value), int(n), f"order statistics q={q:g}", confidence)


def independent_difference(successes_1: int, n_1: int, successes_2: int, n_2: int, confidence: float = 0.95) -> Estimate:
    """Difference p1 - p2 of proportions from two independent samples (Newcombe 1998, method 10).

    Wilson intervals of each proportion combined by the square-and-add rule; used for
    the membership-inference advantage TPR - FPR (members and non-members are
    different samples).
    """
    _check_confidence(confidence)
    _check_counts(successes_1, n_1)
    _check_counts(successes_2, n_2)
    if n_1 == 0 or n_2 == 0:
        raise ValueError(f"both samples must be non-empty, got n_1={n_1}, n_2={n_2}")
    p1, p2 = successes_1 / n_1, successes_2 / n_2
    l1, u1 = wilson_interval(successes_1, n_1, confidence)
    l2, u2 = wilson_interval(successes_2, n_2, confidence)
    delta = p1 - p2
    low = delta - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = delta + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Estimate(delta, max(-1.0, min(low, delta)), min(1.0, max(high, delta)), n_1 + n_2, "newcombe-independent",
                    confidence, (int(successes_1), int(n_1), int(successes_2), int(n_2)))


def auc_interval(positive_scores, negative_scores, confidence: float = 0.95) -> Estimate:
    """ROC AUC of scores (positives should score higher) with DeLong's (1988) interval.

    The AUC is the Mann-Whitney probability that a positive outranks a negative (ties
    count one half); its variance comes from the structural components of DeLong et
    al.; the normal interval is clipped to [0, 1]. ``n`` is the number of scores.
    """
    import numpy as np

    _check_confidence(confidence)
    pos = np.asarray(positive_scores, dtype=np.float64).ravel()
    neg = np.asarray(negative_scores, dtype=np.float64).ravel()
    m, k = pos.size, neg.size
    if m < 2 or k < 2:
        raise ValueError(f"an AUC interval needs at least 2 positive and 2 negative scores, got {m} and {k}")
    # structural components: share of negatives each positive beats, of positives each negative loses to (ties one
    # half), counted by binary search in the other side's sorted scores: the same numbers as midranks of all the
    # scores (rankdata), without ranking a concatenation of them (a few sorted copies per score)
    beaten = _twice_below(np.sort(neg), pos)
    auc = float(beaten.sum() / (2 * m * k))
    v10 = beaten / 2 / k
    del beaten
    v01 = 1.0 - _twice_below(np.sort(pos), neg) / 2 / m
    se = math.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / k)
    half = _z(confidence) * se
    return Estimate(auc, max(0.0, min(auc, auc - half)), min(1.0, max(auc, auc + half)), m + k, "delong", confidence)


def _twice_below(sorted_scores, scores):
    """For each score: twice the number of ``sorted_scores`` below it, plus those equal to it (an exact integer)."""
    import numpy as np

    count = np.searchsorted(sorted_scores, scores, side="left")
    count += np.searchsorted(sorted_scores, scores, side="right")
    return count


def bootstrap(statistic, *arrays, seed: int, strata=None, n_resamples: int = 1000,
              confidence: float = 0.95) -> Estimate:
    """A statistic of rows with its percentile bootstrap interval: the public helper for custom audits.

    ``statistic(*arrays)`` returns a number; the rows of every array (same length) are
    resampled together with replacement, within each stratum when ``strata`` (one label
    per row) is given, ``n_resamples`` times from ``seed``. Memory holds one resample at
    a time. Replicates where the statistic is not finite are left out.
    """
    import numpy as np

    _check_confidence(confidence)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 2:
        raise ValueError(f"n_resamples must be an integer of at least 2, got {n_resamples!r}")
    if not arrays:
        raise TypeError("bootstrap needs at least one array of rows to resample")
    arrays = tuple(np.asarray(array) for array in arrays)
    n = arrays[0].shape[0]
    if n == 0 or any(array.shape[0] != n for array in arrays):
        raise ValueError(f"the arrays must be non-empty with the same number of rows, got {[a.shape[0] for a in arrays]}")
    groups = [np.arange(n)] if strata is None else [np.flatnonzero(np.asarray(strata) == s) for s in np.unique(strata)]
    if strata is not None and np.asarray(strata).shape[0] != n:
        raise ValueError(f"strata must give one label per row ({n}), got {np.asarray(strata).shape[0]}")
    value = float(statistic(*arrays))
    rng = np.random.default_rng(seed)
    replicates = np.empty(n_resamples)
    for b in range(n_resamples):
        rows = np.concatenate([group[rng.integers(0, group.size, group.size)] for group in groups])
        replicates[b] = float(statistic(*(array[rows] for array in arrays)))
    method = "bootstrap-percentile" + ("-stratified" if strata is not None else "")
    return bootstrap_percentile(value, replicates, n, confidence, method)
