"""Estimates checked against independent computations written out in the test, not against our own code.

- the paired Newcombe interval against a brute-force paired bootstrap of the units;
- the F1, PR-AUC and demographic-parity bootstraps against a direct resampling loop
  that draws row indices and calls scikit-learn on each resample;
- membership advantage and TPR at low FPR against a brute-force sweep over every threshold;
- the requirement verdicts against a table of cases written by hand.
"""

import numpy as np
import pytest
from extras import needs
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import average_precision_score, f1_score

import pytest_mlaudit as mla
from outside_pytest import as_a_script
from pytest_mlaudit.compliance import requirement_verdicts
from pytest_mlaudit.stats import paired_difference


def percentile_interval(replicates, confidence):
    alpha = 1 - confidence
    return tuple(np.quantile(replicates, [alpha / 2, 1 - alpha / 2]))


@pytest.mark.parametrize("confidence", [0.80, 0.95])
@pytest.mark.parametrize("table", [(230, 40, 15, 115), (300, 5, 30, 65), (120, 60, 60, 160)])
def test_paired_newcombe_interval_agrees_with_a_brute_force_paired_bootstrap(table, confidence):
    """400 units, each with two 0/1 outcomes; the units are resampled with both outcomes together."""
    both, only_first, only_second, neither = table
    first = np.repeat([1, 1, 0, 0], table)
    second = np.repeat([1, 0, 1, 0], table)
    rng = np.random.default_rng(0)
    replicates = np.empty(4000)
    for b in range(replicates.size):
        rows = rng.integers(0, first.size, first.size)
        replicates[b] = first[rows].mean() - second[rows].mean()
    ours = paired_difference(both, only_first, only_second, neither, confidence)
    assert ours.value == pytest.approx(first.mean() - second.mean())
    np.testing.assert_allclose((ours.low, ours.high), percentile_interval(replicates, confidence), atol=0.01)


@needs("imblearn")
def test_f1_and_pr_auc_intervals_agree_with_a_direct_class_stratified_resampling_loop():
    from pytest_mlaudit.imbalance.metrics import minority_metrics

    rng = np.random.default_rng(1)
    y = np.r_[np.ones(120, bool), np.zeros(480, bool)]
    scores = np.where(y, rng.beta(3, 2, y.size), rng.beta(2, 3, y.size))
    predicted = scores >= 0.5
    ours = minority_metrics(y, predicted, scores, confidence=0.95, seed=0, n_resamples=2000)
    positives, negatives = np.flatnonzero(y), np.flatnonzero(~y)
    f1, pr_auc = np.empty(2000), np.empty(2000)
    for b in range(2000):
        rows = np.r_[rng.choice(positives, positives.size), rng.choice(negatives, negatives.size)]
        f1[b] = f1_score(y[rows], predicted[rows])
        pr_auc[b] = average_precision_score(y[rows], scores[rows])
    assert ours.f1.value == pytest.approx(f1_score(y, predicted))
    assert ours.pr_auc.value == pytest.approx(average_precision_score(y, scores))
    np.testing.assert_allclose((ours.f1.low, ours.f1.high), percentile_interval(f1, 0.95), atol=0.01)
    np.testing.assert_allclose((ours.pr_auc.low, ours.pr_auc.high), percentile_interval(pr_auc, 0.95), atol=0.01)


