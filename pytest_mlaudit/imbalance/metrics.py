"""Minority-class metrics of a binary decision, with their intervals.

Proportions (recall, precision, specificity) are counted and get the closed-form
interval of :func:`pytest_mlaudit.stats.proportion`. F1, PR-AUC, balanced accuracy and
G-mean have none, so they get a seeded stratified bootstrap
(:func:`pytest_mlaudit.stats.counted_stratified_bootstrap`, of the cells below). ROC
AUC is the Mann-Whitney statistic with DeLong's interval
(:func:`pytest_mlaudit.stats.auc_interval`; equal to scikit-learn's ``roc_auc_score``):
a ranking metric that, unlike accuracy, a constant model cannot score well on however
imbalanced the classes.

Neither the point estimates nor the bootstrap replicates call scikit-learn's and
imbalanced-learn's functions (``f1_score``, ``average_precision_score``,
``balanced_accuracy_score``, ``geometric_mean_score``): ``average_precision_score``
alone costs about 6 ms on 18,000 rows (6 s for 1,000 replicates), and each of them
makes several copies of the rows (label encoding, sorting), about 130 MB of peak memory
at 1M test rows. The test rows are first merged into cells the metrics cannot tell
apart (:func:`_cells`), and :func:`weighted_metrics` evaluates the library's definitions
on the cells' multiplicity weights: the cells' sizes for the point estimates, the
resamples' weights, vectorized, for the replicates. The tests check that it agrees with
the library functions given the same ``sample_weight``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..records import Estimate
from ..stats import auc_interval, counted_stratified_bootstrap, proportion

METRICS = ("recall", "precision", "f1", "pr_auc", "roc_auc", "balanced_accuracy", "g_mean", "specificity")
AUC_MIN_PER_CLASS = 2  # DeLong's variance needs two scores of each class


@dataclass(frozen=True)
class MinorityMetrics:
    """The minority-class metrics of one model on one test split, each with its interval.

    ``confusion_matrix`` is ``((TN, FP), (FN, TP))``: rows are the true class (rest,
    positive), columns the predicted one. ``pr_auc`` and ``roc_auc`` are None for a
    model with neither ``predict_proba`` nor ``decision_function``; ``roc_auc`` is also
    None when either class has fewer than two test samples.
    """

    recall: Estimate
    precision: Estimate
    specificity: Estimate
    f1: Estimate
    pr_auc: Estimate | None
    roc_auc: Estimate | None
    balanced_accuracy: Estimate
    g_mean: Estimate
    confusion_matrix: tuple[tuple[int, int], tuple[int, int]]


def minority_metrics(is_positive, predicted_positive, scores, *, confidence: float, seed: int,
                     n_resamples: int = 1000) -> MinorityMetrics:
    """Metrics of ``predicted_positive`` (bool) against ``is_positive`` (bool); ``scores`` may be None."""
    cells, cell_y, cell_pred, cell_scores = _cells(is_positive, predicted_positive, scores)
    sizes = np.bincount(cells, minlength=len(cell_y))
    point = {name: float(values[0]) for name, values in
             weighted_metrics(cell_y, cell_pred, cell_scores, sizes[None, :].astype(np.float64)).items()}
    tn, fp, fn, tp = (int(sizes[(cell_y == truth) & (cell_pred == decision)].sum())
                      for truth, decision in ((0, 0), (0, 1), (1, 0), (1, 1)))
    del cells  # the rows are counted per cell: nothing per row is needed from here on
    intervals = counted_stratified_bootstrap(
        lambda weights: weighted_metrics(cell_y, cell_pred, cell_scores, weights), sizes, cell_y, point,
        n_resamples=n_resamples, seed=seed, confidence=confidence)
    recall = proportion(tp, tp + fn, confidence)
    precision = proportion(tp, tp + fp, confidence)
    specificity = proportion(tn, tn + fp, confidence)
    roc_auc = None
    if scores is not None and min(tp + fn, tn + fp) >= AUC_MIN_PER_CLASS:
        positive = np.asarray(is_positive, dtype=bool)
        roc_auc = auc_interval(scores[positive], scores[~positive], confidence)
    return MinorityMetrics(
        recall=recall, precision=precision, specificity=specificity,
        f1=intervals["f1"], pr_auc=intervals.get("pr_auc"), roc_auc=roc_auc,
        balanced_accuracy=intervals["balanced_accuracy"], g_mean=intervals["g_mean"],
        confusion_matrix=((tn, fp), (fn, tp)),
    )


def weighted_metrics(y, pred, scores, weights) -> dict:
    """F1, balanced accuracy, G-mean and average precision under multiplicity weights.

    ``weights`` has shape ``(replicates, n)``; every metric comes back with shape
    ``(replicates,)``. Average precision follows scikit-learn's definition (no
    interpolation): the sum over distinct score thresholds of the precision at the
    threshold times the gain in recall.
    """
    positives = weights @ y
    negatives = weights.sum(axis=1) - positives
    tp = weights @ (y * pred)
    fp = weights @ ((1 - y) * pred)
    recall = tp / positives
    specificity = (negatives - fp) / negatives
    f1_denominator = tp + positives + fp  # 2TP + FP + FN
    values = {
        "f1": np.divide(2 * tp, f1_denominator, out=np.zeros_like(tp), where=f1_denominator > 0),
        "balanced_accuracy": (recall + specificity) / 2,
        "g_mean": np.sqrt(recall * specificity),
    }
    if scores is not None:
        values["pr_auc"] = _weighted_average_precision(y, scores, weights, positives)
    return values


def _weighted_average_precision(y, scores, weights, positives):
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    last_of_threshold = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
    w = weights[:, order]
    tps = np.cumsum(w * y[order], axis=1)[:, last_of_threshold]
    predicted = np.cumsum(w, axis=1)[:, last_of_threshold]
    precision = np.divide(tps, predicted, out=np.ones_like(tps), where=predicted > 0)
    recall_gain = np.diff(tps, axis=1, prepend=0.0) / positives[:, None]
    return (recall_gain * precision).sum(axis=1)


def _cells(y, pred, scores):
    """Merge test rows the metrics cannot tell apart: same class, same decision, same PR-curve step.

    Average precision only looks at the precision at each distinct score of a positive
    row; a row counts in the precision at the positive scores at or below its own. Rows
    of the same class and decision entering the curve at the same step are
    interchangeable, and each cell takes that step's score (rows below every positive
    score take a score below them all). Returns the cell id of each row and each
    cell's class, decision and score (None without scores).
    """
    # per row: class and decision in one byte, then one int64 key; no other per-row copy
    kind = 2 * np.asarray(y).astype(np.int8) + np.asarray(pred).astype(np.int8)
    if scores is None:
        steps, entries = None, 1
        key = kind.astype(np.int64)
    else:
        steps = np.unique(scores[kind >= 2])  # the positives' scores, ascending
        entries = steps.size + 1
        # the largest positive score <= the row's (0 if none, else 1 + its index)
        key = np.searchsorted(steps, scores, side="right").astype(np.int64, copy=False)
        key += entries * kind.astype(np.int64)
    # one key per row, ordered as (class, decision, step): the cells are the keys present, in that order
    present = np.bincount(key, minlength=4 * entries) > 0
    keys = np.flatnonzero(present)
    cells = (np.cumsum(present) - 1)[key]
    cell_y, cell_pred = keys // entries // 2, keys // entries % 2
    cell_scores = None
    if scores is not None:
        entry = keys % entries - 1
        cell_scores = np.where(entry >= 0, steps[np.maximum(entry, 0)], steps[0] - 1.0)
    return cells, cell_y, cell_pred, cell_scores
