"""The imbalance audit functions: minority-class metrics of a model, fitted with or without resampling.

The resampler is applied to the training split only, through an imbalanced-learn
``Pipeline``: the user's estimator (and resampler) are cloned, never mutated. When
the model is itself a pipeline, the resampler goes right before its final
estimator, so it sees preprocessed features (the paper's order: scale, then SMOTE).
Before anything is fitted, the leakage guards of :mod:`.leakage` inspect the split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import extras, validation
from ..dependencies import require
from ..authoring import Audit, audit
from ..estimators import repeatable, require_fitted, seeded_clone
from ..progress import Task
from ..records import Check, Estimate, SanityChecked
from ..stats import proportion
from . import leakage
from .metrics import AUC_MIN_PER_CLASS, METRICS, MinorityMetrics, minority_metrics

N_RESAMPLES = 1000


@dataclass(frozen=True)
class ImbalanceResult(SanityChecked):
    """What one imbalance audit measured: minority-class metrics on the test split.

    ``test_positive_rate`` is the test split's class ratio (positives / rows);
    ``train_positive_rate`` the training split's before resampling (None when a
    prefitted model was audited without its training split).
    """

    recall: Estimate
    precision: Estimate
    f1: Estimate
    pr_auc: Estimate | None
    roc_auc: Estimate | None
    balanced_accuracy: Estimate
    g_mean: Estimate
    specificity: Estimate
    confusion_matrix: tuple[tuple[int, int], tuple[int, int]]
    test_positive_rate: Estimate
    train_positive_rate: Estimate | None
    positive_label: int
    resampler: str | None
    checks: tuple[Check, ...] = field(default_factory=tuple)

    def estimates(self) -> dict[str, Estimate]:
        """The metrics by name, in report order (PR-AUC and ROC AUC left out when the model gives no scores)."""
        return {name: getattr(self, name) for name in METRICS if getattr(self, name) is not None}


def imbalance(model, X_train=None, y_train=None, X_test=None, y_test=None, *, resampler=None, positive_label: int = 1,
              prefit: bool = False, leakage_guard: str = "refuse", n_resamples: int = N_RESAMPLES,
              requirement=None) -> ImbalanceResult:
    """Fit ``model`` on the training split (resampled by ``resampler``, if given) and measure it on the test split.

    Minority-class (``positive_label``) recall, precision, F1, PR-AUC, ROC AUC, balanced
    accuracy, G-mean and specificity, each with its interval, and the confusion
    matrix. ``prefit=True`` audits an already fitted model as it is: the training
    split is then optional (``imbalance(fitted, X_test=X, y_test=y, prefit=True)``)
    and, when given, serves the leakage guards and the recorded class ratio only.
    ``leakage_guard="record"`` records the guards' findings (marking the audit
    suspect) instead of refusing the split. ``n_resamples`` is the bootstrap size.
    """
    with audit("imbalance", "minority-class metrics", requirement=requirement) as a:
        return _measure(a, model, X_train, y_train, X_test, y_test, resampler, positive_label, prefit,
                        leakage_guard, n_resamples)


def assert_minority_recall(model, X_train=None, y_train=None, X_test=None, y_test=None, *,
                           at_least: float | None = None, at_most: float | None = None, policy: str | None = None,
                           resampler=None, positive_label: int = 1, prefit: bool = False,
                           leakage_guard: str = "refuse", n_resamples: int = N_RESAMPLES,
                           requirement=None) -> ImbalanceResult:
    """Measure as :func:`imbalance` does, gate the minority-class recall, fail on a miss.

    ``at_least=`` or ``at_most=`` is the threshold (in [0, 1]), ``policy=`` the gate
    policy (the run's default when None), ``requirement=`` the requirement tags.
    """
    with audit("imbalance", "minority-class recall", requirement=requirement) as a:
        a.gate("recall", at_least=at_least, at_most=at_most, policy=policy, requirement=requirement, bounds=(0.0, 1.0))
        return _measure(a, model, X_train, y_train, X_test, y_test, resampler, positive_label, prefit,
                        leakage_guard, n_resamples)


def assert_minority_precision(model, X_train=None, y_train=None, X_test=None, y_test=None, *,
                              at_least: float | None = None, at_most: float | None = None,
                              policy: str | None = None, resampler=None, positive_label: int = 1,
                              prefit: bool = False, leakage_guard: str = "refuse", n_resamples: int = N_RESAMPLES,
                              requirement=None) -> ImbalanceResult:
    """Measure as :func:`imbalance` does, gate the minority-class precision, fail on a miss.

    ``at_least=`` or ``at_most=`` is the threshold (in [0, 1]), ``policy=`` the gate
    policy (the run's default when None), ``requirement=`` the requirement tags.
    """
    with audit("imbalance", "minority-class precision", requirement=requirement) as a:
        a.gate("precision", at_least=at_least, at_most=at_most, policy=policy, requirement=requirement,
               bounds=(0.0, 1.0))
        return _measure(a, model, X_train, y_train, X_test, y_test, resampler, positive_label, prefit,
                        leakage_guard, n_resamples)


def assert_balanced_accuracy(model, X_train=None, y_train=None, X_test=None, y_test=None, *,
                             at_least: float | None = None, at_most: float | None = None, policy: str | None = None,
                             resampler=None, positive_label: int = 1, prefit: bool = False,
                             leakage_guard: str = "refuse", n_resamples: int = N_RESAMPLES,
                             requirement=None) -> ImbalanceResult:
    """Measure as :func:`imbalance` does, gate the balanced accuracy, fail on a miss.

    ``at_least=`` or ``at_most=`` is the threshold (in [0, 1]), ``policy=`` the gate
    policy (the run's default when None), ``requirement=`` the requirement tags.
    """
    with audit("imbalance", "balanced accuracy", requirement=requirement) as a:
        a.gate("balanced_accuracy", at_least=at_least, at_most=at_most, policy=policy, requirement=requirement,
               bounds=(0.0, 1.0))
        return _measure(a, model, X_train, y_train, X_test, y_test, resampler, positive_label, prefit,
                        leakage_guard, n_resamples)


def assert_roc_auc(model, X_train=None, y_train=None, X_test=None, y_test=None, *, at_least: float | None = None,
                   at_most: float | None = None, policy: str | None = None, resampler=None, positive_label: int = 1,
                   prefit: bool = False, leakage_guard: str = "refuse", n_resamples: int = N_RESAMPLES,
                   requirement=None) -> ImbalanceResult:
    """Measure as :func:`imbalance` does, gate the ROC AUC of the positive class's scores, fail on a miss.

    The AUC (the chance that a positive outranks a negative) gets DeLong's interval. On
    imbalanced data a constant model scores 0.5, however high its accuracy. The model
    must give scores (``predict_proba`` or ``decision_function``) and the test split at
    least two samples of each class. ``at_least=`` or ``at_most=`` is the threshold (in
    [0, 1]), ``policy=`` the gate policy (the run's default when None).
    """
    with audit("imbalance", "ROC AUC", requirement=requirement) as a:
        a.gate("roc_auc", at_least=at_least, at_most=at_most, policy=policy, requirement=requirement, bounds=(0.0, 1.0))
        result = _measure(a, model, X_train, y_train, X_test, y_test, resampler, positive_label, prefit,
                          leakage_guard, n_resamples)
        if result.roc_auc is None:
            (tn, fp), (fn, tp) = result.confusion_matrix
            if result.pr_auc is None:
                raise TypeError(f"model gives no scores (neither predict_proba nor decision_function): ROC AUC ranks "
                                f"scores, so {type(model).__name__} cannot be gated on it")
            raise ValueError(f"y_test has {tp + fn} samples of positive_label={positive_label} and {tn + fp} of the "
                             f"rest: ROC AUC's DeLong interval needs at least {AUC_MIN_PER_CLASS} of each")
        return result


@dataclass(frozen=True)
class ResamplerComparison:
    """One :class:`ImbalanceResult` per resampler, in the order compared."""

    results: dict[str, ImbalanceResult]


def default_resamplers() -> dict[str, Any]:
    """The samplers compared by default: none and imbalanced-learn's usual ones, default settings."""
    from imblearn.combine import SMOTEENN, SMOTETomek
    from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE, RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    return {"none": None, "SMOTE": SMOTE(), "random under-sampling": RandomUnderSampler(),
            "random over-sampling": RandomOverSampler(), "ADASYN": ADASYN(), "BorderlineSMOTE": BorderlineSMOTE(),
            "SMOTEENN": SMOTEENN(), "SMOTETomek": SMOTETomek()}


def compare_resamplers(model, X_train, y_train, X_test, y_test, resamplers: dict[str, Any] | None = None, *,
                       positive_label: int = 1, leakage_guard: str = "refuse", n_resamples: int = N_RESAMPLES,
                       requirement=None) -> ResamplerComparison:
    """Fit ``model`` once per resampler (``{name: sampler or None}``, default :func:`default_resamplers`) and compare.

    One record: metrics named ``"<name>/<metric>"``, a comparison table
    (``extras["tables"]``) and precision against recall per resampler
    (``extras["points"]``).
    """
    with audit("imbalance", "resampler comparison", requirement=requirement) as a:
        require("imblearn", "imbalance")
        if resamplers is None:
            resamplers = default_resamplers()
        if not isinstance(resamplers, dict) or not resamplers:
            raise TypeError(f"resamplers must be a non-empty dict of name -> sampler (or None), got {resamplers!r}")
        data = _validated(a, model, X_train, y_train, X_test, y_test, positive_label, False, leakage_guard)
        results = {}
        with Task("resampler comparison: resampler", len(resamplers)) as task:
            for name, sampler in resamplers.items():
                if not isinstance(name, str):
                    raise TypeError(f"resamplers keys must be names (str), got {name!r}")
                fitted, seeds = _fit(model, data, sampler, a.seed(f"resampler/{name}"), f"resamplers[{name!r}]")
                a.params[f"{name}/seeds"] = seeds
                results[name] = _evaluate(a, fitted, data, _sampler_name(sampler), n_resamples, f"bootstrap/{name}",
                                          recall_name=f"{name}/recall")
                for metric, estimate in results[name].estimates().items():
                    a.metric(f"{name}/{metric}", estimate)
                task.advance(detail=name)
        a.describe_model(model)
        a.params["resamplers"] = {name: _sampler_name(s) for name, s in resamplers.items()}
        a.extra(extras.Points(
            "Precision against recall of the minority class, per resampler", x_label="recall", y_label="precision",
            points=[extras.Point(name, r.recall.value, r.precision.value) for name, r in results.items()]))
        a.extra(_comparison_table(results, a.settings.confidence))
        return ResamplerComparison(results)


@dataclass(frozen=True)
class _Split:
    X_train: Any
    y_train: Any
    X_test: Any
    y_test: Any
    positive_label: int
    checks: tuple[Check, ...]
    train_positive_rate: Estimate | None
    test_positive_rate: Estimate


def _measure(a: Audit, model, X_train, y_train, X_test, y_test, resampler, positive_label, prefit, leakage_guard,
             n_resamples) -> ImbalanceResult:
    """Validate, fit (unless prefit), evaluate on the test split, and record it all into ``a``."""
    require("imblearn", "imbalance")
    data = _validated(a, model, X_train, y_train, X_test, y_test, positive_label, prefit, leakage_guard)
    if prefit:
        if resampler is not None:
            raise ValueError("resampler= needs a model to fit; with prefit=True the model is audited as it is")
        require_fitted(model, "prefit=True audits a fitted model as it is; fit it first, or pass the training split "
                              "without prefit to let the audit fit a clone")
        fitted = model
    else:
        fitted, seeds = _fit(model, data, resampler, a.seed("resampler"), "resampler")
        a.params["seeds"] = seeds
    a.describe_model(fitted)
    a.params["resampler"] = _sampler_name(resampler)
    a.params["resampling"] = _resampling_inside(fitted) if prefit else (
        f"{_sampler_name(resampler)}, fitted by the audit on the training split only" if resampler is not None
        else "none: the audit fitted the model on the training split as it is")
    result = _evaluate(a, fitted, data, _sampler_name(resampler), n_resamples, "bootstrap")
    for name, estimate in result.estimates().items():
        a.metric(name, estimate)
    (tn, fp), (fn, tp) = result.confusion_matrix
    a.extra(extras.ConfusionMatrix(labels=["rest", str(positive_label)], matrix=[[tn, fp], [fn, tp]]))
    return result


def _validated(a: Audit, model, X_train, y_train, X_test, y_test, positive_label, prefit, leakage_guard) -> _Split:
    """Check the inputs, run the leakage guards, record the data and the class ratios."""
    if leakage_guard not in leakage.GUARD_MODES:
        raise ValueError(f"leakage_guard must be one of {', '.join(leakage.GUARD_MODES)}, got {leakage_guard!r}")
    validation.flag(prefit, "prefit")
    if isinstance(positive_label, bool) or not isinstance(positive_label, (int, np.integer)):
        raise TypeError(f"positive_label must be an integer class label, got {positive_label!r}")
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"model must be a classifier with fit and predict (scikit-learn API), got {type(model).__name__}")
    if X_test is None or y_test is None:
        raise TypeError("X_test and y_test are required: the audit measures the model on the test split")
    for name, value in (("X_test", X_test), ("X_train", X_train)):
        validation.refuse_chunks(name, value, "the imbalance audit",
                                 "its PR-AUC ranks every test score and its bootstrap resamples the test rows, and "
                                 "the leakage guards compare every test row with the training rows")
    X_test = validation.features(X_test, "X_test")
    y_test = validation.labels(y_test, X_test.shape[0], "y_test", x_name="X_test")
    X_test, y_test = a.shard_rows(X_test, y_test)  # --mlaudit-shard i/k: the i-th block of test rows
    test_positive = validation.positive_class(y_test, positive_label, "y_test")
    has_train = X_train is not None or y_train is not None
    if has_train:
        if X_train is None or y_train is None:
            raise TypeError("give both X_train and y_train, or neither (with prefit=True)")
        X_train = validation.features(X_train, "X_train")
        y_train = validation.labels(y_train, X_train.shape[0], "y_train", x_name="X_train")
        validation.check_same_rows(X_train, X_test, "X_train", "X_test")
        train_positive = validation.positive_class(y_train, positive_label, "y_train")
    elif not prefit:
        raise TypeError("X_train and y_train are required to fit the model; to audit a fitted model as it is, "
                        "pass prefit=True")

    confidence = a.settings.confidence
    test_rate = proportion(int(test_positive.sum()), test_positive.size, confidence)
    train_rate = None
    if has_train:
        train_rate = proportion(int(train_positive.sum()), train_positive.size, confidence)
        checks = leakage.split_checks(X_train, train_positive, X_test, test_positive)
        a.describe_data({"train": (X_train, y_train), "test": (X_test, y_test)})
    else:
        checks = leakage.test_only_checks(X_test, test_positive)
        a.describe_data({"test": (X_test, y_test)})
    for check in checks:
        a.check(check.name, check.passed, check.detail)
    a.params.update({
        "positive_label": int(positive_label),
        "prefit": prefit,
        "leakage_guard": leakage_guard,
        "test_class_counts": _class_counts(y_test),
        "test_positive_rate": test_rate.value,
        **({"train_class_counts": _class_counts(y_train), "train_positive_rate": train_rate.value} if has_train else {}),
    })
    a.metric("test_positive_rate", test_rate)
    leakage.enforce(checks, leakage_guard)
    return _Split(X_train, y_train, X_test, y_test, int(positive_label), tuple(checks), train_rate, test_rate)


def _class_counts(y) -> dict[str, int]:
    classes, counts = np.unique(y, return_counts=True)
    return {str(int(c)): int(k) for c, k in zip(classes, counts)}


def _fit(model, data: _Split, resampler, seed: int, resampler_arg: str) -> tuple[Any, dict[str, Any]]:
    """A clone of ``model`` fitted on the training split, resampled by a clone of ``resampler``; and the seeds used.

    Every ``random_state`` left at None, in the model (each pipeline step) and in the
    resampler (and its inner estimators), becomes ``seed``; one the user set is kept.
    The seeds are returned as ``{"model": {...}, "resampler": {...}}`` for the record.
    """
    try:
        estimator, model_seeds = seeded_clone(model, seed)
    except TypeError as exc:
        raise TypeError(f"model must be a scikit-learn compatible estimator: {exc}") from None
    seeds: dict[str, Any] = {"model": model_seeds}
    if resampler is not None:
        if not callable(getattr(resampler, "fit_resample", None)):
            raise TypeError(f"{resampler_arg} must be an imbalanced-learn sampler (with fit_resample), "
                            f"got {type(resampler).__name__}")
        sampler, seeds["resampler"] = seeded_clone(resampler, seed)
        estimator = _with_resampler(estimator, sampler)
    return estimator.fit(data.X_train, data.y_train), seeds


def _with_resampler(estimator, sampler):
    from imblearn.pipeline import Pipeline

    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list):
        names = {name for name, _ in steps}
        name = next(n for n in ("resampler", "resampler_", "mlaudit_resampler") if n not in names)
        return Pipeline([*steps[:-1], (name, sampler), steps[-1]])
    return Pipeline([("resampler", sampler), ("model", estimator)])


def _evaluate(a: Audit, fitted, data: _Split, resampler: str | None, n_resamples: int, seed_name: str, *,
              recall_name: str = "recall") -> ImbalanceResult:
    validation.positive_int(n_resamples, "n_resamples")
    (predicted, scores), determinism = repeatable(
        lambda: _predictions(fitted, data.X_test, data.y_test, data.positive_label), "X_test")
    a.check(determinism.name, determinism.passed, determinism.detail)
    metrics: MinorityMetrics = minority_metrics(data.y_test == data.positive_label, predicted, scores,
                                                confidence=a.settings.confidence, seed=a.seed(seed_name),
                                                n_resamples=n_resamples)
    a.params.update({"bootstrap_resamples": n_resamples, "bootstrap": "stratified by class, percentile"})
    a.outcomes(recall_name, predicted[data.y_test == data.positive_label])  # recall hits, for paired comparisons
    return ImbalanceResult(
        recall=metrics.recall, precision=metrics.precision, f1=metrics.f1, pr_auc=metrics.pr_auc,
        roc_auc=metrics.roc_auc, balanced_accuracy=metrics.balanced_accuracy, g_mean=metrics.g_mean, specificity=metrics.specificity,
        confusion_matrix=metrics.confusion_matrix, test_positive_rate=data.test_positive_rate,
        train_positive_rate=data.train_positive_rate, positive_label=data.positive_label, resampler=resampler,
        checks=(*data.checks, determinism),
    )


def _predictions(fitted, X, y_test, positive_label: int):
    """Predicted positives (bool) and the positive class's scores (None when the model gives none)."""
    classes = getattr(fitted, "classes_", None)
    if classes is not None:
        validation.check_known_labels(y_test, classes, "y_test", "that the model was not fitted on")
    if classes is not None and positive_label not in np.asarray(classes):
        raise ValueError(f"the model's classes {np.asarray(classes).tolist()} do not include positive_label={positive_label}")
    predicted = np.asarray(fitted.predict(X)) == positive_label
    scores = None
    if classes is not None and callable(getattr(fitted, "predict_proba", None)):
        column = int(np.flatnonzero(np.asarray(classes) == positive_label)[0])
        # a copy of the column: a view would keep all the classes' probabilities alive
        scores = np.ascontiguousarray(np.asarray(fitted.predict_proba(X), dtype=np.float64)[:, column])
    elif classes is not None and len(classes) == 2 and callable(getattr(fitted, "decision_function", None)):
        scores = np.asarray(fitted.decision_function(X), dtype=np.float64)
        if classes[1] != positive_label:
            scores = -scores
    return predicted, scores


def _resampling_inside(model) -> str:
    """What a prefit model says of its resampling: the sampler steps of its pipeline, or that it has none."""
    steps = getattr(model, "steps", None)
    samplers = [f"{type(step).__name__} (pipeline step {name!r})" for name, step in steps or []
                if callable(getattr(step, "fit_resample", None))]
    if samplers:
        return (f"{', '.join(samplers)}, applied when the model was fitted, to its training data only "
                f"(imbalanced-learn pipelines resample in fit, never in predict)")
    return "none in the model (prefit: any resampling of its training data happened before the audit)"


def _sampler_name(sampler) -> str | None:
    return None if sampler is None else type(sampler).__name__


def _comparison_table(results: dict[str, ImbalanceResult], confidence: float) -> extras.Table:
    def cell(estimate: Estimate | None) -> str:
        return "n/a" if estimate is None else f"{estimate.value:.3f} [{estimate.low:.3f}, {estimate.high:.3f}]"

    rows = []
    for name, result in results.items():
        (tn, fp), (fn, tp) = result.confusion_matrix
        rows.append([name, *(cell(getattr(result, metric)) for metric in METRICS), tp, fp, fn, tn])
    return extras.Table(
        f"Minority-class metrics per resampler ({confidence:.0%} intervals; training split resampled only)",
        columns=["resampler", "recall", "precision", "F1", "PR-AUC", "ROC AUC", "balanced accuracy", "G-mean", "specificity",
                 "TP", "FP", "FN", "TN"],
        rows=rows)
