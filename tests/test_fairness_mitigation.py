"""Mitigation by post-processing (fairlearn's ThresholdOptimizer) against the unmitigated model."""

import numpy as np
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


def test_mitigation_costs_between_0_and_5_points_of_accuracy(comparison):
    change = comparison.accuracy_change
    assert change.high < 0
    assert change.low > -0.05


def test_the_accuracy_change_pairs_the_two_models_answers_on_the_same_test_rows(hiring, comparison):
    """The 2x2 table (both right, only mitigated right, only unmitigated right, neither) over the 6,000 test rows."""
    test = hiring.test
    unmitigated_right = int(np.count_nonzero(hiring_model(hiring.train).predict(test.X) == np.asarray(test.y)))
    both, only_mitigated, only_unmitigated, neither = comparison.accuracy_change.counts
    assert both + only_mitigated + only_unmitigated + neither == len(test.y) == 6000
    assert both + only_unmitigated == unmitigated_right
    assert (both + only_mitigated) / 6000 == comparison.mitigated.accuracy.value
    assert comparison.accuracy_change.value == pytest.approx((only_mitigated - only_unmitigated) / 6000, abs=1e-15)
    assert only_mitigated > 0 and only_unmitigated > only_mitigated  # the models disagree both ways, mostly at a cost


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
