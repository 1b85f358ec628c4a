"""membership_inference(..., attack="lira"): LiRA against a brute-force likelihood ratio, and against the loss attack."""

import math

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

import pytest_mlaudit as mla
from extras import needs
from outside_pytest import as_a_script
from pytest_mlaudit.privacy import lira

N_SHADOW = 8


def forest(X, y, seed):
    """A random forest grown to pure leaves: it memorizes its noisy labels, with soft probabilities."""
    return RandomForestClassifier(n_estimators=20, random_state=seed, n_jobs=1).fit(X, y)


@pytest.fixture(scope="module")
def noisy():
    """300 members, 300 holdout samples, 20% flipped labels."""
    X, y = make_classification(600, 20, n_informative=5, flip_y=0.2, random_state=0)
    return X[:300], y[:300], X[300:], y[300:]


@pytest.fixture(scope="module")
def overfit(noisy):
    X_train, y_train, _, _ = noisy
    return forest(X_train, y_train, 0)


def mlp(X, y, seed):
    """A one-hidden-layer torch MLP trained full-batch to memorize its training set."""
    import torch

    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    inputs, labels = torch.as_tensor(X), torch.as_tensor(y)
    for _ in range(300):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(inputs), labels).backward()
        optimizer.step()
    return net.eval()


def brute_force_likelihood_ratio(target_phi, shadow_phi, keep, online):
    """Algorithm 1 of Carlini et al. 2022, one sample at a time, with the Gaussian density written out."""
    def log_density(x, mean, var):
        return -0.5 * math.log(2 * math.pi * var) - (x - mean) ** 2 / (2 * var)

    scores = []
    for i, observed in enumerate(target_phi):
        confs_in = [shadow_phi[s][i] for s in range(len(shadow_phi)) if keep[s][i]]
        confs_out = [shadow_phi[s][i] for s in range(len(shadow_phi)) if not keep[s][i]]
        mu_in, mu_out = sum(confs_in) / len(confs_in), sum(confs_out) / len(confs_out)
        floor = 1e-12  # the audit's smallest standard deviation, 1e-6, squared
        var_in = max(sum((c - mu_in) ** 2 for c in confs_in) / (len(confs_in) - 1), floor)
        var_out = max(sum((c - mu_out) ** 2 for c in confs_out) / (len(confs_out) - 1), floor)
        if online:
            scores.append(log_density(observed, mu_in, var_in) - log_density(observed, mu_out, var_out))
        else:  # P[Z < observed], Z ~ N(mu_out, var_out)
            scores.append(math.log(0.5 * math.erfc(-(observed - mu_out) / math.sqrt(2 * var_out))))
    return np.array(scores)


def logit_of_true_label(model, X, y):
    """log(p_y / (1 - p_y)), 1 - p_y summed over the other classes; probabilities floored at 1e-300 as the audit does."""
    proba = model.predict_proba(X)
    p_true = proba[np.arange(len(y)), y]
    p_rest = proba.sum(axis=1) - p_true
    return np.log(np.maximum(p_true, 1e-300)) - np.log(np.maximum(p_rest, 1e-300))


@pytest.mark.parametrize("online", [True, False], ids=["online", "offline"])
def test_lira_scores_are_the_brute_force_likelihood_ratios(online):
    rng = np.random.default_rng(1)
    keep = lira.inclusion_matrix(8, 30, seed=2)
    shadow = rng.normal(size=(8, 30)) + 2.0 * keep
    target = rng.normal(size=30) + 1.0
    expected = brute_force_likelihood_ratio(target, shadow, keep, online)
    assert lira.likelihood_ratio_scores(target, shadow, keep, online=online) == pytest.approx(expected, rel=1e-9)


def test_each_sample_is_in_exactly_half_the_shadow_models():
    keep = lira.inclusion_matrix(8, 50, seed=0)
    assert keep.shape == (8, 50)
    assert (keep.sum(axis=0) == 4).all()


def test_audit_figures_are_those_of_an_independent_lira(noisy, overfit, mlaudit):
    """Shadow models retrained here, on the audit's halves and seeds, give the audit's AUC and TPR."""
    X_train, y_train, X_holdout, y_holdout = noisy
    result = mlaudit.membership_inference(overfit, *noisy, attack="lira", shadow_factory=forest, n_shadow=N_SHADOW)
    seed = mlaudit.records[-1].params["shadow_seed"]
    X, y = np.r_[X_train, X_holdout], np.r_[y_train, y_holdout]
    keep = lira.inclusion_matrix(N_SHADOW, len(X), seed)
    seeds = np.random.SeedSequence(seed).generate_state(N_SHADOW)
    shadow = [logit_of_true_label(forest(X[k], y[k], int(s)), X, y) for k, s in zip(keep, seeds)]
    scores = brute_force_likelihood_ratio(logit_of_true_label(overfit, X, y), shadow, keep, online=True)
    labels = np.r_[np.ones(300), np.zeros(300)]
    assert result.auc.value == pytest.approx(roc_auc_score(labels, scores))
    members, nonmembers = scores[:300], scores[300:]
    threshold = np.sort(nonmembers)[::-1][3]  # 1% of 300 non-members: 3 false positives allowed
    assert result.tpr_at_1pct_fpr.value == pytest.approx(np.mean(members > threshold))


