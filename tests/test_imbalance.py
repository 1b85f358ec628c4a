"""The imbalance audit: minority-class metrics with intervals, resampling on the training split only,
resampler comparison, assertions and bad input."""

import numpy as np
import pytest
from extras import need

need("imblearn")

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import pytest_mlaudit as mla
from outside_pytest import as_a_script
from pytest_mlaudit.imbalance.metrics import _cells, weighted_metrics
from pytest_mlaudit.session import derive_seed
from pytest_mlaudit.stats import proportion


class ScoreColumn(BaseEstimator, ClassifierMixin):
    """A fitted 'model' whose positive-class score is the first feature: exact, known predictions."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        return np.column_stack([1 - X[:, 0], X[:, 0]])

    def predict(self, X):
        return (X[:, 0] >= 0.5).astype(int)


# 5 frauds scored 0.9 0.8 0.7 0.4 0.2; 15 normal rows, two of them scored above 0.5
SCORES = np.array([0.9, 0.8, 0.7, 0.4, 0.2, 0.85, 0.6, 0.3, *np.linspace(0.01, 0.12, 12)])
LABELS = np.array([1] * 5 + [0] * 15)


def fixed_example():
    X = np.column_stack([SCORES, np.arange(20.0) ** 2])  # squares: no three rows collinear
    return ScoreColumn().fit(X, LABELS), X, LABELS


@pytest.fixture(scope="module")
def split():
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=800, n_features=6, n_informative=4, weights=[0.9], flip_y=0, random_state=0)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def test_metrics_of_a_fixed_example_have_the_known_values():
    model, X, y = fixed_example()
    r = mla.imbalance(model, X_test=X, y_test=y, prefit=True)
    assert r.confusion_matrix == ((13, 2), (2, 3))
    assert r.recall.value == 0.6 and r.precision.value == 0.6 and r.f1.value == pytest.approx(0.6)
    assert r.specificity.value == pytest.approx(13 / 15)
    assert r.balanced_accuracy.value == pytest.approx((0.6 + 13 / 15) / 2)
    assert r.g_mean.value == pytest.approx(np.sqrt(0.6 * 13 / 15))
    assert r.pr_auc.value == pytest.approx((1 + 2 / 3 + 3 / 4 + 4 / 6 + 5 / 8) / 5)
    assert r.test_positive_rate.value == 0.25 and r.train_positive_rate is None


def test_metrics_agree_with_scikit_learn_and_imbalanced_learn(split):
    from imblearn.metrics import geometric_mean_score, specificity_score
    from sklearn import metrics

    X_train, X_test, y_train, y_test = split
    r = mla.imbalance(LogisticRegression(), X_train, y_train, X_test, y_test)
    fitted = LogisticRegression().fit(X_train, y_train)
    pred, scores = fitted.predict(X_test), fitted.predict_proba(X_test)[:, 1]
    assert r.recall.value == pytest.approx(metrics.recall_score(y_test, pred))
    assert r.precision.value == pytest.approx(metrics.precision_score(y_test, pred))
    assert r.f1.value == pytest.approx(metrics.f1_score(y_test, pred))
    assert r.pr_auc.value == pytest.approx(metrics.average_precision_score(y_test, scores))
    assert r.balanced_accuracy.value == pytest.approx(metrics.balanced_accuracy_score(y_test, pred))
    assert r.g_mean.value == pytest.approx(geometric_mean_score(y_test, pred))
    assert r.specificity.value == pytest.approx(specificity_score(y_test, pred))
    assert r.confusion_matrix == tuple(map(tuple, metrics.confusion_matrix(y_test, pred).tolist()))


def test_weighted_metrics_agree_with_the_libraries_given_the_same_sample_weight():
    from imblearn.metrics import geometric_mean_score
    from sklearn import metrics

    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.2).astype(int)
    scores = np.round(rng.random(300) + 0.5 * y, 1)  # rounded: many ties between classes
    pred = (scores >= 0.8).astype(int)
    weights = rng.integers(0, 3, size=(5, 300)).astype(float)
    ours = weighted_metrics(y, pred, scores, weights)
    for k, w in enumerate(weights):
        assert ours["pr_auc"][k] == pytest.approx(metrics.average_precision_score(y, scores, sample_weight=w))
        assert ours["f1"][k] == pytest.approx(metrics.f1_score(y, pred, sample_weight=w))
        assert ours["balanced_accuracy"][k] == pytest.approx(metrics.balanced_accuracy_score(y, pred, sample_weight=w))
        assert ours["g_mean"][k] == pytest.approx(geometric_mean_score(y, pred, sample_weight=w))


def test_merging_rows_into_cells_changes_no_metric():
    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.1).astype(int)
    scores = np.round(rng.random(400) + 0.4 * y, 2)
    pred = (scores >= 0.7).astype(int)
    weights = rng.integers(0, 3, size=(4, 400)).astype(float)
    cells, cell_y, cell_pred, cell_scores = _cells(y, pred, scores)
    merged = np.stack([np.bincount(cells, weights=w, minlength=cell_y.size) for w in weights])
    assert cell_y.size < 100
    by_row, by_cell = weighted_metrics(y, pred, scores, weights), weighted_metrics(cell_y, cell_pred, cell_scores, merged)
    for name in by_row:
        np.testing.assert_allclose(by_cell[name], by_row[name])


def test_proportions_get_wilson_intervals_and_the_rest_a_bootstrap_containing_the_value(split):
    X_train, X_test, y_train, y_test = split
    r = mla.imbalance(LogisticRegression(), X_train, y_train, X_test, y_test)
    (tn, fp), (fn, tp) = r.confusion_matrix
    assert r.recall == proportion(tp, tp + fn)
    assert r.precision == proportion(tp, tp + fp)
    assert r.specificity == proportion(tn, tn + fp)
    for estimate in (r.f1, r.pr_auc, r.balanced_accuracy, r.g_mean):
        assert estimate.method == "bootstrap-percentile-stratified" and estimate.n == y_test.size
        assert 0.0 <= estimate.low <= estimate.value <= estimate.high <= 1.0 and estimate.low < estimate.high


def test_same_seed_same_result_another_seed_other_intervals_only(split):
    from imblearn.over_sampling import SMOTE

    X_train, X_test, y_train, y_test = split
    model, sampler = LogisticRegression(), SMOTE()

    def measure(resampler):
        return lambda: mla.imbalance(model, X_train, y_train, X_test, y_test, resampler=resampler)

    first = as_a_script(measure(sampler), seed=0)
    again = as_a_script(measure(sampler), seed=0)
    same_smote = SMOTE(random_state=derive_seed(0, "minority-class metrics", "resampler"))
    other = as_a_script(measure(same_smote), seed=1)
    assert first == again
    assert other.f1.value == first.f1.value and (other.f1.low, other.f1.high) != (first.f1.low, first.f1.high)
    assert not hasattr(model, "coef_") and sampler.random_state is None


SEEN = []


class SpySampler(BaseEstimator):
    """Records what it is asked to resample, and resamples nothing."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit_resample(self, X, y):
        SEEN.append((X.copy(), y.copy(), self.random_state))
        return X, y


