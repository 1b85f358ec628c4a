"""What a record says of the data and the model matches what was audited: X's dtype, where resampling happened."""

import numpy as np
import pytest

import pytest_mlaudit as mla
from pytest_mlaudit import authoring


def records_of(run) -> list:
    seen = []
    original = authoring._deliver
    authoring._deliver = seen.append
    try:
        run()
    finally:
        authoring._deliver = original
    return seen


def test_a_fairness_audit_records_the_dtype_of_x_not_of_its_row_hashes():
    pytest.importorskip("fairlearn")
    from fairness_example import GROUP, PRED, Y, X, FixedPredictions

    record, = records_of(lambda: mla.fairness(FixedPredictions(PRED), X.astype(np.float32), Y,
                                              sensitive_features=GROUP, n_bootstrap=20))
    assert record.data["dtype"] == "float32"
    assert record.data["shape"] == [10, 1]


@pytest.fixture(scope="module")
def split():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=600) > 1.3).astype(int)
    return X[:400], y[:400], X[400:], y[400:]


def test_a_prefit_pipeline_is_explained_with_its_resampling_step(split):
    pytest.importorskip("imblearn")
    from imblearn.over_sampling import SMOTE
    from imblearn.pipeline import Pipeline
    from sklearn.linear_model import LogisticRegression

    X_train, y_train, X_test, y_test = split
    model = Pipeline([("smote", SMOTE(random_state=0)), ("model", LogisticRegression())]).fit(X_train, y_train)
    record, = records_of(lambda: mla.imbalance(model, X_test=X_test, y_test=y_test, prefit=True, n_resamples=20))
    assert record.params["prefit"] is True and record.params["resampler"] is None
    assert record.params["resampling"] == (
        "SMOTE (pipeline step 'smote'), applied when the model was fitted, to its training data only "
        "(imbalanced-learn pipelines resample in fit, never in predict)")


def test_a_prefit_model_without_a_sampler_says_none_was_found(split):
    pytest.importorskip("imblearn")
    from sklearn.linear_model import LogisticRegression

    X_train, y_train, X_test, y_test = split
    model = LogisticRegression().fit(X_train, y_train)
    record, = records_of(lambda: mla.imbalance(model, X_test=X_test, y_test=y_test, prefit=True, n_resamples=20))
    assert record.params["resampling"].startswith("none in the model (prefit")


def test_an_audit_that_fits_states_its_resampler(split):
    pytest.importorskip("imblearn")
    from imblearn.over_sampling import SMOTE
    from sklearn.linear_model import LogisticRegression

    record, = records_of(lambda: mla.imbalance(LogisticRegression(), *split, resampler=SMOTE(), n_resamples=20))
    assert record.params["resampling"] == "SMOTE, fitted by the audit on the training split only"