@needs("torch")
def test_lira_beats_the_loss_attack_at_low_fpr_on_an_overfit_model(noisy):
    """A small torch MLP that memorizes noisy labels (measured: TPR at 1% FPR 0.057 to 0.093 for LiRA, depending on
    the shadow seeds, 0.037 for the loss attack)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: a second thread only waits (100x slower on a loaded machine)
    X_train, y_train, X_holdout, y_holdout = (a.astype(np.float32) if a.dtype.kind == "f" else a for a in noisy)
    target = mlp(X_train, y_train, 0)
    try:
        with mla.settings(seed=0):
            result = mla.membership_inference(target, X_train, y_train, X_holdout, y_holdout, attack="lira",
                                              shadow_factory=mlp, n_shadow=N_SHADOW)
    finally:
        torch.set_num_threads(threads)
    loss = result.loss_attack
    assert result.tpr_at_1pct_fpr.value >= loss.tpr_at_1pct_fpr.value
    assert result.auc.value > loss.auc.value


def test_offline_lira_scores_with_out_models_only(noisy, overfit, mlaudit):
    mlaudit.membership_inference(overfit, *noisy, attack="lira", shadow_factory=forest, n_shadow=4, online=False)
    assert mlaudit.records[-1].params["lira_variant"] == "offline (OUT Gaussians only, one-sided)"


def test_record_puts_lira_and_the_loss_attack_side_by_side(noisy, overfit, mlaudit):
    mlaudit.membership_inference(overfit, *noisy, attack="lira", shadow_factory=forest, n_shadow=N_SHADOW)
    record = mlaudit.records[-1]
    assert {"auc", "tpr_at_1pct_fpr", "tpr_at_01pct_fpr", "loss_auc", "loss_tpr_at_1pct_fpr",
            "loss_tpr_at_01pct_fpr"} <= set(record.metrics)
    assert record.metrics["tpr_at_1pct_fpr"].method == "clopper-pearson"
    assert record.params["attack"] == "likelihood ratio, LiRA (Carlini et al. 2022)"
    assert record.params["n_shadow"] == N_SHADOW
    chart = record.extras["curves"][0]
    assert chart["x_scale"] == "log"
    assert [s["label"] for s in chart["series"]] == ["LiRA", "loss attack", "chance"]
    assert {c.name: c.passed for c in record.checks}["shadow models train on as many samples as the target"]


def test_tpr_gate_fails_when_lira_finds_the_members(noisy, overfit):
    with pytest.raises(AssertionError, match=r"tpr_at_1pct_fpr = .* misses at_most=0.05"):
        mla.assert_membership_tpr(overfit, *noisy, fpr=0.01, at_most=0.05, attack="lira", shadow_factory=forest,
                                  n_shadow=N_SHADOW)


def test_shadows_trained_on_a_larger_pool_than_the_target_make_the_audit_suspect(noisy, overfit, mlaudit):
    X_train, y_train, X_holdout, y_holdout = noisy
    extra_X, extra_y = make_classification(600, 20, n_informative=5, flip_y=0.2, random_state=1)
    mlaudit.membership_inference(overfit, *noisy, attack="lira", shadow_factory=forest, n_shadow=4,
                                 population=(extra_X, extra_y))
    check = {c.name: c for c in mlaudit.records[-1].checks}["shadow models train on as many samples as the target"]
    assert not check.passed
    assert "each shadow trains on 600 samples (half the pool), the target on 300" in check.detail


def test_same_run_seed_gives_identical_lira_figures(noisy):
    X_train, y_train, _, _ = noisy
    model = LogisticRegression(max_iter=1000).fit(X_train, y_train)

    def linear(X, y, seed):
        return LogisticRegression(max_iter=1000).fit(X, y)

    def measure():
        return mla.membership_inference(model, *noisy, attack="lira", shadow_factory=linear, n_shadow=4)

    assert as_a_script(measure, seed=3) == as_a_script(measure, seed=3)


def test_lira_without_a_shadow_factory_is_refused(noisy, overfit):
    with pytest.raises(TypeError, match=r"attack='lira' needs shadow_factory\(X, y, seed\)"):
        mla.membership_inference(overfit, *noisy, attack="lira")


def test_odd_shadow_count_is_refused(noisy, overfit):
    with pytest.raises(ValueError, match="n_shadow must be an even integer of at least 4"):
        mla.membership_inference(overfit, *noisy, attack="lira", shadow_factory=forest, n_shadow=5)


def test_unknown_attack_is_refused(noisy, overfit):
    with pytest.raises(ValueError, match="attack must be one of 'loss', 'lira', got 'shadow'"):
        mla.membership_inference(overfit, *noisy, attack="shadow")


def test_shadow_factory_errors_name_the_shadow_model(noisy, overfit):
    def broken(X, y, seed):
        raise RuntimeError("out of memory")

    with pytest.raises(ValueError, match=r"shadow_factory\(X, y, seed\) raised RuntimeError on shadow model 0"):
        mla.membership_inference(overfit, *noisy, attack="lira", shadow_factory=broken, n_shadow=4)
