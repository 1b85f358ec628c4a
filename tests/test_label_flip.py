"""Label-flip robustness: the flips and the accuracy against direct counts, bad input, determinism."""

import json

import numpy as np
import pytest

import pytest_mlaudit as mla


def table(n=500, seed=0):
    """Three well-separated classes in 2-D, split 300 / 200."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    X = rng.normal(size=(n, 2)) + np.array([[0, 0], [3, 0], [0, 3]])[y]
    return X[:300], y[:300], X[300:], y[300:]


class RecordingCentroids:
    """A model factory fitting scikit-learn's NearestCentroid, keeping the labels and models it saw."""

    def __init__(self):
        self.seen = []

    def __call__(self, X, y, seed):
        from sklearn.neighbors import NearestCentroid

        model = NearestCentroid().fit(X, y)
        self.seen.append((y.copy(), model))
        return model


def test_random_flips_change_the_fraction_of_labels_each_to_another_class():
    X_train, y_train, X_test, y_test = table()
    factory = RecordingCentroids()
    mla.label_flip_curve(factory, X_train, y_train, X_test, y_test, fractions=[0.0, 0.2], repeats=2)
    (clean, _), (flipped, _), (clean_again, _), (flipped_again, _) = factory.seen  # run by run, fraction by fraction
    assert np.array_equal(clean, y_train) and np.array_equal(clean_again, y_train)
    for labels in (flipped, flipped_again):
        assert np.sum(labels != y_train) == 60
    assert not np.array_equal(flipped, flipped_again)  # each run draws its own flips


def test_accuracy_pools_the_direct_count_over_runs_and_test_samples():
    X_train, y_train, X_test, y_test = table()
    factory = RecordingCentroids()
    curve = mla.label_flip_curve(factory, X_train, y_train, X_test, y_test, fractions=[0.0, 0.3], repeats=3)
    models = [model for _, model in factory.seen]
    for index, point in enumerate(curve.points):
        runs = [models[run * 2 + index].predict(X_test) == y_test for run in range(3)]
        assert point.accuracy.value == pytest.approx(np.mean(runs))
        assert point.accuracy.n == 3 and point.accuracy.low < point.accuracy.value < point.accuracy.high
    assert curve.points[0].accuracy.value > curve.points[1].accuracy.value


def test_targeted_flips_relabel_only_the_source_class_and_report_its_recall():
    X_train, y_train, X_test, y_test = table()
    factory = RecordingCentroids()
    curve = mla.label_flip_curve(factory, X_train, y_train, X_test, y_test, fractions=[0.0, 0.6], mode="targeted",
                                 source_class=1, target_class=0, repeats=1)
    (_, clean_model), (labels, model) = factory.seen
    changed = labels != y_train
    assert changed.sum() == round(0.6 * np.sum(y_train == 1)) and set(y_train[changed]) == {1} and set(labels[changed]) == {0}
    source = y_test == 1
    assert curve.points[1].source_recall.value == np.mean(model.predict(X_test[source]) == 1)
    assert curve.points[1].source_recall.method == "wilson"  # one run: a Wilson interval over the test samples
    assert curve.points[1].source_recall.value < curve.points[0].source_recall.value


def test_assert_label_flip_accuracy_gates_the_fraction_and_fails_below_the_threshold():
    X_train, y_train, X_test, y_test = table()
    result = mla.assert_label_flip_accuracy(RecordingCentroids(), X_train, y_train, X_test, y_test, fraction=0.1,
                                            at_least=0.8)
    assert [p.fraction for p in result.points] == [0.0, 0.1]
    with pytest.raises(AssertionError, match=r"accuracy@fraction=0.6 = .* misses at_least=0.99"):
        mla.assert_label_flip_accuracy(RecordingCentroids(), X_train, y_train, X_test, y_test, fraction=0.6,
                                       at_least=0.99)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"mode": "targeted"}, TypeError, "mode='targeted' needs source_class= and target_class="),
    ({"mode": "targeted", "source_class": 1, "target_class": 1}, ValueError, "both 1: flipping changes nothing"),
    ({"mode": "targeted", "source_class": 7, "target_class": 1}, ValueError, r"source_class must be one of the labels"),
    ({"source_class": 1}, TypeError, "source_class and target_class are for mode='targeted'"),
    ({"fractions": [0.1, 1.0]}, ValueError, r"each of fractions must be a number in \[0, 1\), got 1.0"),
    ({"mode": "adversarial"}, ValueError, "mode must be one of random, targeted"),
    ({"repeats": 0}, ValueError, "repeats"),
])
def test_bad_arguments_are_refused_naming_them(kwargs, error, message):
    X_train, y_train, X_test, y_test = table()
    with pytest.raises(error, match=message):
        mla.label_flip_curve(RecordingCentroids(), X_train, y_train, X_test, y_test, **kwargs)


def test_a_torch_module_as_the_factory_is_refused():
    torch = pytest.importorskip("torch")
    X_train, y_train, X_test, y_test = table()
    with pytest.raises(TypeError, match="got a torch module .* wrap its training in a function"):
        mla.label_flip_curve(torch.nn.Linear(2, 3), X_train, y_train, X_test, y_test)


PROJECT = '''
import numpy as np
from sklearn.linear_model import LogisticRegression

def test_flips(mlaudit):
    rng = np.random.default_rng(1)
    y = np.arange(400) % 2
    X = rng.normal(size=(400, 3)) + y[:, None]
    mlaudit.label_flip_curve(LogisticRegression(), X[:300], y[:300], X[300:], y[300:], fractions=[0.0, 0.2, 0.4])
'''


def test_the_same_seed_gives_the_same_json(pytester):
    pytester.makepyfile(test_flip_project=PROJECT)
    documents = []
    for run in range(2):
        pytester.runpytest("-p", "no:cacheprovider", "--mlaudit-seed=3", f"--mlaudit-json=run{run}.json").assert_outcomes(
            passed=1)
        audits = json.loads((pytester.path / f"run{run}.json").read_text())["audits"]
        documents.append([{k: v for k, v in audit.items() if k != "duration_s"} for audit in audits])
    assert documents[0] == documents[1]
    assert documents[0][0]["category"] == "poisoning" and len(documents[0][0]["params"]["run_seeds"]) == 3
