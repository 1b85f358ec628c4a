"""audit_dp_training and assert_dp_claim: the one-run audit of Steinke, Nasr & Jagielski 2023."""

import math
from fractions import Fraction

import numpy as np
import pytest
from extras import needs

import pytest_mlaudit as mla
from pytest_mlaudit.privacy.dp_audit import epsilon_lower_bound, one_run_p_value

EPOCHS, BATCH, LR, CLAIMED = 30, 50, 1.0, 1.0


def exact_p_value(m, r, v, epsilon, delta):
    """The paper's bound in exact arithmetic: f(v) + 2 m delta max_i (f(v-i) - f(v)) / i, f(t) = P[Bin(r, q) >= t]."""
    q = Fraction(1) / (1 + Fraction(math.exp(-epsilon)))

    def f(t):
        return sum(math.comb(r, j) * q ** j * (1 - q) ** (r - j) for j in range(max(t, 0), r + 1))

    alpha = max([(f(v - i) - f(v)) / i for i in range(1, v + 1)], default=Fraction(0))
    return float(min(f(v) + 2 * m * Fraction(delta) * alpha, Fraction(1)))


@pytest.mark.parametrize("m, r, v, epsilon, delta", [
    (100, 20, 18, 1.0, 0.0), (100, 20, 18, 1.0, 1e-5), (1000, 40, 30, 0.5, 1e-3), (500, 60, 59, 3.0, 1e-5),
    (50, 10, 0, 1.0, 1e-5), (200, 30, 30, 2.0, 0.01),
])
def test_p_value_is_the_papers_bound_computed_exactly(m, r, v, epsilon, delta):
    assert one_run_p_value(m, r, v, epsilon, delta) == pytest.approx(exact_p_value(m, r, v, epsilon, delta), rel=1e-9)


def test_all_guesses_right_under_pure_dp_gives_the_closed_form_bound():
    """delta = 0, v = r: P[Bin(r, q) >= r] = q^r = beta, so epsilon = logit(beta^(1/r))."""
    q = 0.05 ** (1 / 100)
    assert epsilon_lower_bound(1000, 100, 100, 0.0, 0.05) == pytest.approx(math.log(q / (1 - q)), abs=1e-9)


def float_p_value(m, r, v, epsilon, delta):
    """The same bound in floating point, from the binomial probabilities summed by hand."""
    q = 1 / (1 + math.exp(-epsilon))
    pmf = [math.comb(r, j) * q ** j * (1 - q) ** (r - j) for j in range(r + 1)]
    tail = [sum(pmf[t:]) for t in range(r + 2)]
    alpha = max([(tail[v - i] - tail[v]) / i for i in range(1, v + 1)], default=0.0)
    return min(tail[v] + 2 * m * delta * alpha, 1.0)


def test_bound_is_the_largest_epsilon_a_grid_search_rejects():
    grid = np.arange(0.0, 4.0, 0.005)
    rejected = [e for e in grid if float_p_value(1000, 200, 170, e, 1e-5) < 0.05]
    assert epsilon_lower_bound(1000, 200, 170, 1e-5, 0.05) == pytest.approx(max(rejected), abs=0.005)


def test_chance_guesses_prove_nothing():
    assert epsilon_lower_bound(1000, 200, 100, 1e-5, 0.05) == 0.0


def network(n_features, n_classes):
    import torch

    return torch.nn.Sequential(torch.nn.Linear(n_features, 256), torch.nn.ReLU(), torch.nn.Linear(256, n_classes))


def opacus_dp_sgd(X, y, seed):
    """Correct DP-SGD at the claimed epsilon: Opacus picks the noise for the real sampling rate."""
    return mla.DPSGDClassifier(network, epsilon=CLAIMED, delta=1e-5, epochs=EPOCHS, batch_size=BATCH, lr=LR,
                               random_state=seed).fit(X, y)


