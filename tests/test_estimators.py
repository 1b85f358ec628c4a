"""estimators.require_fitted: one refusal of unfitted models for every audit family."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from pytest_mlaudit.estimators import require_fitted


def test_the_same_model_is_refused_before_fitting_and_passes_after():
    model = LogisticRegression()
    with pytest.raises(ValueError, match="is not fitted"):
        require_fitted(model, "fit it")
    model.fit(np.eye(2), [0, 1])
    assert require_fitted(model, "fit it") is None


def test_an_unfitted_model_is_refused_naming_the_argument_and_the_remedy():
    with pytest.raises(ValueError, match=r"^baseline \(LogisticRegression\) is not fitted: fit it first$"):
        require_fitted(LogisticRegression(), "fit it first", name="baseline")


def test_an_object_that_is_no_estimator_is_refused_with_a_type_error_naming_the_argument():
    with pytest.raises(TypeError, match="model must be a scikit-learn compatible estimator: .* is not an estimator"):
        require_fitted(object(), "fit it first")
