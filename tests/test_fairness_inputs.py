"""Bad input to the fairness audits: one clear error each, naming the argument."""

import numpy as np
import pytest
from extras import need

need("fairlearn")

import pandas as pd
from fairness_example import GROUP, PRED, X, Y, FixedPredictions
from sklearn.linear_model import LogisticRegression

import pytest_mlaudit as mla

MODEL = FixedPredictions(PRED)


def test_sensitive_features_of_the_wrong_length():
    with pytest.raises(ValueError, match="sensitive_features has 9 rows but X has 10 samples"):
        mla.fairness(MODEL, X, Y, sensitive_features=GROUP[:9])


def test_sensitive_features_with_nan():
    groups = np.array([0.0] * 5 + [1.0] * 4 + [np.nan])
    with pytest.raises(ValueError, match="column 'sensitive_feature' has 1 missing values"):
        mla.fairness(MODEL, X, Y, sensitive_features=groups)


def test_sensitive_features_with_none_in_a_dataframe_column():
    frame = pd.DataFrame({"sex": list(GROUP[:9]) + [None]})
    with pytest.raises(ValueError, match="column 'sex' has 1 missing values"):
        mla.fairness(MODEL, X, Y, sensitive_features=frame)


def test_a_single_group():
    with pytest.raises(ValueError, match="column 'race' has a single group \\('White'\\)"):
        mla.fairness(MODEL, X, Y, sensitive_features={"race": ["White"] * 10})


def test_sensitive_features_as_a_string():
    with pytest.raises(TypeError, match="sensitive_features must be an array"):
        mla.fairness(MODEL, X, Y, sensitive_features="sex")


def test_string_labels_without_positive_label():
    words = np.array(["<=50K", ">50K"])
    with pytest.raises(ValueError, match="y holds string labels \\['<=50K', '>50K'\\]: give positive_label="):
        mla.fairness(FixedPredictions(words[PRED]), X, words[Y], sensitive_features=GROUP)


def test_a_positive_label_that_y_does_not_hold():
    with pytest.raises(ValueError, match="y has no sample of positive_label=2 \\(its classes: \\[0, 1\\]\\)"):
        mla.fairness(MODEL, X, Y, sensitive_features=GROUP, positive_label=2)


def test_labels_of_one_class():
    with pytest.raises(ValueError, match="y holds only class 1 \\(positive_label\\)"):
        mla.fairness(MODEL, X, np.ones(10, dtype=int), sensitive_features=GROUP)


def test_labels_of_three_classes():
    with pytest.raises(ValueError, match="y must hold two classes, got 3"):
        mla.fairness(MODEL, X, np.arange(10) % 3, sensitive_features=GROUP)


def test_labels_with_nan():
    with pytest.raises(ValueError, match="y contains 1 NaN or missing labels"):
        mla.fairness(MODEL, X, np.r_[Y[:9], np.nan].astype(float), sensitive_features=GROUP)


def test_labels_of_the_wrong_length():
    with pytest.raises(ValueError, match="y has 9 labels but X has 10 samples"):
        mla.fairness(MODEL, X, Y[:9], sensitive_features=GROUP)


def test_a_group_without_a_positive_sample():
    groups = np.array(["A"] * 6 + ["C"] * 2 + ["B"] * 2)  # B: rows 8 and 9, both negative
    with pytest.raises(ValueError, match="group 'B' has no sample with y == positive_label \\(1\\)"):
        mla.fairness(MODEL, X, Y, sensitive_features=groups)


def test_a_model_without_predict():
    with pytest.raises(TypeError, match="model must be a fitted classifier with a predict method"):
        mla.fairness(object(), X, Y, sensitive_features=GROUP)


def test_an_unfitted_model():
    with pytest.raises(ValueError, match="model.predict\\(X\\) failed: NotFittedError"):
        mla.fairness(LogisticRegression(), X, Y, sensitive_features=GROUP)


def test_a_model_predicting_labels_that_y_does_not_hold():
    with pytest.raises(ValueError, match="model predicts labels \\['no', 'yes'\\] that are not among y's classes"):
        mla.fairness(FixedPredictions(np.array(["no", "yes"])[PRED]), X, Y, sensitive_features=GROUP)


def test_a_model_selecting_nobody():
    with pytest.raises(ValueError, match="the model selects no sample"):
        mla.fairness(FixedPredictions(np.zeros(10, dtype=int)), X, Y, sensitive_features=GROUP)


def test_a_threshold_outside_zero_one():
    with pytest.raises(ValueError, match="at_most=1.5 is outside the metric's range \\[0.0, 1.0\\]"):
        mla.assert_demographic_parity(MODEL, X, Y, sensitive_features=GROUP, at_most=1.5)


def test_two_thresholds():
    with pytest.raises(TypeError, match="give exactly one threshold"):
        mla.assert_disparate_impact(MODEL, X, Y, sensitive_features=GROUP, at_least=0.8, at_most=0.9)


def test_a_bad_bootstrap_count():
    with pytest.raises(ValueError, match="n_bootstrap must be a positive integer, got 0"):
        mla.fairness(MODEL, X, Y, sensitive_features=GROUP, n_bootstrap=0)


def test_mitigation_with_an_unknown_constraint():
    with pytest.raises(ValueError, match="constraints must be one of demographic_parity, equalized_odds"):
        mla.compare_mitigation(LogisticRegression(), X, Y, X, Y, sensitive_features_train=GROUP,
                               sensitive_features_test=GROUP, constraints="parity")


def test_mitigation_with_different_sensitive_columns_in_train_and_test():
    with pytest.raises(ValueError, match="sensitive_features_train has columns \\['sex'\\] but sensitive_features_test has \\['race'\\]"):
        mla.compare_mitigation(LogisticRegression(), X, Y, X, Y, sensitive_features_train={"sex": GROUP},
                               sensitive_features_test={"race": GROUP})


def test_mitigation_of_a_prefitted_model_whose_second_class_is_not_the_positive_label():
    words = np.array(["bad", "good"])
    model = LogisticRegression().fit(X, words[Y])
    with pytest.raises(ValueError, match="prefit=True needs the positive label as the model's second class"):
        mla.compare_mitigation(model, X, words[Y], X, words[Y], sensitive_features_train=GROUP,
                               sensitive_features_test=GROUP, prefit=True, positive_label="bad")


def test_mitigation_of_an_unfitted_model_declared_prefit():
    with pytest.raises(ValueError, match=r"model \(LogisticRegression\) is not fitted: prefit=True takes it as fitted"):
        mla.compare_mitigation(LogisticRegression(), X, Y, X, Y, sensitive_features_train=GROUP,
                               sensitive_features_test=GROUP, prefit=True)
