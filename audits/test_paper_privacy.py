"""The privacy experiment of "Robust and Fair AI": (DP) logistic regression on Iris.

The paper's models and split are in ``reference_models.iris_privacy``, which also
explains why the paper's DP accuracies (42% at epsilon 10, 84% at epsilon 60) are not
reproduced by diffprivlib 0.6.6 (about 100% at both): its PR #98 corrected the noise
scaling of LogisticRegression. The curve therefore extends down to epsilon 0.01,
where accuracy really falls. Every DP figure is over 20 seeds derived from
``--mlaudit-seed``.

Measured (seed 0): mean accuracy 1.00 at epsilon 10 and 60, 0.99 at 3 (p05 0.91), about 0.5-0.7
at 1 and below (at epsilon 1 diffprivlib's unregularized intercept diverges in some
runs, which then predict one class: the curve is not monotone there). Membership
inference finds no signal on Iris for either model (AUC about 0.5): setosa is
linearly separable, so the non-private model does not overfit individual rows.
"""

import pytest

pytest.importorskip("diffprivlib", reason='the privacy study trains diffprivlib models: pip install "pytest-mlaudit[privacy]"')

from reference_models import iris_privacy as paper

pytestmark = [
    pytest.mark.mlaudit(requirement="EU-AI-Act-Art10"),
    # diffprivlib 0.6.6 passes L-BFGS-B options that scipy deprecates: not ours to fix
    pytest.mark.filterwarnings("ignore:scipy.optimize.*L-BFGS-B:DeprecationWarning"),
]

FLOOR_NOTES = {
    10.0: "diffprivlib 0.6.6 (PR #98) corrected LogisticRegression's noise scaling (before, it added more noise than "
          "epsilon required); the paper's 42% is the setosa share of the 45 test samples: one class predicted for all",
    60.0: "diffprivlib 0.6.6 (PR #98) corrected LogisticRegression's noise scaling (before, it added more noise than "
          "epsilon required); the paper's run predates it",
}


@pytest.fixture(scope="module")
def iris():
    return paper.load_iris_setosa()


@pytest.fixture(scope="module")
def trained_pair(iris, mlaudit_settings):
    """The non-private model and the DP model at the paper's epsilon 10, each fitted once."""
    from reference_models.seeds import derived_seed

    seed = derived_seed(mlaudit_settings.seed, "iris dp model")
    return {
        "non-private": paper.nonprivate_model().fit(iris.X_train, iris.y_train),
        "DP epsilon=10": paper.dp_model(10.0, seed).fit(iris.X_train, iris.y_train),
        "DP epsilon=1": paper.dp_model(1.0, seed).fit(iris.X_train, iris.y_train),
    }


@pytest.mark.parametrize("epsilon", paper.PAPER_EPSILONS)
def test_dp_logistic_regression_keeps_accuracy_at_paper_epsilon(mlaudit, iris, epsilon):
    result = mlaudit.assert_dp_accuracy_floor(paper.dp_model, iris.X_train, iris.y_train, iris.X_test, iris.y_test,
                                              epsilon=epsilon, at_least=0.95, seeds=20,
                                              baseline=paper.nonprivate_model())
    mlaudit.published(f"accuracy_mean@eps={epsilon:g}", paper.PUBLISHED_ACCURACY[epsilon], paper.SOURCE,
                      note=FLOOR_NOTES[epsilon])
    mlaudit.published("baseline_accuracy", paper.PUBLISHED_ACCURACY["non-private"], paper.SOURCE,
                      note="non-private LogisticRegression(max_iter=1000), same split")
    assert result.baseline_accuracy.value == 1.0


def test_dp_logistic_regression_p05_floor_at_epsilon_3(mlaudit, iris):
    """95% of DP trainings at epsilon 3 stay above 0.8, with 95% confidence.

    The gate is on the lower end of the p05's distribution-free interval, which needs
    at least 72 trainings to exist (with 20, the lower end is 0 and the point p05
    would claim more than the runs show). With 80 seeds the lower end is the worst
    run. Measured (seed 0): p05 0.910 [0.867, 0.956].
    """
    mlaudit.assert_dp_accuracy_floor(paper.dp_model, iris.X_train, iris.y_train, iris.X_test, iris.y_test,
                                     epsilon=3.0, at_least=0.80, seeds=80, statistic="p05", policy="lower")


def test_privacy_utility_curve_falls_at_small_epsilon(mlaudit, iris):
    result = mlaudit.dp_utility(paper.dp_model, iris.X_train, iris.y_train, iris.X_test, iris.y_test,
                                epsilons=paper.CURVE_EPSILONS, seeds=20, baseline=paper.nonprivate_model())
    clipping = mlaudit.records[-1].params["data_norm_clipping"]
    assert clipping["max_row_norm"] > paper.DATA_NORM  # data_norm=2.0 clips, see reference_models.iris_privacy
    assert result.at(0.01).mean_accuracy.high < result.baseline_accuracy.low
    assert result.at(10.0).mean_accuracy.value >= 0.95


@pytest.mark.parametrize("name", ["non-private", "DP epsilon=10", "DP epsilon=1"])
def test_membership_inference_advantage_is_small(mlaudit, iris, trained_pair, name):
    """The interval's high end stays below 0.3: with Iris's few rows, about as tight as a gate can be.

    Measured (seed 0): advantage 0.02 [-0.18, 0.25] (non-private), -0.04 [-0.19, 0.17]
    (epsilon 10), -0.30 [-0.50, -0.06] (epsilon 1); the interval is about 0.43 wide, so
    a model whose measured advantage reaches about 0.1 fails.
    """
    result = mlaudit.assert_membership_advantage(trained_pair[name], iris.X_train, iris.y_train,
                                                 iris.X_test, iris.y_test, at_most=0.3, policy="lower")
    assert result.auc.value <= 0.7


@pytest.mark.parametrize("secured", [False, True], ids=["FraudNet", "FraudNet secured"])
def test_fraudnet_leaks_no_membership(mlaudit, transactions, fraudnet, fraudnet_secured, secured):
    """The FraudNet study's network (audits/test_fraudnet_security.py) under the same loss-threshold attack.

    With 4,200 training and 1,800 holdout transactions the interval is tight: measured at
    --mlaudit-seed 0, advantage 0.010 [-0.011, 0.032] (standard) and 0.002 [-0.009, 0.015]
    (secured): a small network on 5 features generalizes and barely memorizes.
    """
    model = fraudnet_secured if secured else fraudnet
    mlaudit.assert_membership_advantage(model, transactions.X_train, transactions.y_train, transactions.X_test,
                                        transactions.y_test, at_most=0.05, policy="lower")
