"""Mitigation by post-processing (fairlearn's ThresholdOptimizer) against the unmitigated model."""

import pytest
from extras import need

need("fairlearn")

from sklearn.linear_model import LogisticRegression

import pytest_mlaudit as mla
from reference_models.fairness_data import hiring_model, hiring_split


@pytest.fixture(scope="module")
def hiring():
    return hiring_split(seed=0, n_train=3000, n_test=6000)


@pytest.fixture(scope="module")
def comparison(hiring):
    train, test = hiring.train, hiring.test
    return mla.compare_mitigation(hiring_model(train), train.X, train.y, test.X, test.y,
                                  sensitive_features_train=train.sensitive["group"],
                                  sensitive_features_test=test.sensitive["group"], prefit=True, n_bootstrap=300)


def test_mitigation_brings_the_hiring_model_within_the_four_fifths_rule(comparison):
    assert comparison.unmitigated.demographic_parity_ratio.value < 0.55
    assert comparison.mitigated.demographic_parity_ratio.value > 0.85
    assert not comparison.unmitigated.meets_four_fifths_rule and comparison.mitigated.meets_four_fifths_rule


def test_mitigation_shrinks_the_demographic_parity_difference(comparison):
    before = comparison.unmitigated.demographic_parity_difference
    after = comparison.mitigated.demographic_parity_difference
    assert before.value > 0.1 and after.value < 0.03
    assert after.high < before.low


def test_mitigation_costs_accuracy_and_says_how_much(comparison):
    change = comparison.accuracy_change
    expected = comparison.mitigated.accuracy.value - comparison.unmitigated.accuracy.value
    assert change.value == pytest.approx(expected)
    assert -0.05 < change.low <= change.value <= change.high < 0
    assert change.method == "newcombe-paired"


def test_refitting_gives_the_same_comparison_as_a_prefitted_model(hiring, comparison):
    train, test = hiring.train, hiring.test
    refitted = mla.compare_mitigation(LogisticRegression(), train.X, train.y, test.X, test.y,
                                      sensitive_features_train=train.sensitive["group"],
                                      sensitive_features_test=test.sensitive["group"], n_bootstrap=300)
    assert refitted.unmitigated.demographic_parity_ratio.value == comparison.unmitigated.demographic_parity_ratio.value
    assert refitted.unmitigated.accuracy == comparison.unmitigated.accuracy


def test_equalized_odds_constraint_targets_the_error_rates(hiring):
    train, test = hiring.train, hiring.test
    result = mla.compare_mitigation(hiring_model(train), train.X, train.y, test.X, test.y,
                                    sensitive_features_train=train.sensitive["group"],
                                    sensitive_features_test=test.sensitive["group"], prefit=True,
                                    constraints="equalized_odds", n_bootstrap=100)
    assert result.constraints == "equalized_odds"
    assert result.mitigated.equalized_odds_difference.value < 0.1


def test_comparison_record_puts_both_models_and_accuracy_side_by_side(mlaudit, hiring):
    train, test = hiring.train, hiring.test
    mlaudit.compare_mitigation(hiring_model(train), train.X, train.y, test.X, test.y,
                               sensitive_features_train=train.sensitive, sensitive_features_test=test.sensitive,
                               prefit=True, n_bootstrap=100)
    record = mlaudit.records[-1]
    assert record.name == "mitigation by ThresholdOptimizer (demographic_parity)"
    assert {"unmitigated/accuracy", "mitigated/accuracy", "accuracy_change", "unmitigated/demographic_parity_ratio",
            "mitigated/demographic_parity_ratio", "mitigated/demographic_parity_ratio[group]"} <= set(record.metrics)
    assert record.params["mitigator"] == "fairlearn.postprocessing.ThresholdOptimizer" and record.params["prefit"]
    comparison_table = record.extras["tables"][0]
    assert comparison_table["columns"] == ["metric", "groups", "value (unmitigated)", "CI (unmitigated)",
                                           "value (mitigated)", "CI (mitigated)"]
    assert [row[0] for row in comparison_table["rows"]][-2:] == ["accuracy", "four-fifths rule met"]
    labels = [bar["label"] for bar in record.extras["bars"][0]["bars"]]
    assert labels[:2] == ["group=A, age_band=40+ (unmitigated)", "group=A, age_band=40+ (mitigated)"]
    assert record.extras["bars"][-1]["title"] == "disparities with and without mitigation"