class FirstColumn(BaseEstimator, ClassifierMixin):
    """A fitted 'model' that predicts the first feature: known predictions."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0].astype(int)


@needs("fairlearn")
def test_demographic_parity_difference_interval_agrees_with_a_direct_group_stratified_resampling_loop():
    rng = np.random.default_rng(2)
    group = np.repeat(np.array(["a", "b", "c"]), [300, 200, 100])
    rate = {"a": 0.5, "b": 0.35, "c": 0.3}
    predicted = (rng.random(group.size) < np.vectorize(rate.get)(group)).astype(int)
    y = (rng.random(group.size) < 0.4).astype(int)
    X = np.column_stack([predicted, rng.random(group.size)])
    ours = as_a_script(lambda: mla.fairness(FirstColumn().fit(X, y), X, y, sensitive_features=group,
                                            n_bootstrap=2000), seed=0).demographic_parity_difference
    members = [np.flatnonzero(group == g) for g in ("a", "b", "c")]

    def difference(rows_by_group):
        rates = [predicted[rows].mean() for rows in rows_by_group]
        return max(rates) - min(rates)

    replicates = np.array([difference([rng.choice(rows, rows.size) for rows in members]) for _ in range(2000)])
    assert ours.value == pytest.approx(difference(members))
    low, high = percentile_interval(replicates, 0.95)
    np.testing.assert_allclose((ours.low, ours.high), (min(low, ours.value), max(high, ours.value)), atol=0.012)


def brute_force_tpr_at_fpr(members, nonmembers, fpr):
    """The largest TPR over every threshold t (member iff score > t) whose FPR is at most ``fpr``."""
    best = 0.0
    for threshold in np.r_[-np.inf, members, nonmembers]:
        if np.mean(nonmembers > threshold) <= fpr + 1e-12:
            best = max(best, np.mean(members > threshold))
    return best


def brute_force_best_threshold(members, nonmembers):
    """The threshold (member iff score >= t) maximizing TPR - FPR, the first of the ties in increasing order."""
    thresholds = np.unique(np.r_[members, nonmembers])
    gains = [np.mean(members >= t) - np.mean(nonmembers >= t) for t in thresholds]
    return thresholds[int(np.argmax(gains))]


@pytest.mark.parametrize("fpr", [0.01, 0.05, 0.2])
def test_tpr_at_low_fpr_agrees_with_a_brute_force_threshold_sweep(fpr):
    from pytest_mlaudit.privacy.membership import tpr_at_fpr

    rng = np.random.default_rng(3)
    members, nonmembers = rng.normal(0.8, 1, 300), rng.normal(0, 1, 400)
    members[:20] = nonmembers[:20]  # ties between the two sets
    ours = tpr_at_fpr(members, nonmembers, fpr, 0.95)
    assert ours.value == pytest.approx(brute_force_tpr_at_fpr(members, nonmembers, fpr))


def test_membership_advantage_agrees_with_a_brute_force_sweep_on_the_same_halves(mlaudit):
    """The threshold is chosen on a seeded half and the advantage measured on the other half: both by brute force.

    The halves are drawn from the recorded ``split_seed``; the threshold and the rates are computed here.
    """
    from sklearn.datasets import make_classification
    from sklearn.tree import DecisionTreeClassifier

    from pytest_mlaudit.privacy.membership import sample_losses

    X, y = make_classification(n_samples=400, n_features=8, flip_y=0.2, random_state=0)
    model = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X[:200], y[:200])
    result = mlaudit.membership_inference(model, X[:200], y[:200], X[200:], y[200:])
    members, nonmembers = -sample_losses(model, X[:200], y[:200]), -sample_losses(model, X[200:], y[200:])
    rng = np.random.default_rng(mlaudit.records[-1].params["split_seed"])
    m_order, n_order = rng.permutation(200), rng.permutation(200)
    threshold = brute_force_best_threshold(members[m_order[:100]], nonmembers[n_order[:100]])
    m_eval, n_eval = members[m_order[100:]], nonmembers[n_order[100:]]
    assert result.advantage.value == pytest.approx(np.mean(m_eval >= threshold) - np.mean(n_eval >= threshold))
    assert result.advantage.value > 0.1  # the tree memorizes: the check is not of a zero


def audit(category, gates=(), outcome="passed", requirements=(), handled=False):
    return {"category": category, "outcome": outcome, "requirements": list(requirements), "handled": handled,
            "gates": [{"passed": passed, "requirements": []} for passed in gates]}


ART15, MEASURE27 = "EU-AI-Act-Art15", "NIST-AI-RMF-MEASURE-2.7"

# (audits, {requirement id: (verdict, gates, gates failed, errored)}), written out by hand from the rules:
# PASS needs a gate and no miss; FAIL on any miss or errored audit; NOT GATED when only measured.
VERDICT_CASES = [
    ([audit("robustness", [True, True])], {ART15: ("PASS", 2, 0, 0), MEASURE27: ("PASS", 2, 0, 0)}),
    ([audit("robustness", [True]), audit("robustness", [False])], {ART15: ("FAIL", 2, 1, 0), MEASURE27: ("FAIL", 2, 1, 0)}),
    ([audit("robustness")], {ART15: ("NOT GATED", 0, 0, 0), MEASURE27: ("NOT GATED", 0, 0, 0)}),
    ([audit("robustness", outcome="error")], {ART15: ("FAIL", 0, 0, 1), MEASURE27: ("FAIL", 0, 0, 1)}),
    ([audit("robustness", [False], handled=True), audit("robustness", [True])],
     {ART15: ("PASS", 1, 0, 0), MEASURE27: ("PASS", 1, 0, 0)}),
    ([audit("robustness", [True], requirements=["ACME-1"]), audit("robustness", [False])],
     {"ACME-1": ("PASS", 1, 0, 0), ART15: ("FAIL", 2, 1, 0), MEASURE27: ("FAIL", 2, 1, 0)}),
    ([audit("robustness", [True]), audit("robustness")], {ART15: ("PASS", 1, 0, 0), MEASURE27: ("PASS", 1, 0, 0)}),
]


@pytest.mark.parametrize("audits, expected", VERDICT_CASES)
def test_requirement_verdicts_match_the_hand_built_table(audits, expected):
    rows = {row["id"]: (row["verdict"], row["gates"], row["gates_failed"], row["errored"])
            for row in requirement_verdicts(audits)}
    assert rows == expected
