"""Mitigation by post-processing compared with none: fairlearn's ``ThresholdOptimizer`` on the model's scores.

The same test split is judged with and without the optimizer, both as
:func:`~pytest_mlaudit.fairness.audit.fairness` judges a model, with the paired change
in accuracy beside the disparities.
"""

from __future__ import annotations


import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.metaestimators import available_if

from .. import validation
from ..authoring import Audit, audit
from ..dependencies import require
from ..estimators import repeatable, seeded_clone
from ..stats import paired_difference
from . import inputs, recorded
from .metrics import evaluate
from .results import MitigationComparison

CONSTRAINTS = (
    "demographic_parity", "equalized_odds", "true_positive_rate_parity", "false_positive_rate_parity",
    "true_negative_rate_parity", "false_negative_rate_parity", "selection_rate_parity",
)
# the objectives ThresholdOptimizer supports: any for a single-rate constraint, only these two for equalized odds
OBJECTIVES = ("accuracy_score", "balanced_accuracy_score", "selection_rate", "true_positive_rate", "true_negative_rate")
EQUALIZED_ODDS_OBJECTIVES = ("accuracy_score", "balanced_accuracy_score")


class Float64Scores(ClassifierMixin, BaseEstimator):
    """A fitted classifier whose scores come as float64, for fairlearn's ``ThresholdOptimizer``.

    The optimizer writes its float64 interpolated probabilities into a pandas Series of
    the model's score dtype; pandas 3 refuses that for float32 scores, which is what
    ``XGBClassifier`` gives. Only the dtype changes; the scores are the model's.
    """

    def __init__(self, model=None):
        self.model = model

    @property
    def classes_(self):
        return self.model.classes_

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def fit(self, X, y, **kwargs):
        raise TypeError("Float64Scores wraps a fitted model; it is not refitted")

    def predict(self, X):
        return np.asarray(self.model.predict(X))

    @available_if(lambda self: callable(getattr(self.model, "predict_proba", None)))
    def predict_proba(self, X):
        return np.asarray(self.model.predict_proba(X), dtype=np.float64)

    @available_if(lambda self: callable(getattr(self.model, "decision_function", None)))
    def decision_function(self, X):
        return np.asarray(self.model.decision_function(X), dtype=np.float64)


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
    with audit("fairness", f"mitigation by ThresholdOptimizer ({constraints})", requirement=requirement) as a:
        return _compare(a, model, X_train, y_train, X_test, y_test, sensitive_features_train,
                        sensitive_features_test, constraints, objective, prefit, positive_label, n_bootstrap)


def _compare(a: Audit, model, X_train, y_train, X_test, y_test, sensitive_train, sensitive_test,
             constraints, objective, prefit, positive_label, n_bootstrap) -> MitigationComparison:
    require("fairlearn", "fairness")
    from fairlearn.postprocessing import ThresholdOptimizer

    if not (callable(getattr(model, "fit", None)) and callable(getattr(model, "predict", None))):
        raise TypeError(f"model must be a classifier with fit and predict (scikit-learn API), got {type(model).__name__}")
    for name, value in (("X_train", X_train), ("X_test", X_test)):
        validation.refuse_chunks(name, value, "compare_mitigation",
                                 "fairlearn's ThresholdOptimizer fits its thresholds on all the training rows at once")
    n_train, n_test = inputs.n_rows(X_train, "X_train"), inputs.n_rows(X_test, "X_test")
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
        inputs.check_prefit(model, positive_label)
        fitted, fitted_label, fitted_classes = model, positive_label, classes
    else:
        estimator, a.params["seeds"] = seeded_clone(model, a.seed("model"))
        fitted = inputs.model_call("model.fit(X_train, y_train)", estimator.fit, X_train, y_train01)
        fitted_label, fitted_classes = 1, [0, 1]
    mitigator = ThresholdOptimizer(estimator=Float64Scores(fitted), constraints=constraints, objective=objective, prefit=True,
                                   predict_method="auto")
    inputs.model_call("ThresholdOptimizer.fit(X_train, y_train) on the model's scores", mitigator.fit, X_train, y_train01,
                sensitive_features=s_train)
    seed = a.seed("threshold-optimizer")
    before, determinism = repeatable(
        lambda: inputs.predict_01(fitted, X_test, s_test, a.seed("predict"), fitted_label, fitted_classes, "X_test"),
        "X_test")
    a.check(determinism.name, determinism.passed, determinism.detail)
    after = np.asarray(mitigator.predict(X_test, sensitive_features=s_test, random_state=seed)).astype(np.int64)

    a.describe_model(model)
    inputs.describe_data(a, X_test, y_test01, s_test)
    confidence = a.settings.confidence
    unmitigated, checks = evaluate(y_test01, before, s_test, positive_label, n_bootstrap, confidence=confidence,
                                   seed=a.seed("bootstrap/unmitigated"))
    for check in checks:
        a.check(check.name, check.passed, check.detail)
    mitigated, checks = evaluate(y_test01, after, s_test, positive_label, n_bootstrap, confidence=confidence,
                                 seed=a.seed("bootstrap/mitigated"))
    for check in checks:
        a.check(check.name, check.passed, check.detail)
    right_before, right_after = before == y_test01, after == y_test01
    change = paired_difference(
        int(np.count_nonzero(right_after & right_before)), int(np.count_nonzero(right_after & ~right_before)),
        int(np.count_nonzero(~right_after & right_before)), int(np.count_nonzero(~right_after & ~right_before)),
        confidence,
    )
    a.params.update({
        **recorded.params(s_test, unmitigated, positive_label, n_bootstrap),
        "mitigator": "fairlearn.postprocessing.ThresholdOptimizer",
        "constraints": constraints,
        "objective": objective,
        "prefit": bool(prefit),
        "n_train": n_train,
        "predict_random_state": seed,
    })
    runs = [("unmitigated", unmitigated), ("mitigated", mitigated)]
    for prefix, result in runs:
        recorded.record_metrics(a, result, prefix + "/")
    a.metric("accuracy_change", change)
    recorded.record_figures(a, runs)
    return MitigationComparison(unmitigated, mitigated, change, constraints, objective)
