"""DPSGDClassifier: DP-SGD with Opacus as a factory's model for dp_utility, with Opacus' accounting."""

import numpy as np
import pytest
from extras import need

torch = need("torch")
need("opacus")

import pytest_mlaudit as mla  # noqa: E402


def network(n_features, n_classes):
    return torch.nn.Sequential(torch.nn.Linear(n_features, 16), torch.nn.ReLU(), torch.nn.Linear(16, n_classes))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X[:400], y[:400], X[400:], y[400:]


def factory(epsilon, seed):
    """The documented factory form: (epsilon, seed) -> an unfitted DPSGDClassifier."""
    return mla.DPSGDClassifier(network, epsilon=epsilon, delta=1e-5, epochs=3, batch_size=50, lr=0.5,
                               max_grad_norm=1.0, random_state=seed)


@pytest.fixture(scope="module")
def fitted(data):
    X_train, y_train, _, _ = data
    return factory(2.0, 0).fit(X_train, y_train)


def test_epsilon_spent_is_what_opacus_accountant_computes_for_the_training_run(fitted):
    from opacus.accountants import RDPAccountant

    accounting = fitted.accounting_
    accountant = RDPAccountant()
    accountant.history = [(accounting["noise_multiplier"], accounting["sample_rate"], accounting["steps"])]
    assert fitted.epsilon_ == pytest.approx(accountant.get_epsilon(1e-5))
    assert 1.9 <= fitted.epsilon_ <= 2.0  # Opacus searches the noise for the target within its tolerance
    assert (fitted.delta_, fitted.accountant_) == (1e-5, "opacus rdp accountant")


def test_accounting_states_the_mechanism(fitted):
    accounting = fitted.accounting_
    assert accounting["sample_rate"] == pytest.approx(50 / 400)
    assert accounting["steps"] == 3 * 8
    assert accounting["max_grad_norm"] == 1.0
    assert accounting["noise_multiplier"] > 0.5


def test_smaller_epsilon_means_more_noise(data):
    X_train, y_train, _, _ = data
    assert factory(0.5, 0).fit(X_train, y_train).accounting_["noise_multiplier"] > \
        factory(4.0, 0).fit(X_train, y_train).accounting_["noise_multiplier"]


def test_same_seed_trains_the_same_model(data, fitted):
    X_train, y_train, X_test, _ = data
    again = factory(2.0, 0).fit(X_train, y_train)
    assert np.array_equal(again.parameters_, fitted.parameters_)
    assert not np.array_equal(factory(2.0, 1).fit(X_train, y_train).parameters_, fitted.parameters_)


def test_dp_utility_reports_opacus_accounting(data, mlaudit):
    result = mlaudit.dp_utility(factory, *data, epsilons=[1.0, 4.0], seeds=2)
    record = mlaudit.records[-1]
    assert result.at(4.0).spent_epsilon <= 4.0
    assert "opacus rdp accountant" in result.at(4.0).accountant
    table = next(t for t in record.extras["tables"] if t["title"].startswith("DP mechanism per epsilon"))
    assert table["columns"][:6] == ["requested epsilon", "accountant", "noise multiplier", "clipping norm",
                                    "sampling rate", "steps"]
    assert [row[0] for row in table["rows"]] == [1.0, 4.0]
    assert table["rows"][0][2] > table["rows"][1][2]
    assert {c.name: c.passed for c in record.checks}["privacy budget accounted"]


def test_accuracy_floor_gates_a_dp_sgd_model(data):
    result = mla.assert_dp_accuracy_floor(factory, *data, epsilon=4.0, at_least=0.7, seeds=2)
    assert result.at(4.0).mean_accuracy.value >= 0.7


def test_module_must_be_a_builder():
    with pytest.raises(TypeError, match=r"module must be a callable module\(n_features, n_classes\)"):
        mla.DPSGDClassifier(None, epsilon=1.0).fit(np.zeros((10, 2)), np.r_[np.zeros(5), np.ones(5)])