def test_resampler_sees_the_scaled_training_split_only_and_gets_a_seed(split):
    X_train, X_test, y_train, y_test = split
    SEEN.clear()
    model = Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression())])
    mla.imbalance(model, X_train, y_train, X_test, y_test, resampler=SpySampler())
    (X_seen, y_seen, seed), = SEEN
    np.testing.assert_allclose(X_seen, StandardScaler().fit_transform(X_train))
    np.testing.assert_array_equal(y_seen, y_train)
    assert isinstance(seed, int)


def test_a_resamplers_own_random_state_is_kept(split):
    X_train, X_test, y_train, y_test = split
    SEEN.clear()
    mla.imbalance(LogisticRegression(), X_train, y_train, X_test, y_test, resampler=SpySampler(random_state=5))
    assert SEEN[0][2] == 5


def test_compare_resamplers_runs_the_default_samplers_in_order(split):
    X_train, X_test, y_train, y_test = split
    comparison = mla.compare_resamplers(LogisticRegression(), X_train, y_train, X_test, y_test, n_resamples=200)
    names = ["none", "SMOTE", "random under-sampling", "random over-sampling", "ADASYN", "BorderlineSMOTE",
             "SMOTEENN", "SMOTETomek"]
    assert list(comparison.results) == names
    assert comparison.results["random under-sampling"].recall.value >= comparison.results["none"].recall.value


