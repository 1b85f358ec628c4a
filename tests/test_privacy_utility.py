"""dp_utility and assert_dp_accuracy_floor: accuracy over seeds per epsilon, budgets, bad factories."""

import numpy as np
import pytest
from extras import need

need("diffprivlib")

from diffprivlib import BudgetAccountant
from diffprivlib.models import GaussianNB as DPGaussianNB
from diffprivlib.models import LogisticRegression as DPLogisticRegression
from sklearn.linear_model import LogisticRegression

import pytest_mlaudit as mla
from outside_pytest import as_a_script
from reference_models.iris_privacy import dp_model, load_iris_setosa, nonprivate_model

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def iris():
    return load_iris_setosa()


def run(iris, factory=dp_model, **kwargs):
    kwargs.setdefault("epsilons", [0.01, 10.0])
    kwargs.setdefault("seeds", 5)
    return mla.dp_utility(factory, iris.X_train, iris.y_train, iris.X_test, iris.y_test, **kwargs)


def test_mean_accuracy_is_the_average_over_seeds_and_falls_at_small_epsilon(iris):
    result = run(iris, seeds=8, baseline=nonprivate_model())
    small, large = result.at(0.01), result.at(10.0)
    assert small.mean_accuracy.value == pytest.approx(np.mean(small.accuracies))
    assert small.mean_accuracy.n == 8 and len(small.accuracies) == 8
    assert large.mean_accuracy.value == 1.0
    assert small.mean_accuracy.value < 0.8
    assert result.baseline_accuracy.value == 1.0 and result.baseline_accuracy.n == 45


def test_each_seed_trains_the_model_the_factory_builds_with_that_seed(iris):
    result = run(iris, epsilons=[1.0], seeds=3)
    for seed, accuracy in zip(result.seeds, result.at(1.0).accuracies):
        model = dp_model(1.0, seed).fit(iris.X_train, iris.y_train)
        assert accuracy == model.score(iris.X_test, iris.y_test)


def test_same_run_seed_gives_identical_numbers_and_another_seed_other_trainings(iris):
    first = as_a_script(lambda: run(iris), seed=0)
    again = as_a_script(lambda: run(iris), seed=0)
    other = as_a_script(lambda: run(iris), seed=1)
    assert first == again
    assert other.seeds != first.seeds and other.at(0.01).accuracies != first.at(0.01).accuracies


def test_each_model_spends_its_epsilon_on_its_own_accountant_not_the_users_default(iris, mlaudit):
    default = BudgetAccountant.load_default(None)
    spent_before = len(default.spent_budget)
    result = mlaudit.dp_utility(dp_model, iris.X_train, iris.y_train, iris.X_test, iris.y_test,
                                epsilons=[0.5, 2.0], seeds=4)
    record = mlaudit.records[-1]
    assert len(default.spent_budget) == spent_before
    assert [(p.spent_epsilon, p.spent_delta, p.composed_epsilon) for p in result.points] == [(0.5, 0.0, 2.0), (2.0, 0.0, 8.0)]
    assert record.params["budget"]["per_model"] == [{"epsilon": 0.5, "delta": 0.0}, {"epsilon": 2.0, "delta": 0.0}]
    assert [c.passed for c in record.checks if c.name == "privacy budget accounted"] == [True]
    budget_table = record.extras["tables"][1]
    assert budget_table["rows"][1] == [2.0, 2.0, 0.0, 4, 8.0, 0.0]


def test_record_carries_the_privacy_utility_curve_table_and_data_norm_clipping(iris, mlaudit):
    mlaudit.dp_utility(dp_model, iris.X_train, iris.y_train, iris.X_test, iris.y_test, epsilons=[0.1, 1.0, 10.0],
                       seeds=3, baseline=nonprivate_model())
    record = mlaudit.records[-1]
    curve = record.extras["curves"][0]
    assert [s["label"] for s in curve["series"]] == ["DP mean over 3 seeds", "DP p05 over 3 seeds", "non-private baseline"]
    assert curve["series"][0]["x"] == [0.1, 1.0, 10.0]
    assert curve["series"][0]["y"] == [record.metrics[f"accuracy_mean@eps={e:g}"].value for e in (0.1, 1, 10)]
    assert record.extras["tables"][0]["rows"][-1][0] == "non-private"
    assert record.params["data_norm_clipping"] == {"data_norm": 2.0, "max_row_norm": 3.6094, "rows_clipped": 0.4667}
    assert record.model["name"] == "LogisticRegression" and record.model["kind"] == "diffprivlib"


def test_floor_gate_passes_on_the_mean_and_fails_on_a_floor_the_models_miss(iris):
    result = mla.assert_dp_accuracy_floor(dp_model, iris.X_train, iris.y_train, iris.X_test, iris.y_test,
                                          epsilon=10.0, at_least=0.95, seeds=4)
    assert result.at(10.0).mean_accuracy.value == 1.0
    with pytest.raises(AssertionError, match=r"accuracy_p05@eps=0.01 = .* misses at_least=0.9"):
        mla.assert_dp_accuracy_floor(dp_model, iris.X_train, iris.y_train, iris.X_test, iris.y_test,
                                     epsilon=0.01, at_least=0.9, seeds=4, statistic="p05")