def broken_dp_sgd(X, y, seed):
    """A DP-SGD bug: the noise std is divided by the batch size once more (noise meant for a batch of one,
    added to the batch mean), so it is BATCH times too small for the claimed epsilon."""
    import torch
    from opacus import PrivacyEngine
    from opacus.accountants.utils import get_noise_multiplier

    torch.manual_seed(seed)
    model = network(X.shape[1], 2)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y)),
                                         batch_size=BATCH, generator=torch.Generator().manual_seed(seed))
    sigma = get_noise_multiplier(target_epsilon=CLAIMED, target_delta=1e-5, sample_rate=BATCH / len(X), epochs=EPOCHS)
    model, optimizer, loader = PrivacyEngine(accountant="rdp").make_private(
        module=model, optimizer=torch.optim.SGD(model.parameters(), lr=LR), data_loader=loader,
        noise_multiplier=sigma / BATCH, max_grad_norm=1.0)
    for _ in range(EPOCHS):
        for inputs, labels in loader:
            optimizer.zero_grad()
            if len(labels):
                torch.nn.functional.cross_entropy(model(inputs), labels).backward()
            optimizer.step()
    return model._module.eval()


@pytest.fixture(scope="module")
def data():
    """1,000 rows in 100 dimensions: the network can memorize mislabeled canaries unless DP stops it."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 100)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.normal(size=1000) > 0).astype(np.int64)
    return X, y


@pytest.fixture
def one_thread():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@needs("torch", "opacus")
def test_one_run_audit_catches_noise_scaled_for_the_wrong_batch_size(data, one_thread):
    """Measured: epsilon lower bound 2.24 (283 of 300 guesses right) against the claimed 1."""
    X, y = data
    with mla.settings(seed=0), pytest.raises(AssertionError, match=r"epsilon_lower_bound = .* misses at_most=1"):
        mla.assert_dp_claim(broken_dp_sgd, X, y, epsilon=CLAIMED, delta=1e-5, canaries=500)


@needs("torch", "opacus")
def test_one_run_audit_passes_opacus_dp_sgd(data, one_thread):
    X, y = data
    with mla.settings(seed=0):
        result = mla.assert_dp_claim(opacus_dp_sgd, X, y, epsilon=CLAIMED, delta=1e-5, canaries=500)
    assert result.epsilon_lower_bound.value <= CLAIMED
    assert (result.canaries, result.claimed_epsilon) == (500, CLAIMED)
    assert 200 < result.included < 300


def test_record_states_the_canaries_and_the_guesses(mlaudit):
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(400, 10, random_state=0)

    def memorizing(X, y, seed):  # no DP at all: fully grown trees fit every canary
        return RandomForestClassifier(n_estimators=10, random_state=seed).fit(X, y)

    result = mlaudit.audit_dp_training(memorizing, X, y, epsilon=1.0, delta=1e-5, canaries=200)
    record = mlaudit.records[-1]
    assert record.params["canaries"] == 200
    assert record.metrics["epsilon_lower_bound"].value == result.epsilon_lower_bound.value > 1.0
    assert record.extras["tables"][0]["columns"] == ["guesses (r)", "correct (v)", "accuracy", "epsilon lower bound"]


def test_too_few_canaries_are_refused():
    X, y = np.zeros((100, 2)), np.r_[np.zeros(50), np.ones(50)].astype(int)
    with pytest.raises(ValueError, match="canaries must be at least 10"):
        mla.audit_dp_training(lambda X, y, seed: None, X, y, epsilon=1.0, delta=0.0, canaries=5)


def test_train_fn_must_be_callable():
    X, y = np.zeros((100, 2)), np.r_[np.zeros(50), np.ones(50)].astype(int)
    with pytest.raises(TypeError, match=r"train_fn must be a callable train_fn\(X, y, seed\)"):
        mla.audit_dp_training("model", X, y, epsilon=1.0, delta=0.0, canaries=20)
