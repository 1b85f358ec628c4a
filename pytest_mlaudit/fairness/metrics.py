"""The fairness metrics and their intervals: per-group rates and the disparities between groups.

Everything is computed from each group's confusion counts (true and false positives
and negatives, :mod:`.groups`), with fairlearn's formulas: the per-group rates as its
``selection_rate``, ``true_positive_rate``, ``false_positive_rate`` and precision
(0 without a selection), the disparities as its ``demographic_parity_difference`` /
``_ratio``, ``equalized_odds_difference`` (worst case of the TPR and FPR differences)
and ``equal_opportunity_difference`` "between groups" (the largest minus the smallest
group value, or the smallest over the largest). The measurement does not call
fairlearn: its ``MetricFrame`` holds per-row frames, which costs memory in proportion
to the rows (see :mod:`.groups`); the tests compare these figures with fairlearn's.
With several sensitive features the groups are their intersections, as in fairlearn;
each feature alone is reported beside them (its counts are sums of the intersection's).

Per-group rates get Wilson intervals. The disparities get a percentile bootstrap
stratified by group: resampling a group's samples with replacement is exactly a
multinomial draw of its four confusion counts from their observed shares, so each of
the ``n_bootstrap`` replicates costs a few array operations on (groups, 4) counts,
never a pass over the rows. Since the bootstrap depends on the data only through the
counts, the counts of data shards added together and the same seed give exactly the
single run's intervals (:mod:`.pooling`). A range over groups is biased upwards in
small groups, and so is its bootstrap distribution: read the interval of a difference
near 0 with that in mind.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..records import Check, Estimate
from ..stats import bootstrap_percentile, bootstrap_weights, proportion, wilson_interval
from .groups import FN, FP, TN, TP, CountTable, count_rows
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

    ``sensitive``: the group columns (a DataFrame, or a dict of name -> column). The
    rows are counted in chunks (:func:`.groups.count_rows`), then judged as
    :func:`evaluate_counts` does.
    """
    if hasattr(sensitive, "columns"):
        sensitive = {str(column): sensitive.iloc[:, i] for i, column in enumerate(sensitive.columns)}
    table = count_rows(sensitive, np.asarray(y01).astype(bool, copy=False),
                       np.asarray(predicted).astype(bool, copy=False))
    return evaluate_counts(table, positive_label, n_bootstrap, confidence=confidence, seed=seed)


def evaluate_counts(table: CountTable, positive_label, n_bootstrap: int, *, confidence: float,
                    seed: int) -> tuple[FairnessResult, list[Check]]:
    """Accuracy, per-group rates and disparities from the confusion counts of the intersection groups.

    The groups are the intersection of the table's columns, and each column alone when
    there are several. Returns the result and the checks of the evaluation (bootstrap
    replicates defined), in order.
    """
    rng = np.random.default_rng(seed)
    columns = table.columns
    partitions = [table] + ([table.by((column,)) for column in columns] if len(columns) > 1 else [])
    checks: list[Check] = []
    parts = [partition(part, positive_label, confidence, n_bootstrap, rng, checks) for part in partitions]
    totals = table.counts.sum(axis=0)
    n = int(totals.sum())
    accuracy = proportion(int(totals[TP] + totals[TN]), n, confidence)
    result = FairnessResult(accuracy=accuracy, n=n, positive_label=positive_label,
                            intersection=parts[0], by_feature=tuple(parts[1:]))
    return result, checks


def partition(table: CountTable, positive_label, confidence, n_bootstrap, rng, checks: list[Check]) -> GroupFairness:
    """The groups of one partition (the table's columns) and their disparities; appends its checks to ``checks``."""
    columns, counts = table.columns, table.counts
    labels = [_group_label(columns, key) for key in table.groups]
    for label, (tp, fp, fn, tn) in zip(labels, counts.tolist()):
        if tp + fn == 0:
            raise ValueError(f"group {label!r} has no sample with y == positive_label ({positive_label!r}): its "
                             f"recall, and so equalized odds and equal opportunity, are undefined. Merge it with "
                             f"another group or collect more data")
        if fp + tn == 0:
            raise ValueError(f"group {label!r} has no sample with y != positive_label ({positive_label!r}): its "
                             f"false positive rate, and so equalized odds, are undefined. Merge it with another "
                             f"group or collect more data")
    if not (counts[:, TP] + counts[:, FP]).any():
        raise ValueError("the model selects no sample (predicts no positive_label): the demographic parity "
                         "ratio is undefined")

    group_metrics = tuple(
        GroupMetrics(
            group=label, size=tp + fp + fn + tn,
            selection_rate=_rate(tp + fp, tp + fp + fn + tn, confidence),
            recall=_rate(tp, tp + fn, confidence),
            false_positive_rate=_rate(fp, fp + tn, confidence),
            precision=_rate(tp, tp + fp, confidence),
        )
        for label, (tp, fp, fn, tn) in zip(labels, counts.tolist())
    )
    values = _disparities_from_counts(counts)
    replicates = _disparities_from_counts(_resample_counts(counts, n_bootstrap, rng))
    n = int(counts.sum())
    estimates = {name: bootstrap_percentile(float(values[name]), replicates[name], n, confidence, BOOTSTRAP_METHOD)
                 for name in DISPARITIES}

    scope = " x ".join(columns)
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


def _rate(successes, n, confidence) -> Estimate:
    """``successes / n`` (0 when n = 0, as fairlearn's precision without a selection) with its Wilson interval."""
    value = successes / n if n else 0.0
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
    tp, fp, fn, tn = (counts[..., i] for i in (TP, FP, FN, TN))
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
