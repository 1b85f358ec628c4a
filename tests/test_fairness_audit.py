"""The group-fairness audit: per-group rates, disparities, intervals, gates and records."""

import numpy as np
import pytest
from extras import need

need("fairlearn")

from fairlearn import metrics as fm
from fairness_example import GROUP, PRED, X, Y, FixedPredictions
from outside_pytest import as_a_script
from sklearn.metrics import precision_score, recall_score

import pytest_mlaudit as mla
from pytest_mlaudit.fairness.metrics import _resample_counts
from reference_models.fairness_data import hiring_model, hiring_split


@pytest.fixture(scope="module")
def hiring():
    return hiring_split(seed=0, n_train=2000, n_test=4000)


@pytest.fixture(scope="module")
def hiring_lr(hiring):
    return hiring_model(hiring.train)


def test_group_rates_are_the_hand_counted_ones():
    result = mla.fairness(FixedPredictions(PRED), X, Y, sensitive_features=GROUP)
    a, b = result.groups
    assert (a.group, a.size, b.group, b.size) == ("A", 6, "B", 4)
    assert a.selection_rate.value == 0.5 and b.selection_rate.value == 0.25
    assert a.recall.value == pytest.approx(2 / 3) and b.recall.value == 0.5
    assert a.false_positive_rate.value == pytest.approx(1 / 3) and b.false_positive_rate.value == 0.0
    assert a.precision.value == pytest.approx(2 / 3) and b.precision.value == 1.0
    assert (a.recall.n, a.false_positive_rate.n, a.precision.n) == (3, 3, 3)


def test_group_rates_carry_wilson_intervals():
    a = mla.fairness(FixedPredictions(PRED), X, Y, sensitive_features=GROUP).groups[0]
    # Wilson 95% for 3/6: centre 0.5, half-width 1.96 * sqrt(0.25/6 + 1.96^2/144) / (1 + 1.96^2/6)
    assert a.selection_rate.method == "wilson"
    assert (a.selection_rate.low, a.selection_rate.high) == (pytest.approx(0.18761, abs=1e-4), pytest.approx(0.81239, abs=1e-4))


def test_disparities_are_the_hand_computed_ones():
    result = mla.fairness(FixedPredictions(PRED), X, Y, sensitive_features=GROUP)
    assert result.demographic_parity_difference.value == pytest.approx(0.25)
    assert result.demographic_parity_ratio.value == pytest.approx(0.5)
    assert result.disparate_impact_ratio == result.demographic_parity_ratio
    assert result.equal_opportunity_difference.value == pytest.approx(1 / 6)
    assert result.equalized_odds_difference.value == pytest.approx(1 / 3)  # the FPR range beats the TPR range
    assert not result.meets_four_fifths_rule
    assert result.accuracy.value == pytest.approx(0.7)


def test_disparities_agree_with_fairlearn_functions_on_intersections(hiring, hiring_lr):
    test = hiring.test
    result = mla.fairness(hiring_lr, test.X, test.y, sensitive_features=test.sensitive, n_bootstrap=200)
    predicted = hiring_lr.predict(test.X)
    for features, part in [(["group", "age_band"], result.intersection), (["group"], result.by_feature[0]),
                           (["age_band"], result.by_feature[1])]:
        groups = test.sensitive[features]
        assert part.features == tuple(features)
        expected = {
            "demographic_parity_difference": fm.demographic_parity_difference(test.y, predicted, sensitive_features=groups),
            "demographic_parity_ratio": fm.demographic_parity_ratio(test.y, predicted, sensitive_features=groups),
            "equalized_odds_difference": fm.equalized_odds_difference(test.y, predicted, sensitive_features=groups),
            "equal_opportunity_difference": fm.equal_opportunity_difference(test.y, predicted, sensitive_features=groups),
        }
        for name, value in expected.items():
            assert getattr(part, name).value == pytest.approx(value, abs=1e-12), (features, name)


def test_group_rates_agree_with_scikit_learn_on_each_intersection(hiring, hiring_lr):
    test = hiring.test
    result = mla.fairness(hiring_lr, test.X, test.y, sensitive_features=test.sensitive, n_bootstrap=50)
    predicted = hiring_lr.predict(test.X)
    for group in result.groups:
        mask = np.ones(len(test.y), dtype=bool)
        for pair in group.group.split(", "):
            column, value = pair.split("=")
            mask &= (test.sensitive[column] == value).to_numpy()
        assert group.size == mask.sum()
        assert group.selection_rate.value == pytest.approx(predicted[mask].mean())
        assert group.recall.value == pytest.approx(recall_score(test.y[mask], predicted[mask]))
        assert group.precision.value == pytest.approx(precision_score(test.y[mask], predicted[mask]))


