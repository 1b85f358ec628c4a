"""membership_inference and assert_membership_advantage: the loss-threshold attack and its figures."""

import math

import numpy as np
import pytest
from extras import needs
from scipy.stats import beta
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.tree import DecisionTreeClassifier

import pytest_mlaudit as mla
from outside_pytest import as_a_script
from pytest_mlaudit.privacy.membership import epsilon_lower_bound, sample_losses


@pytest.fixture(scope="module")
def noisy():
    """Noisy labels: a fully grown tree memorizes its members, a strong membership signal."""
    X, y = make_classification(800, 10, flip_y=0.3, random_state=0)
    return X[:400], y[:400], X[400:], y[400:]


@pytest.fixture(scope="module")
def memorizing_tree(noisy):
    X_train, y_train, _, _ = noisy
    return DecisionTreeClassifier(random_state=0).fit(X_train, y_train)


def test_attack_finds_the_members_of_a_memorizing_model(noisy, memorizing_tree):
    result = mla.membership_inference(memorizing_tree, *noisy)
    assert result.auc.low > 0.6
    assert result.advantage.low > 0.15
    assert result.empirical_epsilon.low > 1.0
    assert (result.n_members, result.n_nonmembers) == (400, 400)


def test_attack_finds_nothing_against_a_model_that_ignores_its_data(noisy):
    X_train, y_train, _, _ = noisy
    model = DummyClassifier(strategy="prior").fit(X_train, y_train)
    result = mla.membership_inference(model, *noisy)
    assert result.auc.low <= 0.5 <= result.auc.high
    assert result.advantage.low <= 0.0 <= result.advantage.high
    assert result.empirical_epsilon.low == 0.0


def test_auc_is_sklearns_auc_of_minus_the_loss(noisy):
    X_train, y_train, X_holdout, y_holdout = noisy
    model = LogisticRegression().fit(X_train, y_train)
    result = mla.membership_inference(model, *noisy)
    scores = -np.r_[sample_losses(model, X_train, y_train), sample_losses(model, X_holdout, y_holdout)]
    labels = np.r_[np.ones(400), np.zeros(400)]
    assert result.auc.value == pytest.approx(roc_auc_score(labels, scores))


def test_losses_are_the_per_sample_cross_entropy(noisy):
    X_train, y_train, _, _ = noisy
    model = LogisticRegression().fit(X_train, y_train)
    proba = model.predict_proba(X_train)
    expected = -np.log(np.where(y_train == 1, proba[:, 1], proba[:, 0]))
    assert sample_losses(model, X_train, y_train) == pytest.approx(expected)


@needs("torch")
def test_torch_models_are_scored_from_their_logits(noisy):
    import torch

    X_train, y_train, X_holdout, y_holdout = noisy
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    X = torch.as_tensor(X_train, dtype=torch.float32)
    expected = torch.nn.functional.cross_entropy(net(X), torch.as_tensor(y_train), reduction="none").detach().numpy()
    assert sample_losses(net, X_train, y_train) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    result = mla.membership_inference(net, X_train, y_train, X_holdout, y_holdout)
    holdout_losses = sample_losses(net, X_holdout, y_holdout)
    labels = np.r_[np.ones(len(expected)), np.zeros(len(holdout_losses))]
    assert result.auc.value == pytest.approx(roc_auc_score(labels, -np.r_[expected, holdout_losses]), abs=1e-6)


def test_epsilon_bound_follows_jagielski_with_clopper_pearson_upper_rates():
    estimate = epsilon_lower_bound(false_positives=5, negatives=100, false_negatives=10, positives=100)
    fpr_high = beta.ppf(0.975, 6, 95)
    fnr_high = beta.ppf(0.975, 11, 90)
    expected_low = max(math.log((1 - fpr_high) / fnr_high), math.log((1 - fnr_high) / fpr_high))
    assert estimate.low == pytest.approx(expected_low)
    assert estimate.value == pytest.approx(math.log(0.9 / 0.05))


def test_epsilon_bound_of_a_perfect_attack_stays_finite():
    estimate = epsilon_lower_bound(false_positives=0, negatives=50, false_negatives=0, positives=50)
    assert estimate.value == pytest.approx(math.log(49.0))  # rates floored at 1/50
    assert 0.0 < estimate.low < estimate.value


