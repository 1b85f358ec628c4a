"""The group-fairness audit functions: per-group rates, the disparities between groups, the
four-fifths rule. Mitigation by post-processing is in :mod:`.mitigation`, the metrics
and their intervals in :mod:`.metrics`.

How the values and their intervals are computed (one fairlearn ``MetricFrame`` per
partition, a count-based bootstrap stratified by group) is told in :mod:`.metrics`.
"""

from __future__ import annotations

from .. import validation
from ..authoring import Audit, audit
from ..dependencies import require
from ..estimators import repeatable
from . import inputs, recorded
from .metrics import evaluate
from .results import FOUR_FIFTHS, FairnessResult


def fairness(model, X, y, *, sensitive_features, positive_label=1, n_bootstrap: int = 1000,
             requirement=None) -> FairnessResult:
    """Per-group rates and the disparities between groups of a fitted classifier.

    ``sensitive_features``: one column (array, pandas Series) or several (2-D array,
    DataFrame, dict of columns), row for row with ``X``. ``positive_label`` is the
    favourable outcome (hired, credit granted). A model whose ``predict`` takes
    ``sensitive_features`` (fairlearn's ``ThresholdOptimizer``) gets them, and a seeded
    ``random_state`` when it takes one.
    """
    with audit("fairness", "group fairness", requirement=requirement) as a:
        return _measure(a, model, X, y, sensitive_features, positive_label, n_bootstrap)


def assert_demographic_parity(model, X, y, *, sensitive_features, at_most: float | None = None,
                              at_least: float | None = None, policy: str | None = None, positive_label=1,
                              n_bootstrap: int = 1000, requirement=None) -> FairnessResult:
    """Measure as :func:`fairness` does and gate the demographic parity difference (largest minus smallest
    selection rate)."""
    with audit("fairness", "demographic parity", requirement=requirement) as a:
        a.gate("demographic_parity_difference", at_least=at_least, at_most=at_most, policy=policy,
               requirement=requirement, bounds=(0.0, 1.0))
        return _measure(a, model, X, y, sensitive_features, positive_label, n_bootstrap)


def assert_equalized_odds(model, X, y, *, sensitive_features, at_most: float | None = None,
                          at_least: float | None = None, policy: str | None = None, positive_label=1,
                          n_bootstrap: int = 1000, requirement=None) -> FairnessResult:
    """Measure as :func:`fairness` does and gate the equalized odds difference (the larger of the TPR and FPR
    ranges)."""
    with audit("fairness", "equalized odds", requirement=requirement) as a:
        a.gate("equalized_odds_difference", at_least=at_least, at_most=at_most, policy=policy,
               requirement=requirement, bounds=(0.0, 1.0))
        return _measure(a, model, X, y, sensitive_features, positive_label, n_bootstrap)


def assert_disparate_impact(model, X, y, *, sensitive_features, at_least: float | None = None,
                            at_most: float | None = None, policy: str | None = None, positive_label=1,
                            n_bootstrap: int = 1000, requirement=None) -> FairnessResult:
    """Measure as :func:`fairness` does and gate the disparate impact ratio (lowest over highest selection rate).

    Without a threshold this is the four-fifths rule: ``at_least=0.8``.
    """
    if at_least is None and at_most is None:
        at_least = FOUR_FIFTHS
    with audit("fairness", "disparate impact (four-fifths rule)", requirement=requirement) as a:
        a.gate("demographic_parity_ratio", at_least=at_least, at_most=at_most, policy=policy,
               requirement=requirement, bounds=(0.0, 1.0))
        return _measure(a, model, X, y, sensitive_features, positive_label, n_bootstrap)


def _measure(a: Audit, model, X, y, sensitive_features, positive_label, n_bootstrap) -> FairnessResult:
    """Validate the inputs, predict, evaluate, and record it all into ``a``."""
    require("fairlearn", "fairness")
    n = inputs.n_rows(X, "X")
    y01, classes = validation.binary_labels(y, n, positive_label, "y")
    sensitive = validation.sensitive_features(sensitive_features, n)
    n_bootstrap = validation.positive_int(n_bootstrap, "n_bootstrap")
    predicted, determinism = repeatable(
        lambda: inputs.predict_01(model, X, sensitive, a.seed("predict"), positive_label, classes), "X")
    a.check(determinism.name, determinism.passed, determinism.detail)
    a.describe_model(model)
    inputs.describe_data(a, X, y01, sensitive)
    result, checks = evaluate(y01, predicted, sensitive, positive_label, n_bootstrap,
                              confidence=a.settings.confidence, seed=a.seed("bootstrap"))
    for check in checks:
        a.check(check.name, check.passed, check.detail)
    a.params.update(recorded.params(sensitive, result, positive_label, n_bootstrap))
    recorded.record_metrics(a, result, "")
    recorded.record_figures(a, [("", result)])
    return result
