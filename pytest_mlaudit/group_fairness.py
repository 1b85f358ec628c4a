"""Group-fairness audits: per-group rates, the disparities between groups, the
four-fifths rule, and mitigation by post-processing compared with none.

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

import inspect
from dataclasses import dataclass
from typing import Any

from pytest_mlaudit.dependencies import require

from . import validation
from .adapters import describe_model
from .estimators import repeatable, require_fitted
from .recording import AuditCall, audit_call, resolve_policy, threshold_spec
from .records import Estimate, jsonable
from .stats import bootstrap_percentile, bootstrap_weights, paired_difference, proportion, wilson_interval

FOUR_FIFTHS = 0.8
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
CONSTRAINTS = (
    "demographic_parity", "equalized_odds", "true_positive_rate_parity", "false_positive_rate_parity",
    "true_negative_rate_parity", "false_negative_rate_parity", "selection_rate_parity",
)
# the objectives ThresholdOptimizer supports: any for a single-rate constraint, only these two for equalized odds
OBJECTIVES = ("accuracy_score", "balanced_accuracy_score", "selection_rate", "true_positive_rate", "true_negative_rate")
EQUALIZED_ODDS_OBJECTIVES = ("accuracy_score", "balanced_accuracy_score")
BOOTSTRAP_METHOD = "bootstrap-percentile, stratified by group"


@dataclass(frozen=True)
class GroupMetrics:
    """One group's rates: selection rate P(pred=1), recall P(pred=1 | y=1), false
    positive rate P(pred=1 | y=0) and precision P(y=1 | pred=1)."""

    group: str
    size: int
    selection_rate: Estimate
    recall: Estimate
    false_positive_rate: Estimate
    precision: Estimate


@dataclass(frozen=True)
class GroupFairness:
    """The groups of one partition of the samples (one feature, or the intersection of
    several) and the disparities between them."""

    features: tuple[str, ...]
    groups: tuple[GroupMetrics, ...]
    demographic_parity_difference: Estimate
    demographic_parity_ratio: Estimate
    equalized_odds_difference: Estimate
    equal_opportunity_difference: Estimate

    @property
    def disparate_impact_ratio(self) -> Estimate:
        """Lowest over highest selection rate: the demographic parity ratio."""
        return self.demographic_parity_ratio

    @property
    def meets_four_fifths_rule(self) -> bool:
        return self.demographic_parity_ratio.value >= FOUR_FIFTHS


@dataclass(frozen=True)
class FairnessResult:
    """What one fairness audit measured. ``intersection`` holds the groups of all
    sensitive features together (of the one feature, when there is one); ``by_feature``
    each feature alone, when there are several. The disparity attributes are those of
    ``intersection``."""

    accuracy: Estimate
    n: int
    positive_label: Any
    intersection: GroupFairness
    by_feature: tuple[GroupFairness, ...] = ()

    @property
    def groups(self) -> tuple[GroupMetrics, ...]:
        return self.intersection.groups

    @property
    def demographic_parity_difference(self) -> Estimate:
        return self.intersection.demographic_parity_difference

    @property
    def demographic_parity_ratio(self) -> Estimate:
        return self.intersection.demographic_parity_ratio

    @property
    def disparate_impact_ratio(self) -> Estimate:
        return self.intersection.demographic_parity_ratio

    @property
    def equalized_odds_difference(self) -> Estimate:
        return self.intersection.equalized_odds_difference

    @property
    def equal_opportunity_difference(self) -> Estimate:
        return self.intersection.equal_opportunity_difference

    @property
    def meets_four_fifths_rule(self) -> bool:
        return self.intersection.meets_four_fifths_rule


@dataclass(frozen=True)
class MitigationComparison:
    """The same test split judged with and without post-processing; ``accuracy_change``
    is mitigated minus unmitigated accuracy (paired on the test samples)."""

    unmitigated: FairnessResult
    mitigated: FairnessResult
    accuracy_change: Estimate
    constraints: str
    objective: str


def fairness(model, X, y, *, sensitive_features, positive_label=1, n_bootstrap: int = 1000,
             requirement=None) -> FairnessResult:
    """Per-group rates and the disparities between groups of a fitted classifier.

    ``sensitive_features``: one column (array, pandas Series) or several (2-D array,
    DataFrame, dict of columns), row for row with ``X``. ``positive_label`` is the
    favourable outcome (hired, credit granted). A model whose ``predict`` takes
    ``sensitive_features`` (fairlearn's ``ThresholdOptimizer``) gets them, and a seeded
    ``random_state`` when it takes one.
    """
    with audit_call("fairness", "group fairness", requirement=requirement) as call:
        return _measure(call, model, X, y, sensitive_features, positive_label, n_bootstrap)


def assert_demographic_parity(model, X, y, *, sensitive_features, at_most: float | None = None,
                              at_least: float | None = None, policy: str | None = None, positive_label=1,
                              n_bootstrap: int = 1000, requirement=None) -> FairnessResult:
    """Gate on the demographic parity difference (largest minus smallest selection rate)."""
    return _assert("demographic parity", "demographic_parity_difference", model, X, y, sensitive_features,
                   at_least, at_most, policy, positive_label, n_bootstrap, requirement)


def assert_equalized_odds(model, X, y, *, sensitive_features, at_most: float | None = None,
                          at_least: float | None = None, policy: str | None = None, positive_label=1,
                          n_bootstrap: int = 1000, requirement=None) -> FairnessResult:
    """Gate on the equalized odds difference (the larger of the TPR and FPR ranges)."""
    return _assert("equalized odds", "equalized_odds_difference", model, X, y, sensitive_features,
                   at_least, at_most, policy, positive_label, n_bootstrap, requirement)


def assert_disparate_impact(model, X, y, *, sensitive_features, at_least: float | None = None,
                            at_most: float | None = None, policy: str | None = None, positive_label=1,
                            n_bootstrap: int = 1000, requirement=None) -> FairnessResult:
    """Gate on the disparate impact ratio (lowest over highest selection rate).

    Without a threshold this is the four-fifths rule: ``at_least=0.8``.
    """
    if at_least is None and at_most is None:
        at_least = FOUR_FIFTHS
    return _assert("disparate impact (four-fifths rule)", "demographic_parity_ratio", model, X, y,
                   sensitive_features, at_least, at_most, policy, positive_label, n_bootstrap, requirement)


def _assert(name, metric, model, X, y, sensitive_features, at_least, at_most, policy, positive_label,
            n_bootstrap, requirement) -> FairnessResult:
    op, threshold = threshold_spec(at_least, at_most, bounds=(0.0, 1.0))
    policy = resolve_policy(policy)
    with audit_call("fairness", name, requirement=requirement) as call:
        result = _measure(call, model, X, y, sensitive_features, positive_label, n_bootstrap)
        call.gate(metric, op, threshold, policy, requirement)
    return result


def compare_mitigation(model, X_train, y_train, X_test, y_test, *, sensitive_features_train,
                       sensitive_features_test, constraints: str = "demographic_parity",
                       objective: str = "accuracy_score", prefit: bool = False, positive_label=1,
                       n_bootstrap: int = 1000, requirement=None) -> MitigationComparison:
    """The model with and without fairlearn's ``ThresholdOptimizer``, on the test split.

    The optimizer picks group-specific thresholds on the model's scores over the
    training split so that ``constraints`` holds while ``objective`` is best; at
    prediction time it needs the sensitive features (and randomizes between two
    thresholds, seeded here). ``prefit=False`` fits a clone of ``model`` on the training
    split (labels as 0/1, 1 = ``positive_label``); ``prefit=True`` takes ``model`` as
    fitted. Both are measured as :func:`fairness` measures, accuracy beside fairness.
    """
    if constraints not in CONSTRAINTS:
        raise ValueError(f"constraints must be one of {', '.join(CONSTRAINTS)}, got {constraints!r}")
    objectives = EQUALIZED_ODDS_OBJECTIVES if constraints == "equalized_odds" else OBJECTIVES
    if objective not in objectives:
        raise ValueError(f"objective must be one of {', '.join(objectives)} (with constraints={constraints!r}), "
                         f"got {objective!r}")
    prefit = validation.flag(prefit, "prefit")
    with audit_call("fairness", f"mitigation by ThresholdOptimizer ({constraints})",
                    requirement=requirement) as call:
        return _compare(call, model, X_train, y_train, X_test, y_test, sensitive_features_train,
                        sensitive_features_test, constraints, objective, prefit, positive_label, n_bootstrap)


def _measure(call: AuditCall, model, X, y, sensitive_features, positive_label, n_bootstrap) -> FairnessResult:
    require("fairlearn", "fairness")
    n = _n_rows(X, "X")
    y01, classes = validation.binary_labels(y, n, positive_label, "y")
    sensitive = validation.sensitive_features(sensitive_features, n)
    n_bootstrap = validation.positive_int(n_bootstrap, "n_bootstrap")
    predicted, determinism = repeatable(
        lambda: _predict(model, X, sensitive, call.seed("predict"), positive_label, classes), "X")
    call.record.checks.append(determinism)
    call.record.model = describe_model(model)
    call.record.data = _fingerprint(X, y01, sensitive)
    result = _evaluate(call, y01, predicted, sensitive, positive_label, n_bootstrap, "bootstrap")
    call.record.params = _params(sensitive, result, positive_label, n_bootstrap)
    _record(call, result, "")
    call.record.extras.setdefault("bars", []).extend(_group_bars(result.intersection, [("", result)]))
    call.record.extras.setdefault("tables", []).extend(
        [_group_table(part, "") for part in (result.intersection, *result.by_feature)]
        + [_disparity_table([("", result)])]
    )
    return result


def _compare(call: AuditCall, model, X_train, y_train, X_test, y_test, sensitive_train, sensitive_test,
             constraints, objective, prefit, positive_label, n_bootstrap) -> MitigationComparison:
    require("fairlearn", "fairness")
    import numpy as np
    from fairlearn.postprocessing import ThresholdOptimizer
    from sklearn.base import clone

    if not (callable(getattr(model, "fit", None)) and callable(getattr(model, "predict", None))):
        raise TypeError(f"model must be a classifier with fit and predict (scikit-learn API), got {type(model).__name__}")
    n_train, n_test = _n_rows(X_train, "X_train"), _n_rows(X_test, "X_test")
    if len(getattr(X_train, "shape", ())) > 1 and len(getattr(X_test, "shape", ())) > 1:
        validation.check_same_rows(X_train, X_test, "X_train", "X_test")
    y_train01, _ = validation.binary_labels(y_train, n_train, positive_label, "y_train", "X_train")
    y_test01, classes = validation.binary_labels(y_test, n_test, positive_label, "y_test", "X_test")
    s_train = validation.sensitive_features(sensitive_train, n_train, "sensitive_features_train")
    s_test = validation.sensitive_features(sensitive_test, n_test, "sensitive_features_test")
    if list(s_train.columns) != list(s_test.columns):
        raise ValueError(f"sensitive_features_train has columns {list(s_train.columns)} but "
                         f"sensitive_features_test has {list(s_test.columns)}")
    n_bootstrap = validation.positive_int(n_bootstrap, "n_bootstrap")
    if prefit:
        _check_prefit(model, positive_label)
        fitted, fitted_label, fitted_classes = model, positive_label, classes
    else:
        fitted = _model_call("model.fit(X_train, y_train)", clone(model).fit, X_train, y_train01)
        fitted_label, fitted_classes = 1, [0, 1]
    mitigator = ThresholdOptimizer(estimator=fitted, constraints=constraints, objective=objective, prefit=True,
                                   predict_method="auto")
    _model_call("ThresholdOptimizer.fit(X_train, y_train) on the model's scores", mitigator.fit, X_train, y_train01,
                sensitive_features=s_train)
    seed = call.seed("threshold-optimizer")
    before, determinism = repeatable(
        lambda: _predict(fitted, X_test, s_test, call.seed("predict"), fitted_label, fitted_classes, "X_test"),
        "X_test")
    call.record.checks.append(determinism)
    after = np.asarray(mitigator.predict(X_test, sensitive_features=s_test, random_state=seed)).astype(np.int64)

    call.record.model = describe_model(model)
    call.record.data = _fingerprint(X_test, y_test01, s_test)
    unmitigated = _evaluate(call, y_test01, before, s_test, positive_label, n_bootstrap, "bootstrap/unmitigated")
    mitigated = _evaluate(call, y_test01, after, s_test, positive_label, n_bootstrap, "bootstrap/mitigated")
    right_before, right_after = before == y_test01, after == y_test01
    change = paired_difference(
        int(np.count_nonzero(right_after & right_before)), int(np.count_nonzero(right_after & ~right_before)),
        int(np.count_nonzero(~right_after & right_before)), int(np.count_nonzero(~right_after & ~right_before)),
        call.settings.confidence,
    )
    call.record.params = {
        **_params(s_test, unmitigated, positive_label, n_bootstrap),
        "mitigator": "fairlearn.postprocessing.ThresholdOptimizer",
        "constraints": constraints,
        "objective": objective,
        "prefit": bool(prefit),
        "n_train": n_train,
        "predict_random_state": seed,
    }
    runs = [("unmitigated", unmitigated), ("mitigated", mitigated)]
    for prefix, result in runs:
        _record(call, result, prefix + "/")
    call.metric("accuracy_change", change)
    call.record.extras.setdefault("bars", []).extend(_group_bars(unmitigated.intersection, runs)
                                                     + [_disparity_bars(runs)])
    call.record.extras.setdefault("tables", []).extend(
        [_disparity_table(runs)] + [_group_table(result.intersection, prefix) for prefix, result in runs]
    )
    return MitigationComparison(unmitigated, mitigated, change, constraints, objective)


def _model_call(what: str, method, *args, **kwargs):
    """``method(*args, **kwargs)``, its failure reported as one error naming the call and its arguments."""
    try:
        return method(*args, **kwargs)
    except Exception as exc:
        raise ValueError(f"{what} failed: {type(exc).__name__}: {exc}") from exc


def _n_rows(X, name: str) -> int:
    validation.refuse_non_array(X, name)
    shape = getattr(X, "shape", None)
    try:
        n = int(shape[0]) if shape is not None and len(shape) else len(X)
    except TypeError:
        raise TypeError(f"{name} must be an array or a DataFrame with one sample per row, got {type(X).__name__}") from None
    if n == 0:
        raise ValueError(f"{name} is empty: it has no samples")
    return n


def _check_prefit(model, positive_label) -> None:
    """A prefitted model must be fitted, and its scores those of the positive class (column 1)."""
    require_fitted(model, "prefit=True takes it as fitted; fit it first, or pass prefit=False")
    classes = getattr(model, "classes_", None)
    if classes is not None and len(classes) == 2 and classes[1] != positive_label:
        raise ValueError(
            f"prefit=True needs the positive label as the model's second class (its scores are those of "
            f"classes_[1]), but classes_ is {list(classes)} and positive_label={positive_label!r}; "
            f"pass prefit=False to refit on 0/1 labels"
        )


def _predict(model, X, sensitive, seed: int, positive_label, classes, x_name: str = "X"):
    """The model's predictions as 0/1 (1 = ``positive_label``), checked against y's classes."""
    import numpy as np

    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise TypeError(f"model must be a fitted classifier with a predict method, got {type(model).__name__}")
    kwargs: dict[str, Any] = {}
    try:
        accepted = inspect.signature(predict).parameters
    except (TypeError, ValueError):
        accepted = {}
    if "sensitive_features" in accepted:
        kwargs["sensitive_features"] = sensitive
    if "random_state" in accepted:
        kwargs["random_state"] = seed
    predicted = np.asarray(_model_call(f"model.predict({x_name})", predict, X, **kwargs))
    if predicted.ndim != 1 or predicted.shape[0] != len(sensitive):
        raise ValueError(f"model.predict({x_name}) must return one label per sample ({len(sensitive)}), got shape {predicted.shape}")
    unexpected = sorted({str(v) for v in np.unique(predicted).tolist()} - {str(c) for c in classes})
    if unexpected:
        raise ValueError(f"model predicts labels {unexpected} that are not among y's classes {list(classes)}: "
                         f"was it fitted on the same labels?")
    return (predicted == positive_label).astype(np.int64)


def _evaluate(call: AuditCall, y01, predicted, sensitive, positive_label, n_bootstrap, seed_name) -> FairnessResult:
    import numpy as np

    confidence = call.settings.confidence
    rng = np.random.default_rng(call.seed(seed_name))
    columns = list(sensitive.columns)
    partitions = [tuple(columns)] + ([(column,) for column in columns] if len(columns) > 1 else [])
    parts = [_partition(call, y01, predicted, sensitive, part, positive_label, confidence, n_bootstrap, rng)
             for part in partitions]
    accuracy = proportion(int(np.count_nonzero(predicted == y01)), int(y01.size), confidence)
    return FairnessResult(accuracy=accuracy, n=int(y01.size), positive_label=positive_label,
                          intersection=parts[0], by_feature=tuple(parts[1:]))


def _partition(call: AuditCall, y01, predicted, sensitive, columns, positive_label, confidence, n_bootstrap,
               rng) -> GroupFairness:
    import numpy as np
    from fairlearn import metrics as fm
    from sklearn.metrics import precision_score

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
    cells = {"__tp": y01 & predicted, "__fp": (1 - y01) & predicted, "__fn": y01 & (1 - predicted),
             "__tn": (1 - y01) & (1 - predicted)}
    counts_frame = groups.assign(**cells).groupby(list(columns), sort=True)[list(cells)].sum()
    by_group = frame.by_group.reindex(counts_frame.index)
    counts = counts_frame.to_numpy(dtype=np.int64)
    labels = [_group_label(columns, key) for key in counts_frame.index]
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
    call.check(f"counts reproduce fairlearn ({scope})", gap < 1e-9,
               f"largest difference between the count formulas behind the intervals and fairlearn's values: {gap:.2g}")
    undefined = {name: int(np.count_nonzero(~np.isfinite(replicates[name]))) for name in DISPARITIES}
    worst = max(undefined.values())
    call.check(f"bootstrap replicates defined ({scope})", worst <= 0.01 * n_bootstrap,
               f"replicates left out because a resampled group had no positive or no negative sample "
               f"(or no selection): {worst} of {n_bootstrap}")
    return GroupFairness(features=tuple(columns), groups=group_metrics, **estimates)


def _group_label(columns, key) -> str:
    if len(columns) == 1:
        return str(key[0] if isinstance(key, tuple) else key)
    return ", ".join(f"{column}={value}" for column, value in zip(columns, key))


def _rate(value, successes, n, confidence) -> Estimate:
    """fairlearn's value with the Wilson interval of its counts (n = 0: [0, 1])."""
    value = float(value) if n else 0.0
    low, high = wilson_interval(int(successes), int(n), confidence)
    return Estimate(value, min(low, value), max(high, value), int(n), "wilson", confidence)


def _resample_counts(counts, n_bootstrap: int, rng):
    """Confusion counts (groups, 4) of ``n_bootstrap`` resamples, each group resampled to its own size."""
    import numpy as np

    groups = np.repeat(np.arange(counts.shape[0]), counts.shape[1])
    weights = bootstrap_weights(counts.ravel(), groups, n_resamples=n_bootstrap, seed=rng)
    return weights.reshape(n_bootstrap, *counts.shape)


def _disparities_from_counts(counts) -> dict[str, Any]:
    """The four disparities from confusion counts of shape (..., groups, 4): tp, fp, fn, tn.

    The formulas of fairlearn's functions with ``method="between_groups"`` and
    ``agg="worst_case"``; NaN where a group has no positive or no negative sample.
    """
    import numpy as np

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


def _fingerprint(X, y01, sensitive) -> dict[str, Any]:
    """A content hash of features (any table: numbers, strings, DataFrame), labels and groups."""
    import numpy as np
    import pandas as pd

    X = validation.from_torch(X)
    if isinstance(X, pd.DataFrame):
        table = X
    else:
        array = np.asarray(X)
        table = pd.DataFrame(array.reshape(array.shape[0], -1))
    rows = pd.util.hash_pandas_object(table, index=False).to_numpy()
    groups = pd.util.hash_pandas_object(sensitive, index=False).to_numpy()
    fingerprint = validation.fingerprint(rows, y01, groups)
    fingerprint["shape"] = [int(s) for s in getattr(X, "shape", (len(rows), table.shape[1]))]
    return fingerprint


def _params(sensitive, result: FairnessResult, positive_label, n_bootstrap) -> dict[str, Any]:
    return {
        "sensitive_features": list(sensitive.columns),
        "groups": [g.group for g in result.intersection.groups],
        "group_sizes": [g.size for g in result.intersection.groups],
        "positive_label": jsonable(positive_label),
        "n_samples": result.n,
        "n_bootstrap": n_bootstrap,
        "bootstrap": BOOTSTRAP_METHOD,
        "four_fifths_threshold": FOUR_FIFTHS,
    }


def _record(call: AuditCall, result: FairnessResult, prefix: str) -> None:
    call.metric(prefix + "accuracy", result.accuracy)
    for name in DISPARITIES:
        call.metric(prefix + name, getattr(result.intersection, name))
    for part in result.by_feature:
        for name in DISPARITIES:
            call.metric(f"{prefix}{name}[{part.features[0]}]", getattr(part, name))


def _interval(estimate: Estimate) -> str:
    return f"[{estimate.low:.4f}, {estimate.high:.4f}]"


def _group_bars(part: GroupFairness, runs) -> list[dict[str, Any]]:
    """One bar chart per rate, a bar per group (and per run, when comparing)."""
    charts = []
    for key, title in GROUP_RATES:
        bars = []
        for index, group in enumerate(part.groups):
            for prefix, result in runs:
                estimate = getattr(result.intersection.groups[index], key)
                label = f"{group.group} ({prefix})" if prefix else group.group
                bars.append({"label": label, "value": estimate.value, "low": estimate.low, "high": estimate.high})
        charts.append({"title": f"{title} by group ({' x '.join(part.features)})", "metric": key, "bars": bars})
    return charts


def _disparity_bars(runs) -> dict[str, Any]:
    bars = []
    for name in DISPARITIES:
        for prefix, result in runs:
            estimate = getattr(result.intersection, name)
            bars.append({"label": f"{name.replace('_', ' ')} ({prefix})", "value": estimate.value,
                         "low": estimate.low, "high": estimate.high})
    return {"title": "disparities with and without mitigation", "metric": "disparity", "bars": bars}


def _group_table(part: GroupFairness, prefix: str) -> dict[str, Any]:
    columns = ["group", "n"]
    for _, title in GROUP_RATES:
        columns += [title, "CI"]
    rows = []
    for group in part.groups:
        row: list[Any] = [group.group, group.size]
        for key, _ in GROUP_RATES:
            estimate = getattr(group, key)
            row += [round(estimate.value, 4), _interval(estimate)]
        rows.append(row)
    title = f"per-group rates by {' x '.join(part.features)}" + (f" ({prefix})" if prefix else "")
    return {"title": title, "columns": columns, "rows": rows}


def _disparity_table(runs) -> dict[str, Any]:
    """Disparities and accuracy, a row per metric and partition, a column pair per run."""
    columns = ["metric", "groups"]
    for prefix, _ in runs:
        label = f" ({prefix})" if prefix else ""
        columns += [f"value{label}", f"CI{label}"]
    first = runs[0][1]
    rows = []
    for index, part in enumerate((first.intersection, *first.by_feature)):
        for name in DISPARITIES:
            row: list[Any] = [name, " x ".join(part.features)]
            for _, result in runs:
                estimate = getattr((result.intersection, *result.by_feature)[index], name)
                row += [round(estimate.value, 4), _interval(estimate)]
            rows.append(row)
    row = ["accuracy", "all"]
    for _, result in runs:
        row += [round(result.accuracy.value, 4), _interval(result.accuracy)]
    rows.append(row)
    meets = ["four-fifths rule met", " x ".join(first.intersection.features)]
    for _, result in runs:
        meets += ["yes" if result.meets_four_fifths_rule else "no", ""]
    rows.append(meets)
    return {"title": "group fairness" + (" with and without mitigation" if len(runs) > 1 else ""),
            "columns": columns, "rows": rows}
