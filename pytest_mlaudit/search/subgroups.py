"""Weak subgroups: the slices of the data where a model does worse than on the rest, found with
false-discovery control.

Slices are the values of categorical columns, quantile bins of numeric ones, and (up to
``max_depth=2``) their intersections across two columns. Each slice with at least
``min_size`` units (and as many outside it) is compared with the rest of the data by a
one-sided two-proportion z-test (pooled variance; H1: the slice's metric is lower). A
search over many slices finds some by chance, which is the false-positive complaint
about slice finders; the p-values are therefore adjusted for the false-discovery rate, and a slice
is reported only when its adjusted p-value is at most ``fdr``. The default adjustment is
Benjamini-Yekutieli (``correction="by"``), valid under any dependence: slices overlap and
complementary slices (``c = 0``, ``c = 1``) have negatively correlated tests, which
Benjamini-Hochberg does not cover, and in simulation (no effect, 600 rows, three columns,
depth 2, 300 runs; tests/test_search_subgroups.py) BH's false-discovery rate was 0.083
(95% CI [0.057, 0.120]) at a nominal 0.05. ``correction="bh"`` is there for more power
when the slices are known to be positively dependent. Each reported slice has
its size, metric (Wilson interval), gap to the rest (Newcombe interval) and adjusted
p-value.

The gated number, ``worst_gap``, is the largest gap among the discovered slices, with its
interval; when no slice is discovered it is 0 (a degenerate interval, method saying so).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from .. import extras, validation
from ..authoring import Audit, audit
from ..records import Check, Estimate, SanityChecked
from ..stats import independent_difference, proportion
from .table import column_index, is_dataframe, predict_labels, table

METRICS = ("accuracy", "recall", "selection_rate")
CORRECTIONS = ("bh", "by")
MAX_CATEGORIES = 12  # a numeric column with at most this many distinct values is sliced by value
SHOWN = 20


@dataclass(frozen=True)
class Slice:
    """One subgroup: ``description`` ("group = B and test_score in [0.41, 1.2)"), its metric and its gap to the rest."""

    description: str
    size: int
    metric: Estimate
    rest: Estimate
    gap: Estimate  # rest minus slice: positive when the slice does worse
    p_value: float
    adjusted_p_value: float


@dataclass(frozen=True)
class WeakSubgroupResult(SanityChecked):
    """The slices discovered at false-discovery rate ``fdr`` (most significant first) among ``tested`` slices."""

    metric: str
    overall: Estimate
    slices: tuple[Slice, ...]
    tested: int
    fdr: float
    worst_gap: Estimate
    checks: tuple[Check, ...] = field(default_factory=tuple)


def weak_subgroups(model, X, y, *, features=None, slice_by=None, metric: str = "accuracy", max_depth: int = 2,
                   min_size: int = 30, bins: int = 4, fdr: float = 0.05, correction: str = "by",
                   positive_label: Any = 1, requirement=None) -> WeakSubgroupResult:
    """Search the slices of ``features`` (columns of X; all when None) and of ``slice_by`` for weak subgroups.

    ``slice_by`` is a table of further columns to slice on, row for row with X (a dict of
    arrays or a DataFrame): sensitive attributes kept out of the model, the true class.
    ``metric``: ``accuracy``, ``recall`` (of ``positive_label``) or ``selection_rate``
    (the share predicted ``positive_label``: a lower rate is the disparity).
    """
    with audit("search", "weak-subgroup search", requirement=requirement) as a:
        return _measure(a, model, X, y, features, slice_by, metric, max_depth, min_size, bins, fdr, correction,
                        positive_label)


def assert_no_weak_subgroup(model, X, y, *, gap_at_most: float = 0.05, fdr: float = 0.05, policy: str | None = None,
                            features=None, slice_by=None, metric: str = "accuracy", max_depth: int = 2,
                            min_size: int = 30, bins: int = 4, correction: str = "by", positive_label: Any = 1,
                            requirement=None) -> WeakSubgroupResult:
    """Search as :func:`weak_subgroups` does and gate ``worst_gap`` (the largest discovered gap) ``<= gap_at_most``."""
    with audit("search", "weak-subgroup search", requirement=requirement) as a:
        a.gate("worst_gap", at_most=gap_at_most, policy=policy, bounds=(0.0, 1.0))
        return _measure(a, model, X, y, features, slice_by, metric, max_depth, min_size, bins, fdr, correction,
                        positive_label)


@dataclass(frozen=True)
class SliceTest:
    """A slice's counts against the rest, before the multiple-testing adjustment."""

    description: str
    successes: int
    size: int
    rest_successes: int
    rest_size: int
    p_value: float


