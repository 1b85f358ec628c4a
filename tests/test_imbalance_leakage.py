"""Leakage guards: a test split that was resampled is refused, a clean split is accepted."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import pytest_mlaudit as mla
from pytest_mlaudit.imbalance import leakage


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=1000, n_features=5, n_informative=3, weights=[0.95], flip_y=0, random_state=1)


def split(X, y, seed=0):
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)


def test_a_clean_stratified_split_passes_every_guard(data):
    X_train, X_test, y_train, y_test = split(*data)
    checks = leakage.split_checks(X_train, y_train == 1, X_test, y_test == 1)
    assert [c.passed for c in checks] == [True] * 4
    assert not mla.imbalance(LogisticRegression(), X_train, y_train, X_test, y_test, n_resamples=100).suspect


def test_rows_shared_between_train_and_test_are_refused(data):
    X_train, X_test, y_train, y_test = split(*data)
    X_test, y_test = np.vstack([X_test, X_train[:3]]), np.r_[y_test, y_train[:3]]
    with pytest.raises(mla.LeakageError, match="3 of 303 test rows also occur in the training split"):
        mla.imbalance(LogisticRegression(), X_train, y_train, X_test, y_test)


def test_smote_before_the_split_is_refused_as_interpolated_minority_rows(data):
    from imblearn.over_sampling import SMOTE

    X, y = SMOTE(random_state=0).fit_resample(*data)
    X_train, X_test, y_train, y_test = split(X, y)
    check = leakage.synthetic_minority_rows(X_test[y_test == 1], X_train[y_train == 1])
    assert not check.passed and "lie on a segment between two other minority rows" in check.detail
    with pytest.raises(mla.LeakageError, match="interpolated"):
        mla.imbalance(LogisticRegression(), X_train, y_train, X_test, y_test)


def test_a_row_between_two_neighbouring_minority_rows_is_flagged_and_genuine_rows_are_not():
    """SMOTE interpolates between a row and one of its nearest minority neighbours, as here."""
    rng = np.random.default_rng(0)
    minority = rng.normal(size=(40, 8))
    assert leakage.synthetic_minority_rows(minority[:10], minority[10:]).passed
    neighbour = 11 + np.argmin(np.linalg.norm(minority[11:] - minority[10], axis=1))
    synthetic = minority[10] + 0.3 * (minority[neighbour] - minority[10])
    assert not leakage.synthetic_minority_rows(np.vstack([minority[:10], synthetic]), minority[10:]).passed


def test_random_over_sampling_before_the_split_is_refused_as_duplicates(data):
    from imblearn.over_sampling import RandomOverSampler

    X, y = RandomOverSampler(random_state=0).fit_resample(*data)
    X_train, X_test, y_train, y_test = split(X, y)
    assert not leakage.duplicated_minority_rows(X_test, y_test == 1).passed
    with pytest.raises(mla.LeakageError, match="exact duplicates"):
        mla.imbalance(LogisticRegression(), X_train, y_train, X_test, y_test)


def test_a_test_split_rebalanced_by_under_sampling_is_refused_for_its_class_ratio(data):
    from imblearn.under_sampling import RandomUnderSampler

    X_train, X_test, y_train, y_test = split(*data)
    X_test, y_test = RandomUnderSampler(random_state=0).fit_resample(X_test, y_test)
    with pytest.raises(mla.LeakageError, match=r"test positive rate 50.0000% .* far richer in positives"):
        mla.imbalance(LogisticRegression(), X_train, y_train, X_test, y_test)


def test_a_small_ratio_difference_is_not_far():
    assert leakage.class_ratio(14, 700, 9, 300).passed  # 2.0% against 3.0%: p = 0.1
    assert not leakage.class_ratio(14, 700, 30, 300).passed  # 2.0% against 10%: p < 1e-6


def test_a_training_split_resampled_beforehand_is_recorded_not_refused(data):
    from imblearn.under_sampling import RandomUnderSampler

    X_train, X_test, y_train, y_test = split(*data)
    X_train, y_train = RandomUnderSampler(random_state=0).fit_resample(X_train, y_train)
    result = mla.imbalance(LogisticRegression(), X_train, y_train, X_test, y_test, n_resamples=100)
    failed = [c for c in result.checks if not c.passed]
    assert [c.name for c in failed] == ["training class ratio"] and result.suspect


def test_record_mode_audits_a_leaky_split_and_marks_it_suspect(mlaudit, data):
    X_train, X_test, y_train, y_test = split(*data)
    X_test, y_test = np.vstack([X_test, X_train[:3]]), np.r_[y_test, y_train[:3]]
    result = mlaudit.imbalance(LogisticRegression(), X_train, y_train, X_test, y_test, leakage_guard="record",
                               n_resamples=100)
    assert result.suspect and mlaudit.records[0].suspect and mlaudit.records[0].outcome == "passed"


def test_a_prefitted_model_alone_still_gets_the_test_split_guards(data):
    from imblearn.over_sampling import RandomOverSampler

    X_train, X_test, y_train, y_test = split(*data)
    model = LogisticRegression().fit(X_train, y_train)
    X_test, y_test = RandomOverSampler(random_state=0).fit_resample(X_test, y_test)
    with pytest.raises(mla.LeakageError, match="exact duplicates"):
        mla.imbalance(model, X_test=X_test, y_test=y_test, prefit=True)