def test_gate_fails_when_the_attacker_advantage_is_too_large(noisy, memorizing_tree):
    with pytest.raises(AssertionError, match=r"advantage = .* misses at_most=0.1"):
        mla.assert_membership_advantage(memorizing_tree, *noisy, at_most=0.1)


def test_small_holdout_is_not_suspect_for_the_advantage(noisy, memorizing_tree, mlaudit):
    X_train, y_train, X_holdout, y_holdout = noisy
    mlaudit.assert_membership_advantage(memorizing_tree, X_train, y_train, X_holdout[:150], y_holdout[:150],
                                        at_most=1.0)
    record = mlaudit.records[-1]
    assert [(c.name, c.passed) for c in record.checks] == [("deterministic predictions", True)]
    assert record.params["low_fpr_resolution"]["0.1%"].startswith("not resolved: 150 holdout samples")
    assert record.params["low_fpr_resolution"]["1.0%"].startswith("resolved: 150 holdout samples")


def test_gated_tpr_below_one_over_n_fpr_marks_the_audit_suspect(noisy, memorizing_tree, mlaudit):
    X_train, y_train, X_holdout, y_holdout = noisy
    mlaudit.assert_membership_tpr(memorizing_tree, X_train, y_train, X_holdout[:150], y_holdout[:150],
                                  fpr=0.001, at_most=1.0)
    checks = {c.name: c.passed for c in mlaudit.records[-1].checks}
    assert checks == {"deterministic predictions": True, "holdout resolves 0.1% FPR": False}
    mlaudit.assert_membership_tpr(memorizing_tree, X_train, y_train, X_holdout[:150], y_holdout[:150],
                                  fpr=0.01, at_most=1.0)
    checks = {c.name: c.passed for c in mlaudit.records[-1].checks}
    assert checks == {"deterministic predictions": True, "holdout resolves 1.0% FPR": True}


def test_record_has_metrics_roc_curve_and_attack_description(noisy, memorizing_tree, mlaudit):
    mlaudit.membership_inference(memorizing_tree, *noisy)
    record = mlaudit.records[-1]
    assert set(record.metrics) == {"auc", "advantage", "tpr_at_1pct_fpr", "tpr_at_01pct_fpr", "empirical_epsilon"}
    assert record.params["attack"] == "loss threshold (Yeom et al. 2018)"
    chart = record.extras["curves"][0]
    roc = chart["series"][0]
    assert chart["x_scale"] == "log"
    assert roc["x"][0] == 1 / 400 and roc["x"][-1] == 1.0 and roc["y"][-1] == 1.0


def test_same_run_seed_gives_identical_figures(noisy, memorizing_tree):
    def measure():
        return mla.membership_inference(memorizing_tree, *noisy)

    assert as_a_script(measure, seed=3) == as_a_script(measure, seed=3)


def test_unfitted_model_is_refused(noisy):
    with pytest.raises(ValueError, match=r"model \(LogisticRegression\) is not fitted"):
        mla.membership_inference(LogisticRegression(), *noisy)


def test_model_without_probabilities_is_refused(noisy):
    with pytest.raises(TypeError, match="fitted classifier with predict_proba or a torch module"):
        mla.membership_inference(object(), *noisy)


def test_labels_the_model_does_not_know_are_refused(noisy, memorizing_tree):
    X_train, y_train, X_holdout, y_holdout = noisy
    with pytest.raises(ValueError, match=r"y_holdout has labels \[2\] the model does not know"):
        mla.membership_inference(memorizing_tree, X_train, y_train, X_holdout, np.where(y_holdout == 1, 2, 0))


def test_holdout_with_other_features_is_refused(noisy, memorizing_tree):
    X_train, y_train, X_holdout, y_holdout = noisy
    with pytest.raises(ValueError, match=r"X_train has rows of shape \(10,\) but X_holdout of shape \(9,\)"):
        mla.membership_inference(memorizing_tree, X_train, y_train, X_holdout[:, :9], y_holdout)