def test_intersections_are_every_combination_of_the_features(hiring, hiring_lr):
    test = hiring.test
    result = mla.fairness(hiring_lr, test.X, test.y, sensitive_features=test.sensitive, n_bootstrap=50)
    assert [g.group for g in result.groups] == [
        "group=A, age_band=40+", "group=A, age_band=under 40", "group=B, age_band=40+", "group=B, age_band=under 40",
    ]
    assert sum(g.size for g in result.groups) == len(test.y)
    assert [[g.group for g in part.groups] for part in result.by_feature] == [["A", "B"], ["40+", "under 40"]]


def test_the_audit_finds_the_documented_disparity_of_the_hiring_population(hiring, hiring_lr):
    test = hiring.test
    result = mla.fairness(hiring_lr, test.X, test.y, sensitive_features=test.sensitive["group"], n_bootstrap=200)
    assert 0.35 <= result.demographic_parity_ratio.value <= 0.55
    assert result.demographic_parity_ratio.high < 0.8
    assert 0.10 <= result.demographic_parity_difference.value <= 0.20


def test_string_labels_give_the_same_numbers_as_zero_one_labels():
    words = np.array(["rejected", "hired"])
    as_words = mla.fairness(FixedPredictions(words[PRED]), X, words[Y], sensitive_features=GROUP, positive_label="hired")
    as_numbers = mla.fairness(FixedPredictions(PRED), X, Y, sensitive_features=GROUP)
    assert [g.recall.value for g in as_words.groups] == [g.recall.value for g in as_numbers.groups]
    assert as_words.equalized_odds_difference.value == as_numbers.equalized_odds_difference.value


def test_positive_label_zero_swaps_the_favourable_outcome():
    result = mla.fairness(FixedPredictions(PRED), X, Y, sensitive_features=GROUP, positive_label=0)
    a, b = result.groups
    assert a.selection_rate.value == 0.5 and b.selection_rate.value == 0.75
    assert result.demographic_parity_ratio.value == pytest.approx(0.5 / 0.75)


def _run_with_seed(seed, model, data, sensitive_features, n_bootstrap=300):
    """One audit as a script runs it under ``mla.settings(seed=seed)``."""
    return as_a_script(lambda: mla.fairness(model, data.X, data.y, sensitive_features=sensitive_features,
                                            n_bootstrap=n_bootstrap), seed=seed)


def test_bootstrap_intervals_are_reproducible_with_a_fixed_seed(hiring, hiring_lr):
    first, again, other = (_run_with_seed(seed, hiring_lr, hiring.test, hiring.test.sensitive) for seed in (7, 7, 8))
    assert first.equalized_odds_difference == again.equalized_odds_difference
    assert first.by_feature[0].demographic_parity_ratio == again.by_feature[0].demographic_parity_ratio
    assert first.equalized_odds_difference.value == other.equalized_odds_difference.value
    assert (first.equalized_odds_difference.low, first.equalized_odds_difference.high) != (
        other.equalized_odds_difference.low, other.equalized_odds_difference.high)


def test_bootstrap_resamples_each_group_to_its_own_size():
    counts = np.array([[2, 1, 1, 2], [1, 0, 1, 2]])  # tp, fp, fn, tn of groups A and B
    draws = _resample_counts(counts, 500, np.random.default_rng(0))
    assert draws.shape == (500, 2, 4)
    assert (draws.sum(axis=2) == [6, 4]).all()
    assert (draws[:, 1, 1] == 0).all()  # B has no false positive to resample
    assert draws[:, 0, 0].mean() == pytest.approx(2.0, abs=0.15)


def test_disparity_intervals_are_bootstrap_intervals_around_the_value(hiring, hiring_lr):
    test = hiring.test
    result = mla.fairness(hiring_lr, test.X, test.y, sensitive_features=test.sensitive["group"], n_bootstrap=400)
    ratio = result.demographic_parity_ratio
    assert ratio.method == "bootstrap-percentile, stratified by group" and ratio.n == len(test.y)
    assert ratio.low < ratio.value < ratio.high and ratio.high - ratio.low < 0.2


