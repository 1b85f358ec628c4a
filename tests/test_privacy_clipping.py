"""The DP utility audits flag a data_norm or bounds that clips more than 10% of the training rows."""

import numpy as np
import pytest
from extras import need

need("diffprivlib")


pytestmark = pytest.mark.filterwarnings("ignore:scipy.optimize.*L-BFGS-B:DeprecationWarning")


@pytest.fixture(scope="module")
def iris():
    from reference_models.iris_privacy import load_iris_setosa

    return load_iris_setosa()


def dp_logistic_regression(data_norm):
    from diffprivlib.models import LogisticRegression

    return lambda epsilon, seed: LogisticRegression(epsilon=epsilon, data_norm=data_norm, max_iter=1000,
                                                    random_state=seed)


def test_old_readme_data_norm_on_iris_makes_the_audit_suspect(iris, mlaudit):
    mlaudit.dp_utility(dp_logistic_regression(2.0), iris.X_train, iris.y_train, iris.X_test, iris.y_test,
                       epsilons=[10.0], seeds=2)
    record = mlaudit.records[-1]
    check = {c.name: c for c in record.checks}["data_norm clips few training rows"]
    assert not check.passed
    assert record.suspect
    assert check.detail.startswith("data_norm=2 clips 46.7% of the training rows")


def test_data_norm_from_the_public_feature_ranges_passes(iris, mlaudit):
    """Standardized Iris features lie within about 4 standard deviations: norm at most 4 * sqrt(4) = 8."""
    mlaudit.dp_utility(dp_logistic_regression(8.0), iris.X_train, iris.y_train, iris.X_test, iris.y_test,
                       epsilons=[10.0], seeds=2)
    check = {c.name: c for c in mlaudit.records[-1].checks}["data_norm clips few training rows"]
    assert check.passed
    assert "clips 0.0% of the training rows" in check.detail


def test_bounds_that_clip_most_rows_make_the_audit_suspect(iris, mlaudit):
    from diffprivlib.models import GaussianNB

    def factory(epsilon, seed):
        return GaussianNB(epsilon=epsilon, bounds=(-0.5, 0.5), random_state=seed)

    mlaudit.dp_utility(factory, iris.X_train, iris.y_train, iris.X_test, iris.y_test, epsilons=[10.0], seeds=2)
    record = mlaudit.records[-1]
    check = {c.name: c for c in record.checks}["bounds clip few training rows"]
    assert not check.passed
    share = np.mean(((iris.X_train < -0.5) | (iris.X_train > 0.5)).any(axis=1))
    assert check.detail.startswith(f"bounds clip {share:.1%} of the training rows")
    assert record.params["bounds_clipping"]["rows_clipped"] == pytest.approx(share, abs=1e-4)