def one_sided_p_value(successes: int, size: int, rest_successes: int, rest_size: int) -> float:
    """Pooled two-proportion z-test of H1 "the slice's proportion is below the rest's"."""
    pooled = (successes + rest_successes) / (size + rest_size)
    variance = pooled * (1.0 - pooled) * (1.0 / size + 1.0 / rest_size)
    if variance <= 0.0:
        return 1.0
    z = (rest_successes / rest_size - successes / size) / math.sqrt(variance)
    return 1.0 - NormalDist().cdf(z)


def adjusted_p_values(p_values, correction: str = "by") -> np.ndarray:
    """Benjamini-Hochberg (``bh``) or Benjamini-Yekutieli (``by``) adjusted p-values (step-up, monotone)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scale = m / np.arange(1, m + 1)
    if correction == "by":
        scale = scale * np.sum(1.0 / np.arange(1, m + 1))
    stepped = np.minimum.accumulate((p[order] * scale)[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def slice_masks(columns: dict[str, np.ndarray], *, max_depth: int, bins: int):
    """(description, mask) of every slice: each column's values or quantile bins, and pairs across columns."""
    single: list[tuple[str, str, np.ndarray]] = []  # (column, description, mask)
    for name, values in columns.items():
        for description, mask in _column_slices(name, values, bins):
            single.append((name, description, mask))
    for _, description, mask in single:
        yield description, mask
    if max_depth >= 2:
        for (c1, d1, m1), (c2, d2, m2) in itertools.combinations(single, 2):
            if c1 != c2:
                yield f"{d1} and {d2}", m1 & m2


def _column_slices(name: str, values: np.ndarray, bins: int):
    numeric = values.dtype.kind in "iuf"
    distinct = np.unique(values) if numeric else np.unique(values.astype(str))
    if not numeric or distinct.size <= MAX_CATEGORIES:
        shown = values if numeric else values.astype(str)
        for value in distinct:
            yield f"{name} = {_fmt(value)}", shown == value
        return
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, bins + 1)))
    for k, (low, high) in enumerate(zip(edges[:-1], edges[1:])):
        last = k == len(edges) - 2
        mask = (values >= low) & ((values <= high) if last else (values < high))
        yield f"{name} in [{_fmt(low)}, {_fmt(high)}{']' if last else ')'}", mask


def slice_tests(units: np.ndarray, successes: np.ndarray, columns: dict[str, np.ndarray], *, max_depth: int,
                min_size: int, bins: int) -> list[SliceTest]:
    """Each slice with at least ``min_size`` units inside and outside, tested against the rest."""
    total_units, total_successes = int(units.sum()), int((successes & units).sum())
    tests = []
    for description, mask in slice_masks(columns, max_depth=max_depth, bins=bins):
        inside = mask & units
        size = int(inside.sum())
        if size < min_size or total_units - size < min_size:
            continue
        k = int((successes & inside).sum())
        rest_k, rest_n = total_successes - k, total_units - size
        tests.append(SliceTest(description, k, size, rest_k, rest_n, one_sided_p_value(k, size, rest_k, rest_n)))
    return tests