def test_floor_refuses_an_unknown_statistic(iris):
    with pytest.raises(ValueError, match="statistic must be one of mean, p05"):
        mla.assert_dp_accuracy_floor(dp_model, iris.X_train, iris.y_train, iris.X_test, iris.y_test,
                                     epsilon=1.0, at_least=0.5, statistic="median")


@pytest.mark.parametrize("epsilons, message", [
    ([0.0], r"epsilons must be positive, got 0.0"),
    ([1.0, -1.0], r"epsilons\[1\] must be positive, got -1.0"),
    ([], "epsilons is empty"),
    ([1.0, 1.0], "repeated"),
])
def test_bad_epsilons_are_refused(iris, epsilons, message):
    with pytest.raises(ValueError, match=message):
        run(iris, epsilons=epsilons)


def test_floor_refuses_epsilon_zero(iris):
    with pytest.raises(ValueError, match="epsilon must be positive, got 0"):
        mla.assert_dp_accuracy_floor(dp_model, iris.X_train, iris.y_train, iris.X_test, iris.y_test,
                                     epsilon=0, at_least=0.5)


def test_one_seed_is_refused(iris):
    with pytest.raises(ValueError, match="seeds must be at least 2"):
        run(iris, seeds=1)


def test_factory_that_ignores_the_seed_is_detected(iris):
    with pytest.raises(ValueError, match="factory ignores seed"):
        run(iris, factory=lambda epsilon, seed: dp_model(epsilon, 7))


def test_factory_that_ignores_epsilon_is_detected(iris):
    with pytest.raises(ValueError, match="factory ignores epsilon: asked for epsilon=0.01, .* has epsilon=1"):
        run(iris, factory=lambda epsilon, seed: dp_model(1.0, seed))


def test_factory_that_ignores_epsilon_behind_a_wrapper_is_detected_from_the_models(iris):
    class FixedNoise(DPLogisticRegression):
        """Declares the epsilon asked for but always trains at epsilon 1."""

        def fit(self, X, y, sample_weight=None):
            asked, self.epsilon = self.epsilon, 1.0
            try:
                return super().fit(X, y)
            finally:
                self.epsilon = asked

    with pytest.raises(ValueError, match="factory ignores epsilon: the models trained with seed="):
        run(iris, factory=lambda e, s: FixedNoise(epsilon=e, data_norm=2.0, max_iter=1000, random_state=s))


def test_factory_returning_the_same_estimator_twice_is_refused(iris):
    shared = dp_model(1.0, 0)
    with pytest.raises(ValueError, match="new estimator on each call"):
        run(iris, epsilons=[1.0], factory=lambda epsilon, seed: shared)


def test_non_private_estimator_passed_as_dp_is_refused(iris):
    with pytest.raises(TypeError, match="LogisticRegression, which has no epsilon parameter: it is not a "
                                        "differentially private estimator"):
        run(iris, factory=lambda epsilon, seed: LogisticRegression(random_state=seed))


def test_dp_estimator_passed_as_baseline_is_refused(iris):
    with pytest.raises(ValueError, match="baseline must be the non-private model"):
        run(iris, baseline=dp_model(1.0, 0))


def test_missing_data_norm_is_an_error_naming_the_argument(iris):
    factory = lambda epsilon, seed: DPLogisticRegression(epsilon=epsilon, random_state=seed)  # noqa: E731
    with pytest.raises(mla.PrivacyLeakError, match=r"computed data_norm from the private training data.*"
                                                   r"Set data_norm=\.\.\."):
        run(iris, factory=factory)


def test_missing_bounds_is_an_error_naming_the_argument(iris):
    factory = lambda epsilon, seed: DPGaussianNB(epsilon=epsilon, random_state=seed)  # noqa: E731
    with pytest.raises(mla.PrivacyLeakError, match=r"Set bounds=\.\.\."):
        run(iris, factory=factory)


def test_allowed_privacy_leak_is_recorded_as_a_failed_check(iris, mlaudit):
    factory = lambda epsilon, seed: DPLogisticRegression(epsilon=epsilon, random_state=seed)  # noqa: E731
    mlaudit.dp_utility(factory, iris.X_train, iris.y_train, iris.X_test, iris.y_test, epsilons=[1.0], seeds=3,
                       allow_privacy_leak=True)
    record = mlaudit.records[-1]
    leak = [c for c in record.checks if c.name == "no privacy leak"][0]
    assert not leak.passed and "3 models read a bound" in leak.detail
    assert record.suspect


def test_not_a_factory_is_refused(iris):
    with pytest.raises(TypeError, match="factory must be a callable"):
        run(iris, factory=dp_model(1.0, 0))
