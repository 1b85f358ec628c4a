"""The fairness metrics and their intervals: per-group rates and the disparities between groups.

The values come from one fairlearn ``MetricFrame`` per partition of the samples: the
per-group rates from ``by_group``, the disparities from its ``difference()`` and
``ratio()`` "between groups" (the largest minus the smallest group value, or the
smallest over the largest), which is how fairlearn's ``demographic_parity_difference``
/ ``_ratio``, ``equalized_odds_difference`` (worst case of the TPR and FPR
differences) and ``equal_opportunity_difference`` compute them; calling those four
functions would build four more frames for the same numbers (tests compare with them).
With several sensitive features the groups are their intersections, as in fairlearn;
each feature alone is reported beside them.

The intervals come from each group's confusion counts (true and false positives and
negatives). Per-group rates get Wilson intervals. The disparities get a percentile
bootstrap stratified by group: resampling a group's samples with replacement is
exactly a multinomial draw of its four confusion counts from their observed shares, so
each of the ``n_bootstrap`` replicates costs a few array operations rather than a
``MetricFrame`` (about a millisecond each, and a thousand of them per audit). The
statistics are recomputed from the counts for the replicates; a check in every record
confirms that the same formulas on the observed counts reproduce fairlearn's values.
A range over groups is biased upwards in small groups, and so is its bootstrap
distribution: read the interval of a difference near 0 with that in mind.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import precision_score

from ..records import Check, Estimate
from ..stats import bootstrap_percentile, bootstrap_weights, proportion, wilson_interval
from .results import FairnessResult, GroupFairness, GroupMetrics

DISPARITIES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equal_opportunity_difference",
)
GROUP_RATES = (
    ("selection_rate", "selection rate"),
    ("recall", "recall (TPR)"),
    ("false_positive_rate", "false positive rate"),
    ("precision", "precision"),
)
BOOTSTRAP_METHOD = "bootstrap-percentile, stratified by group"


def evaluate(y01, predicted, sensitive, positive_label, n_bootstrap: int, *, confidence: float,
             seed: int) -> tuple[FairnessResult, list[Check]]:
    """Accuracy, per-group rates and disparities of 0/1 ``predicted`` against 0/1 ``y01``.

    The groups are the intersection of the columns of ``sensitive`` (a DataFrame), and
    each column alone when there are several. Returns the result and the checks of
    the evaluation (counts reproduce fairlearn, bootstrap replicates defined), in order.
    """
    rng = np.random.default_rng(seed)
    columns = list(sensitive.columns)
    partitions = [tuple(columns)] + ([(column,) for column in columns] if len(columns) > 1 else [])
    checks: list[Check] = []
    parts = [partition(y01, predicted, sensitive, part, positive_label, confidence, n_bootstrap, rng, checks)
             for part in partitions]
    accuracy = proportion(int(np.count_nonzero(predicted == y01)), int(y01.size), confidence)
    result = FairnessResult(accuracy=accuracy, n=int(y01.size), positive_label=positive_label,
                            intersection=parts[0], by_feature=tuple(parts[1:]))
    return result, checks


def partition(y01, predicted, sensitive, columns, positive_label, confidence, n_bootstrap, rng,
              checks: list[Check]) -> GroupFairness:
    """The groups of one partition (``columns``) and their disparities; appends its checks to ``checks``."""
    from fairlearn import metrics as fm

    groups = sensitive[list(columns)]
    frame = fm.MetricFrame(
        metrics={
            "selection_rate": fm.selection_rate,
            "recall": fm.true_positive_rate,
            "false_positive_rate": fm.false_positive_rate,
            "precision": lambda y_true, y_pred: precision_score(y_true, y_pred, zero_division=0.0),
        },
        y_true=y01, y_pred=predicted, sensitive_features=groups,
    )
    # confusion counts per group from group codes and numpy, never columns added to the user's frame
    # (whose names could collide with theirs); O(rows) memory, like the frame itself
    grouped = groups.groupby(list(columns), sort=True)
    index = grouped.size().index
    cell = 3 - np.asarray(y01, dtype=np.int64) - 2 * np.asarray(predicted, dtype=np.int64)  # tp 0, fp 1, fn 2, tn 3
    counts = np.bincount(grouped.ngroup().to_numpy() * 4 + cell, minlength=4 * len(index)).reshape(-1, 4)
    by_group = frame.by_group.reindex(index)
    labels = [_group_label(columns, key) for key in index]
    for label, (tp, fp, fn, tn) in zip(labels, counts):
        if tp + fn == 0:
            raise ValueError(f"group {label!r} has no sample with y == positive_label ({positive_label!r}): its "
                             f"recall, and so equalized odds and equal opportunity, are undefined. Merge it with "
                             f"another group or collect more data")
        if fp + tn == 0:
            raise ValueError(f"group {label!r} has no sample with y != positive_label ({positive_label!r}): its "
                             f"false positive rate, and so equalized odds, are undefined. Merge it with another "
                             f"group or collect more data")
    if not predicted.any():
        raise ValueError("the model selects no sample (predicts no positive_label): the demographic parity "
                         "ratio is undefined")

    group_metrics = tuple(
        GroupMetrics(
            group=label, size=int(tp + fp + fn + tn),
            selection_rate=_rate(rates["selection_rate"], tp + fp, tp + fp + fn + tn, confidence),
            recall=_rate(rates["recall"], tp, tp + fn, confidence),
            false_positive_rate=_rate(rates["false_positive_rate"], fp, fp + tn, confidence),
            precision=_rate(rates["precision"], tp, tp + fp, confidence),
        )
        for label, (tp, fp, fn, tn), (_, rates) in zip(labels, counts, by_group.iterrows())
    )
    differences, ratios = frame.difference(method="between_groups"), frame.ratio(method="between_groups")
    fairlearn_values = {
        "demographic_parity_difference": float(differences["selection_rate"]),
        "demographic_parity_ratio": float(ratios["selection_rate"]),
        "equalized_odds_difference": float(max(differences["recall"], differences["false_positive_rate"])),
        "equal_opportunity_difference": float(differences["recall"]),
    }
    replicates = _disparities_from_counts(_resample_counts(counts, n_bootstrap, rng))
    estimates = {name: bootstrap_percentile(fairlearn_values[name], replicates[name], int(y01.size), confidence,
                                            BOOTSTRAP_METHOD)
                 for name in DISPARITIES}

    scope = " x ".join(columns)
    from_counts = _disparities_from_counts(counts)
    gap = max(abs(float(from_counts[name]) - fairlearn_values[name]) for name in DISPARITIES)
    gap = max([gap] + [abs(getattr(g, key).value - float(rates[key])) for g, (_, rates) in
                       zip(group_metrics, by_group.iterrows()) for key, _ in GROUP_RATES])
    checks.append(Check(f"counts reproduce fairlearn ({scope})", gap < 1e-9,
                        f"largest difference between the count formulas behind the intervals and fairlearn's values: {gap:.2g}"))
    undefined = {name: int(np.count_nonzero(~np.isfinite(replicates[name]))) for name in DISPARITIES}
    worst = max(undefined.values())
    checks.append(Check(f"bootstrap replicates defined ({scope})", worst <= 0.01 * n_bootstrap,
                        f"replicates left out because a resampled group had no positive or no negative sample "
                        f"(or no selection): {worst} of {n_bootstrap}"))
    return GroupFairness(features=tuple(columns), groups=group_metrics, **estimates)


def _group_label(columns, key) -> str:
    if len(columns) == 1:
        return str(key[0] if isinstance(key, tuple) else key)
    return ", ".join(f"{column}={value}" for column, value in zip(columns, key))


def _rate(value, successes, n, confidence) -> Estimate:
    """fairlearn's value with the Wilson interval of its counts (n = 0: [0, 1])."""
    value = float(value) if n else 0.0
    low, high = wilson_interval(int(successes), int(n), confidence)
    return Estimate(value, min(low, value), max(high, value), int(n), "wilson", confidence, (int(successes), int(n)))


