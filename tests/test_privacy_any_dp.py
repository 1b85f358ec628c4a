"""Privacy-utility audits of DP models from any library: no diffprivlib needed.

A model that is not diffprivlib's states its own accounting after fit (``epsilon_``,
``delta_``, ``accountant_``), as a DP-SGD model trained with Opacus would; the report
shows it as stated. diffprivlib is hidden in every test here, as in an environment
without the ``privacy`` extra.
"""

import sys

import pytest
from sklearn.datasets import make_classification
from dp_models import OutputPerturbed
from extras import reason
from sklearn.linear_model import LogisticRegression

import pytest_mlaudit as mla
from pytest_mlaudit.privacy import training


@pytest.fixture
def data(monkeypatch):
    for name in [name for name in sys.modules if name.startswith("diffprivlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "diffprivlib", None)
    X, y = make_classification(n_samples=300, n_features=4, random_state=0)
    return X[:200], y[:200], X[200:], y[200:]


def test_dp_utility_with_a_model_that_states_its_accounting(data):
    result = mla.dp_utility(lambda eps, seed: OutputPerturbed(epsilon=eps, random_state=seed), *data,
                            epsilons=[0.5, 5.0], seeds=3, baseline=LogisticRegression())
    point = result.at(5.0)
    assert point.spent_epsilon == pytest.approx(5.0) and point.spent_delta == pytest.approx(1e-5)
    assert point.composed_epsilon == pytest.approx(15.0)
    assert point.composed_delta == pytest.approx(1 - (1 - 1e-5) ** 3)
    assert point.accountant == "OutputPerturbed: RDP accountant (as Opacus reports it)"
    assert result.at(5.0).mean_accuracy.value > 0.7


def test_the_report_shows_the_stated_accounting(mlaudit, data):
    mlaudit.assert_dp_accuracy_floor(lambda eps, seed: OutputPerturbed(epsilon=eps, random_state=seed), *data,
                                     epsilon=5.0, seeds=3, at_least=0.6)
    record = mlaudit.records[-1]
    assert record.params["budget"]["accountant"] == "OutputPerturbed: RDP accountant (as Opacus reports it)"
    assert record.params["budget"]["per_model"] == [{"epsilon": 5.0, "delta": 1e-5}]
    budget = [t for t in record.extras["tables"] if t["title"].startswith("Privacy budget")][0]
    assert "RDP accountant" in budget["title"]
    checks = {c.name: c for c in record.checks}
    assert checks["privacy budget accounted"].passed
    assert "no privacy leak" not in checks  # diffprivlib's PrivacyLeakWarning: not a check for other libraries


def test_a_model_that_states_no_accounting_fails_the_budget_check(mlaudit, data):
    mlaudit.dp_utility(lambda eps, seed: OutputPerturbed(epsilon=eps, random_state=seed, state=False), *data,
                       epsilons=[1.0], seeds=2)
    check = {c.name: c for c in mlaudit.records[-1].checks}["privacy budget accounted"]
    assert not check.passed and "no epsilon_ attribute after fit" in check.detail


def test_a_model_that_overspends_fails_the_budget_check(mlaudit, data):
    mlaudit.dp_utility(lambda eps, seed: OutputPerturbed(epsilon=eps, random_state=seed, spend=2.0), *data,
                       epsilons=[1.0], seeds=2)
    check = {c.name: c for c in mlaudit.records[-1].checks}["privacy budget accounted"]
    assert not check.passed and "spent more than requested" in check.detail


def test_a_non_dp_model_is_still_refused(data):
    with pytest.raises(TypeError, match="no epsilon parameter"):
        mla.dp_utility(lambda eps, seed: LogisticRegression(random_state=seed), *data, epsilons=[1.0], seeds=2)


def test_membership_audit_needs_no_diffprivlib(data):
    X_train, y_train, X_test, y_test = data
    model = LogisticRegression().fit(X_train, y_train)
    result = mla.membership_inference(model, X_train, y_train, X_test, y_test)
    assert 0.0 <= result.auc.value <= 1.0


def test_composition_matches_diffprivlib_budget_accountant(monkeypatch):
    monkeypatch.delitem(sys.modules, "diffprivlib", raising=False)
    accountant = pytest.importorskip("diffprivlib", reason=reason("diffprivlib")).BudgetAccountant
    spends = [(0.5, 1e-5), (1.0, 0.0), (2.0, 1e-3)]
    assert training.compose(spends) == pytest.approx(tuple(accountant(spent_budget=spends).total()))