def test_compare_resamplers_records_in_the_test(mlaudit, split):
    from imblearn.under_sampling import RandomUnderSampler

    X_train, X_test, y_train, y_test = split
    mlaudit.compare_resamplers(LogisticRegression(), X_train, y_train, X_test, y_test,
                               resamplers={"none": None, "under": RandomUnderSampler()}, n_resamples=200)
    record, = mlaudit.records
    assert {"none/recall", "under/precision", "under/pr_auc", "test_positive_rate"} <= set(record.metrics)
    table, = record.extras["tables"]
    assert [row[0] for row in table["rows"]] == ["none", "under"] and table["columns"][1:3] == ["recall", "precision"]
    points = record.extras["points"][0]["points"]
    assert points[1] == {"label": "under", "x": record.metrics["under/recall"].value,
                         "y": record.metrics["under/precision"].value}


def test_imbalance_records_confusion_matrix_and_class_ratio(mlaudit):
    model, X, y = fixed_example()
    mlaudit.imbalance(model, X_test=X, y_test=y, prefit=True)
    record, = mlaudit.records
    assert record.extras["confusion_matrix"] == {"labels": ["rest", "1"], "matrix": [[13, 2], [2, 3]]}
    assert record.params["test_class_counts"] == {"0": 15, "1": 5} and record.metrics["test_positive_rate"].value == 0.25


def test_gates_pass_and_miss_on_their_metric(mlaudit):
    model, X, y = fixed_example()
    mlaudit.assert_minority_recall(model, X_test=X, y_test=y, prefit=True, at_least=0.6)
    mlaudit.assert_balanced_accuracy(model, X_test=X, y_test=y, prefit=True, at_most=0.8)
    with pytest.raises(AssertionError, match=r"precision = 0.6000 .* misses at_least=0.7"):
        mlaudit.assert_minority_precision(model, X_test=X, y_test=y, prefit=True, at_least=0.7)
    assert [g.passed for r in mlaudit.records for g in r.gates] == [True, True, False]


def test_lower_policy_uses_the_pessimistic_bound(mlaudit):
    model, X, y = fixed_example()
    with pytest.raises(AssertionError, match="under policy 'lower'"):
        mlaudit.assert_minority_recall(model, X_test=X, y_test=y, prefit=True, at_least=0.5, policy="lower")


@pytest.mark.parametrize("change, message", [
    (dict(y_test=np.zeros(20, dtype=int)), "no sample of positive_label=1"),
    (dict(y_test=np.ones(20, dtype=int)), "holds only class 1"),
    (dict(positive_label=2), "no sample of positive_label=2"),
    (dict(X_test=np.full((20, 2), np.nan)), "X_test contains 40 NaN"),
    (dict(y_test=np.where(LABELS == 1, np.nan, 0.0)), "y_test contains NaN"),
    (dict(y_test=np.where(LABELS == 1, "fraud", "normal")), "y_test must hold integer class labels"),
    (dict(y_test=LABELS[:-1]), "y_test has 19 labels but X_test has 20 samples"),
    (dict(positive_label="1"), "positive_label must be an integer"),
    (dict(leakage_guard="off"), "leakage_guard must be one of refuse, record"),
])
def test_bad_test_input_gets_one_clear_error(change, message):
    model, X, y = fixed_example()
    arguments = {"X_test": X, "y_test": y, "prefit": True, **change}
    with pytest.raises((TypeError, ValueError), match=message):
        mla.imbalance(model, **arguments)


def test_an_unfitted_model_with_prefit_is_refused():
    _, X, y = fixed_example()
    with pytest.raises(ValueError, match=r"model \(LogisticRegression\) is not fitted"):
        mla.imbalance(LogisticRegression(), X_test=X, y_test=y, prefit=True)


def test_fitting_needs_the_training_split(split):
    _, X_test, _, y_test = split
    with pytest.raises(TypeError, match="pass prefit=True"):
        mla.imbalance(LogisticRegression(), X_test=X_test, y_test=y_test)


def test_a_training_split_with_one_class_is_refused(split):
    X_train, X_test, y_train, y_test = split
    with pytest.raises(ValueError, match="y_train has no sample of positive_label=1"):
        mla.imbalance(LogisticRegression(), X_train, np.zeros_like(y_train), X_test, y_test)


def test_prefit_with_a_resampler_and_a_non_sampler_are_refused(split):
    from imblearn.over_sampling import SMOTE

    X_train, X_test, y_train, y_test = split
    model, X, y = fixed_example()
    with pytest.raises(ValueError, match="resampler= needs a model to fit"):
        mla.imbalance(model, X_test=X, y_test=y, prefit=True, resampler=SMOTE())
    with pytest.raises(TypeError, match="resampler must be an imbalanced-learn sampler"):
        mla.imbalance(LogisticRegression(), X_train, y_train, X_test, y_test, resampler=StandardScaler())