def test_record_carries_per_group_bars_tables_and_metrics(mlaudit, hiring, hiring_lr):
    test = hiring.test
    mlaudit.fairness(hiring_lr, test.X, test.y, sensitive_features=test.sensitive, n_bootstrap=100)
    record = mlaudit.records[-1]
    assert record.category == "fairness" and record.outcome == "passed" and not record.suspect
    assert set(record.metrics) >= {"accuracy", "demographic_parity_difference", "demographic_parity_ratio",
                                   "equalized_odds_difference", "equal_opportunity_difference",
                                   "demographic_parity_ratio[group]", "equalized_odds_difference[age_band]"}
    assert [chart["metric"] for chart in record.extras["bars"]] == ["selection_rate", "recall", "false_positive_rate",
                                                                    "precision"]
    assert [bar["label"] for bar in record.extras["bars"][0]["bars"]][0] == "group=A, age_band=40+"
    table = record.extras["tables"][0]
    assert table["columns"][:4] == ["group", "n", "selection rate", "CI"] and len(table["rows"]) == 4
    assert record.params["sensitive_features"] == ["group", "age_band"] and record.params["n_bootstrap"] == 100
    assert record.model["name"] == "LogisticRegression"


def test_disparate_impact_gate_defaults_to_the_four_fifths_rule_and_fails_on_hiring(mlaudit, hiring, hiring_lr):
    test = hiring.test
    with pytest.raises(AssertionError, match="demographic_parity_ratio = 0.4.* misses at_least=0.8"):
        mlaudit.assert_disparate_impact(hiring_lr, test.X, test.y, sensitive_features=test.sensitive["group"],
                                        n_bootstrap=100)
    gate = mlaudit.records[-1].gates[0]
    assert (gate.metric, gate.op, gate.threshold, gate.passed) == ("demographic_parity_ratio", ">=", 0.8, False)


def test_policy_lower_judges_a_difference_by_its_upper_bound():
    model = FixedPredictions(PRED)
    result = mla.fairness(model, X, Y, sensitive_features=GROUP, n_bootstrap=200)
    between = (result.demographic_parity_difference.value + result.demographic_parity_difference.high) / 2
    mla.assert_demographic_parity(model, X, Y, sensitive_features=GROUP, at_most=between, policy="estimate")
    with pytest.raises(AssertionError, match="under policy 'lower'"):
        mla.assert_demographic_parity(model, X, Y, sensitive_features=GROUP, at_most=between, policy="lower")


def test_equalized_odds_gate_passes_when_the_odds_are_close(mlaudit, hiring, hiring_lr):
    test = hiring.test
    result = mlaudit.assert_equalized_odds(hiring_lr, test.X, test.y, sensitive_features=test.sensitive["group"],
                                           at_most=0.15, n_bootstrap=100)
    assert result.equalized_odds_difference.value < 0.15
    assert mlaudit.records[-1].gates[0].passed


def test_a_threshold_optimizer_gets_the_sensitive_features_and_a_seeded_random_state(hiring, hiring_lr):
    from fairlearn.postprocessing import ThresholdOptimizer

    train, test = hiring.train, hiring.test
    mitigator = ThresholdOptimizer(estimator=hiring_lr, prefit=True, predict_method="predict_proba")
    mitigator.fit(train.X, train.y, sensitive_features=train.sensitive["group"])
    first, again, other = (_run_with_seed(seed, mitigator, test, test.sensitive["group"], 50) for seed in (1, 1, 2))
    assert first.demographic_parity_ratio.value == again.demographic_parity_ratio.value
    assert first.demographic_parity_ratio.value != other.demographic_parity_ratio.value  # it randomizes
    assert first.demographic_parity_ratio.value > 0.8


def test_groups_too_small_for_the_bootstrap_mark_the_audit_suspect(mlaudit):
    mlaudit.fairness(FixedPredictions(PRED), X, Y, sensitive_features=GROUP, n_bootstrap=200)
    record = mlaudit.records[-1]
    failed = [check for check in record.checks if not check.passed]
    assert record.suspect and [check.name for check in failed] == ["bootstrap replicates defined (sensitive_feature)"]
    assert "of 200" in failed[0].detail