def _measure(a: Audit, model, X, y, features, slice_by, metric, max_depth, min_size, bins, fdr, correction,
             positive_label) -> WeakSubgroupResult:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be 'bh' (Benjamini-Hochberg) or 'by' (Benjamini-Yekutieli), got {correction!r}")
    max_depth = validation.positive_int(max_depth, "max_depth")
    if max_depth > 2:
        raise ValueError(f"max_depth must be 1 or 2 (slices and their pairs), got {max_depth}")
    min_size = validation.positive_int(min_size, "min_size")
    bins = validation.positive_int(bins, "bins")
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    fdr = validation.positive_number(fdr, "fdr", allow_zero=False)
    if fdr >= 1:
        raise ValueError(f"fdr must be strictly between 0 and 1, got {fdr!r}")
    rows = table(X)
    labels = validation.labels(y, rows.n) if not is_dataframe(y) else np.asarray(y)
    columns = _slicing_columns(rows, features, slice_by)
    predicted = predict_labels(model, rows.X)
    if metric == "accuracy":
        units, successes = np.ones(rows.n, dtype=bool), predicted == labels
    elif metric == "recall":
        units, successes = labels == positive_label, predicted == positive_label
        if not units.any():
            raise ValueError(f"metric='recall' needs samples of positive_label={positive_label!r} in y; there are none")
    else:
        units, successes = np.ones(rows.n, dtype=bool), predicted == positive_label
    confidence = a.settings.confidence
    tests = slice_tests(units, successes, columns, max_depth=max_depth, min_size=min_size, bins=bins)
    adjusted = adjusted_p_values([t.p_value for t in tests], correction)
    discovered = []
    for test, q in zip(tests, adjusted):
        if q <= fdr:
            discovered.append(Slice(test.description, test.size, proportion(test.successes, test.size, confidence),
                                    proportion(test.rest_successes, test.rest_size, confidence),
                                    independent_difference(test.rest_successes, test.rest_size, test.successes,
                                                           test.size, confidence),
                                    test.p_value, float(q)))
    discovered.sort(key=lambda s: (s.adjusted_p_value, -s.gap.value))
    a.describe_model(model)
    a.params.update({"metric": metric, "slice columns": list(columns), "max_depth": max_depth, "min_size": min_size,
                     "bins": bins, "fdr": fdr, "correction": {"bh": "Benjamini-Hochberg",
                                                              "by": "Benjamini-Yekutieli"}[correction],
                     "test": "one-sided pooled two-proportion z-test, slice against the rest"})
    overall = a.metric(metric, proportion(int((successes & units).sum()), int(units.sum()), confidence))
    worst = max(discovered, key=lambda s: s.gap.value, default=None)
    worst_gap = a.metric("worst_gap", worst.gap if worst is not None else
                         Estimate(0.0, 0.0, 0.0, int(units.sum()), "no slice discovered at the false-discovery rate",
                                  confidence))
    checks = (a.check("some slices were large enough to test", len(tests) > 0,
                      f"{len(tests)} slices with at least min_size={min_size} units inside and outside"),)
    a.extra(extras.Table(
        f"Weak subgroups: {len(discovered)} of {len(tests)} slices discovered at FDR {fdr:g} ({metric})",
        columns=["slice", "size", metric, "rest", "gap (rest - slice)", "p", "adjusted p"],
        rows=[[s.description, s.size, _with_interval(s.metric), _with_interval(s.rest), _with_interval(s.gap),
               float(f"{s.p_value:.3g}"), float(f"{s.adjusted_p_value:.3g}")] for s in discovered[:SHOWN]]))
    return WeakSubgroupResult(metric, overall, tuple(discovered), len(tests), fdr, worst_gap, checks)


def _slicing_columns(rows, features, slice_by) -> dict[str, np.ndarray]:
    columns: dict[str, np.ndarray] = {}
    if features is None and slice_by is None:
        if len(rows.columns) > 50:
            raise ValueError(f"X has {len(rows.columns)} features: name the ones to slice on with features=[...] "
                             f"(or give slice_by=)")
        features = range(len(rows.columns))
    for key in features if features is not None else ():
        j = column_index(rows, key, "features")
        columns[rows.columns[j]] = rows.column_values(j)
    if slice_by is not None:
        items = slice_by.items() if isinstance(slice_by, dict) else (
            [(str(c), slice_by[c]) for c in slice_by.columns] if is_dataframe(slice_by) else None)
        if items is None:
            raise TypeError(f"slice_by must be a dict of columns or a DataFrame, got {type(slice_by).__name__}")
        for name, values in items:
            values = np.asarray(validation.from_torch(values))
            if values.ndim != 1 or values.shape[0] != rows.n:
                raise ValueError(f"slice_by column {name!r} must hold one value per sample of X ({rows.n}), got shape "
                                 f"{values.shape}")
            columns[str(name)] = values
    if not columns:
        raise ValueError("nothing to slice on: give features=[...] and/or slice_by=")
    return columns


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value.item() if isinstance(value, np.generic) else value)


def _with_interval(e: Estimate) -> str:
    return f"{e.value:.3f} [{e.low:.3f}, {e.high:.3f}]"