def _resample_counts(counts, n_bootstrap: int, rng):
    """Confusion counts (groups, 4) of ``n_bootstrap`` resamples, each group resampled to its own size."""
    groups = np.repeat(np.arange(counts.shape[0]), counts.shape[1])
    weights = bootstrap_weights(counts.ravel(), groups, n_resamples=n_bootstrap, seed=rng)
    return weights.reshape(n_bootstrap, *counts.shape)


def _disparities_from_counts(counts) -> dict[str, Any]:
    """The four disparities from confusion counts of shape (..., groups, 4): tp, fp, fn, tn.

    The formulas of fairlearn's functions with ``method="between_groups"`` and
    ``agg="worst_case"``; NaN where a group has no positive or no negative sample.
    """
    counts = np.asarray(counts, dtype=np.float64)
    tp, fp, fn, tn = (counts[..., i] for i in range(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        selection = (tp + fp) / (tp + fp + fn + tn)
        tpr = tp / (tp + fn)
        fpr = fp / (fp + tn)
        ratio = selection.min(axis=-1) / selection.max(axis=-1)

    def spread(rates):
        return rates.max(axis=-1) - rates.min(axis=-1)

    return {
        "demographic_parity_difference": spread(selection),
        "demographic_parity_ratio": ratio,
        "equalized_odds_difference": np.maximum(spread(tpr), spread(fpr)),
        "equal_opportunity_difference": spread(tpr),
    }
