"""Backdoor poisoning audits: the numbers against direct counts and ART's detector, bad input, determinism."""

import json

import numpy as np
import pytest
from extras import need

import pytest_mlaudit as mla

torch = need("torch")
need("art")

N_TRAIN, N_TEST = 600, 300


def digit_images():
    """scikit-learn digits as 1x8x8 images in [0, 1]: (X_train, y_train, X_test, y_test)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    X = (data.images / 16.0).astype(np.float32)[:, None]
    return X[:N_TRAIN], data.target[:N_TRAIN], X[N_TRAIN:N_TRAIN + N_TEST], data.target[N_TRAIN:N_TRAIN + N_TEST]


class RecordingMLP:
    """A model factory training a small MLP (an nn.Sequential) on what it is given, keeping the data and models."""

    def __init__(self):
        self.trained = []

    def __call__(self, X, y, seed):
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(int(np.prod(X.shape[1:])), 32),
                                    torch.nn.ReLU(), torch.nn.Linear(32, int(y.max()) + 1))
        optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
        inputs, labels = torch.as_tensor(X), torch.as_tensor(y)
        for _ in range(120):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(inputs), labels).backward()
            optimizer.step()
        self.trained.append((X.copy(), y.copy(), model.eval()))
        return model


@pytest.fixture(scope="module")
def planted():
    factory = RecordingMLP()
    X_train, y_train, X_test, y_test = digit_images()
    result = mla.backdoor(factory, X_train, y_train, X_test, y_test, trigger="pattern", target_class=0,
                          poison_fractions=[0.0, 0.1])
    return result, factory, (X_train, y_train, X_test, y_test)


def predictions(model, X):
    with torch.no_grad():
        return model(torch.as_tensor(X)).argmax(1).numpy()


def test_the_poisoned_training_set_has_the_fraction_stamped_and_relabelled_as_the_target(planted):
    from art.attacks.poisoning.perturbations import add_pattern_bd

    _, factory, (X_train, y_train, _, _) = planted
    (clean_X, clean_y, _), (X, y, _) = factory.trained
    assert np.array_equal(clean_X, X_train) and np.array_equal(clean_y, y_train)
    changed = np.flatnonzero((y != y_train) | np.any(X != X_train, axis=(1, 2, 3)))
    assert len(changed) == round(0.1 * N_TRAIN) == 60
    assert set(y[changed]) == {0} and not np.any(y_train[changed] == 0)
    assert np.array_equal(X[changed], add_pattern_bd(X_train[changed], channels_first=True))


def test_attack_success_rate_counts_triggered_test_inputs_of_other_classes_predicted_as_the_target(planted):
    from art.attacks.poisoning.perturbations import add_pattern_bd

    result, factory, (_, _, X_test, y_test) = planted
    others = y_test != 0
    for point, (_, _, model) in zip(result.points, factory.trained):
        hits = predictions(model, add_pattern_bd(X_test[others], channels_first=True)) == 0
        assert (point.attack_success_rate.value, point.attack_success_rate.n) == (hits.mean(), others.sum())
        assert point.clean_accuracy.value == np.mean(predictions(model, X_test) == y_test)


def test_ten_percent_poison_plants_the_backdoor_that_the_clean_model_lacks(planted):
    result, _, _ = planted
    clean, poisoned = result.points
    assert clean.attack_success_rate.high < 0.1
    assert poisoned.attack_success_rate.low > 0.8
    assert result.n_triggered_test == np.sum(planted[2][3] != 0) and not result.suspect


def test_detection_recall_and_precision_count_the_samples_arts_activation_defence_flags(monkeypatch):
    """ART's own answer (captured from the audit's call) against the poisoned rows the factory was given."""
    from art.defences.detector.poison import ActivationDefence

    answers = []
    detect = ActivationDefence.detect_poison

    def captured(self, **kwargs):
        answers.append(detect(self, **kwargs))
        return answers[-1]

    monkeypatch.setattr(ActivationDefence, "detect_poison", captured)
    factory = RecordingMLP()
    X_train, y_train, X_test, y_test = digit_images()
    result = mla.backdoor(factory, X_train, y_train, X_test, y_test, trigger="pattern", target_class=0,
                          poison_fractions=[0.1], detection="activation")
    X, y, _ = factory.trained[0]
    poisoned = (y != y_train) | np.any(X != X_train, axis=(1, 2, 3))
    (_, is_clean), = answers
    flagged = np.asarray(is_clean) == 0
    point = result.points[0]
    assert point.detection_recall.value == (flagged & poisoned).sum() / poisoned.sum()
    assert point.detection_precision.value == (flagged & poisoned).sum() / flagged.sum()
    assert (point.detection_recall.n, point.detection_precision.n) == (60, flagged.sum())


def test_a_feature_value_trigger_sets_the_table_columns_it_names():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    factory = RecordingMLP()
    result = mla.backdoor(factory, X[:300], y[:300], X[300:], y[300:], trigger={2: 2.5, 3: -2.0}, target_class=1,
                          poison_fractions=[0.0, 0.1])
    X_poisoned, y_poisoned, _ = factory.trained[1]
    changed = np.flatnonzero(np.any(X_poisoned != X[:300], axis=1))
    assert len(changed) == 30 and np.all(X_poisoned[changed][:, 2:] == [2.5, -2.0]) and set(y_poisoned[changed]) == {1}
    assert np.array_equal(X_poisoned[changed][:, :2], X[:300][changed][:, :2])
    assert result.trigger["trigger_features"] == {"2": 2.5, "3": -2.0}


def test_assert_backdoor_success_gates_the_largest_fraction_and_fails_a_planted_backdoor():
    X_train, y_train, X_test, y_test = digit_images()
    with pytest.raises(AssertionError, match=r"attack_success_rate@fraction=0.1 = .* misses at_most=0.5"):
        mla.assert_backdoor_success(RecordingMLP(), X_train, y_train, X_test, y_test, trigger="pattern",
                                    target_class=0, fraction=0.1, at_most=0.5)


@pytest.mark.parametrize("trigger, message", [
    (np.zeros((8, 8)), r"trigger has shape \(8, 8\) but the samples have shape \(1, 8, 8\)"),
    ({70: 1.0}, r"trigger as a dict .* stamps tables"),
    ("star", r"trigger='star' is not an image trigger"),
])
def test_a_trigger_that_does_not_fit_the_samples_is_refused(trigger, message):
    X_train, y_train, X_test, y_test = digit_images()
    with pytest.raises(ValueError, match=message):
        mla.backdoor(RecordingMLP(), X_train, y_train, X_test, y_test, trigger=trigger, target_class=0)


def test_an_image_trigger_on_a_table_and_a_feature_outside_it_are_refused():
    X = np.zeros((20, 3), dtype=np.float32)
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match=r"trigger='pattern' stamps images.* shape \(3,\)"):
        mla.backdoor(RecordingMLP(), X, y, X, y, trigger="pattern", target_class=1)
    with pytest.raises(ValueError, match=r"trigger sets feature 5, but the samples have features 0..2"):
        mla.backdoor(RecordingMLP(), X, y, X, y, trigger={5: 1.0}, target_class=1)


def test_more_poison_than_samples_of_other_classes_is_refused():
    X = np.zeros((20, 3), dtype=np.float32)
    y = (np.arange(20) < 2).astype(np.int64)  # 2 samples of class 1, 18 of the target 0
    with pytest.raises(ValueError, match=r"poison fraction 0.5 needs 10 training samples .* y_train has 2"):
        mla.backdoor(RecordingMLP(), X, y, X, y, trigger={0: 1.0}, target_class=0, poison_fractions=[0.5])


def test_a_target_class_outside_the_labels_and_detection_on_a_non_sequential_model_are_refused():
    X_train, y_train, X_test, y_test = digit_images()
    with pytest.raises(ValueError, match=r"target_class must be one of the labels .* got 12"):
        mla.backdoor(RecordingMLP(), X_train, y_train, X_test, y_test, trigger="pixel", target_class=12)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    flat = make_pipeline(FunctionTransformer(lambda X: X.reshape(len(X), -1)), LogisticRegression(max_iter=50))
    with pytest.raises(TypeError, match=r"detection='spectral' needs the trained model to be a torch.nn.Sequential"):
        mla.backdoor(flat, X_train, y_train, X_test, y_test, trigger="pixel", target_class=0, poison_fractions=[0.05],
                     detection="spectral")


PROJECT = '''
import numpy as np, torch
from sklearn.datasets import load_digits
import pytest_mlaudit as mla

def factory(X, y, seed):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(40):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(torch.as_tensor(X)), torch.as_tensor(y)).backward()
        optimizer.step()
    return model.eval()

def test_backdoor(mlaudit):
    data = load_digits()
    X = (data.data / 16.0).astype(np.float32)
    pattern = np.full(64, np.nan); pattern[[63, 54]] = 1.0
    mlaudit.backdoor(factory, X[:400], data.target[:400], X[400:600], data.target[400:600], trigger=pattern,
                     target_class=3, poison_fractions=[0.0, 0.05], detection="spectral")
'''


def test_the_same_seed_gives_the_same_json(pytester):
    pytester.makepyfile(test_backdoor_project=PROJECT)
    documents = []
    for run in range(2):
        pytester.runpytest("-p", "no:cacheprovider", "--mlaudit-seed=7", f"--mlaudit-json=run{run}.json").assert_outcomes(
            passed=1)
        audits = json.loads((pytester.path / f"run{run}.json").read_text())["audits"]
        documents.append([{k: v for k, v in audit.items() if k != "duration_s"} for audit in audits])
    assert documents[0] == documents[1]
    assert documents[0][0]["category"] == "poisoning" and "detection_recall@fraction=0.05" in documents[0][0]["metrics"]
