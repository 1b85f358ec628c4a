"""The group-fairness audit functions: per-group rates, the disparities between groups, the
four-fifths rule. Mitigation by post-processing is in :mod:`.mitigation`, the metrics
and their intervals in :mod:`.metrics`.

How the values and their intervals are computed (from per-group confusion counts, with
fairlearn's formulas and a count-based bootstrap stratified by group) is told in
:mod:`.metrics`. ``X`` may also be an iterable of ``(X, y, sensitive_features)``
chunks of a table (:mod:`.chunks`): the counts are added chunk by chunk, and the result
is the one of the whole table in memory.
"""

from __future__ import annotations

from .. import validation
from ..authoring import Audit, audit
from ..dependencies import require
from ..estimators import repeatable
from . import chunks, groups, inputs, recorded
from .metrics import evaluate_counts
from .results import FOUR_FIFTHS, FairnessResult


def fairness(model, X, y=None, *, sensitive_features=None, positive_label=1, n_bootstrap: int = 1000,
             requirement=None) -> FairnessResult:
    """Per-group rates and the disparities between groups of a fitted classifier.

    ``sensitive_features``: one column (array, pandas Series) or several (2-D array,
    DataFrame, dict of columns), row for row with ``X``. ``positive_label`` is the
    favourable outcome (hired, credit granted). A model whose ``predict`` takes
    ``sensitive_features`` (fairlearn's ``ThresholdOptimizer``) gets them, and a seeded
    ``random_state`` when it takes one.

    ``X`` may instead be an iterable of chunks ``(X, y, sensitive_features)`` of one
    table (``y`` and ``sensitive_features`` then not given), e.g. made from
    ``pd.read_csv(path, chunksize=100_000)``: one pass, the memory of a chunk, the
    same result as the whole table in memory.
    """
    with audit("fairness", "group fairness", requirement=requirement) as a:
        return _measure(a, model, X, y, sensitive_features, positive_label, n_bootstrap)


def assert_demographic_parity(model, X, y=None, *, sensitive_features=None, at_most: float | None = None,
                              at_least: float | None = None, policy: str | None = None, positive_label=1,
                              n_bootstrap: int = 1000, requirement=None) -> FairnessResult:
    """Measure as :func:`fairness` does and gate the demographic parity difference (largest minus smallest
    selection rate)."""
    with audit("fairness", "demographic parity", requirement=requirement) as a:
        a.gate("demographic_parity_difference", at_least=at_least, at_most=at_most, policy=policy,
               requirement=requirement, bounds=(0.0, 1.0))
        return _measure(a, model, X, y, sensitive_features, positive_label, n_bootstrap)


def assert_equalized_odds(model, X, y=None, *, sensitive_features=None, at_most: float | None = None,
                          at_least: float | None = None, policy: str | None = None, positive_label=1,
                          n_bootstrap: int = 1000, requirement=None) -> FairnessResult:
    """Measure as :func:`fairness` does and gate the equalized odds difference (the larger of the TPR and FPR
    ranges)."""
    with audit("fairness", "equalized odds", requirement=requirement) as a:
        a.gate("equalized_odds_difference", at_least=at_least, at_most=at_most, policy=policy,
               requirement=requirement, bounds=(0.0, 1.0))
        return _measure(a, model, X, y, sensitive_features, positive_label, n_bootstrap)


def assert_disparate_impact(model, X, y=None, *, sensitive_features=None, at_least: float | None = None,
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
    """Validate the inputs, predict, count per group, evaluate, and record it all into ``a``."""
    require("fairlearn", "fairness")  # the family's extra (pandas comes with it); the counts need no fairlearn call
    n_bootstrap = validation.positive_int(n_bootstrap, "n_bootstrap")
    if chunks.is_chunks(X, y, sensitive_features):
        if a.settings.shard is not None:
            raise ValueError("--mlaudit-shard cuts the rows of in-memory data; a fairness audit of chunks reads them "
                             "all: give each job its own chunks, or pass arrays or a DataFrame")
        table, columns = chunks.count_chunks(a, model, X, positive_label)
    else:
        table, columns = _count_in_memory(a, model, X, y, sensitive_features, positive_label)
    a.describe_model(model)
    result, checks = evaluate_counts(table, positive_label, n_bootstrap, confidence=a.settings.confidence,
                                     seed=a.seed("bootstrap"))
    for check in checks:
        a.check(check.name, check.passed, check.detail)
    a.params.update(recorded.params(columns, result, positive_label, n_bootstrap))
    a.params.update(recorded.count_params(table, a.seed("bootstrap")))
    recorded.record_metrics(a, result, "")
    recorded.record_figures(a, [("", result)])
    return result


def _count_in_memory(a: Audit, model, X, y, sensitive_features, positive_label):
    """The confusion counts of arrays or a DataFrame (this job's shard of them under ``--mlaudit-shard``)."""
    n = inputs.n_rows(X, "X")
    positive, classes = validation.binary_labels(y, n, positive_label, "y", as_bool=True)
    columns = groups.sensitive_columns(sensitive_features, n)
    groups.check_columns(columns)
    block = a.shard_block(n, lambda: inputs.fingerprint_all(X, positive, columns).describe()["sha256"])
    if block is not None:  # --mlaudit-shard i/k: the i-th block of rows
        X, positive = groups.rows_of(X, *block), positive[block[0]:block[1]]
        columns = {name: groups.rows_of(column, *block) for name, column in columns.items()}
    predicted, determinism = repeatable(
        lambda: inputs.predict_01(model, X, lambda: inputs.groups_as_text(columns), a.seed("predict"),
                                  positive_label, classes), "X")
    a.check(determinism.name, determinism.passed, determinism.detail)
    inputs.describe_data(a, X, positive, columns)
    return groups.count_rows(columns, positive, predicted), list(columns)

