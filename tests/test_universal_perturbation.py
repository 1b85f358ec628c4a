"""Universal adversarial perturbations: the fooling rate against a direct count, the budget, bad input, determinism."""

import json

import numpy as np
import pytest
from extras import need
from tiny_models import digits, digits_cnn

import pytest_mlaudit as mla

torch = need("torch")


def images():
    X_train, _, X_test, y_test = digits()
    return X_train.reshape(-1, 1, 8, 8)[:200], X_test.reshape(-1, 1, 8, 8)[:300], y_test[:300]


def predict(model, X):
    with torch.no_grad():
        return model(torch.as_tensor(X)).argmax(1).numpy()


@pytest.fixture(scope="module")
def crafted():
    X_craft, X, y = images()
    return mla.universal_perturbation(digits_cnn(), X, y, eps=0.2, clip=(0.0, 1.0), X_craft=X_craft, epochs=5)


def test_the_fooling_rate_counts_the_samples_whose_prediction_the_perturbation_changes(crafted):
    _, X, y = images()
    model = digits_cnn()
    perturbed = predict(model, np.clip(X + crafted.perturbation, 0.0, 1.0))
    clean = predict(model, X)
    assert crafted.fooling_rate.value == np.mean(perturbed != clean) and crafted.fooling_rate.n == 300
    assert crafted.perturbed_accuracy.value == np.mean(perturbed == y)
    assert crafted.clean_accuracy.value == np.mean(clean == y)


def test_one_perturbation_within_eps_fools_more_than_random_noise_of_the_same_size(crafted):
    assert crafted.perturbation.shape == (1, 8, 8)
    assert np.abs(crafted.perturbation).max() <= 0.2 + 1e-6
    assert crafted.fooling_rate.low > crafted.random_fooling_rate.high
    assert not crafted.suspect


def test_an_l2_perturbation_stays_in_the_l2_ball():
    X_craft, X, y = images()
    result = mla.universal_perturbation(digits_cnn(), X, y, eps=1.0, norm=2, clip=(0.0, 1.0), X_craft=X_craft,
                                        epochs=2)
    assert np.linalg.norm(result.perturbation) <= 1.0 + 1e-5 and result.norm == "L2"


def test_crafting_on_the_measured_samples_marks_the_audit_suspect():
    _, X, y = images()
    result = mla.universal_perturbation(digits_cnn(), X, y, eps=0.1, clip=(0.0, 1.0), epochs=1)
    assert result.suspect
    assert "300 of the 300 measured samples were also used to craft" in result.checks[0].detail


def test_assert_universal_fooling_rate_fails_above_the_threshold():
    X_craft, X, y = images()
    with pytest.raises(AssertionError, match=r"fooling_rate = .* misses at_most=0.01"):
        mla.assert_universal_fooling_rate(digits_cnn(), X, y, eps=0.3, clip=(0.0, 1.0), X_craft=X_craft, epochs=2,
                                          at_most=0.01)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"eps": 0.0}, ValueError, "eps must be positive"),
    ({"eps": 0.1, "norm": 1}, ValueError, "norm must be 'inf'"),
    ({"eps": 0.1, "clip": (0.0, 0.5)}, ValueError, "outside"),
    ({"eps": 0.1, "X_craft": np.zeros((4, 1, 4, 4), dtype=np.float32)}, ValueError,
     r"X_craft has rows of shape \(1, 4, 4\) but X of shape \(1, 8, 8\)"),
])
def test_bad_arguments_are_refused_naming_them(kwargs, error, message):
    _, X, y = images()
    arguments = {"clip": (0.0, 1.0), **kwargs}
    with pytest.raises(error, match=message):
        mla.universal_perturbation(digits_cnn(), X, y, **arguments)


def test_a_model_without_gradients_is_refused():
    _, _, X_test, y_test = digits()
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X_test, y_test)
    with pytest.raises(TypeError, match="model must be"):
        mla.universal_perturbation(forest, X_test, y_test, eps=0.1, clip=(0.0, 1.0))


PROJECT = '''
import numpy as np, torch
from sklearn.datasets import load_digits
import pytest_mlaudit as mla

def test_uap(mlaudit):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 10))
    data = load_digits()
    X = (data.data / 16.0).astype(np.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(30):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(torch.as_tensor(X[:500])), torch.as_tensor(data.target[:500])).backward()
        optimizer.step()
    mlaudit.universal_perturbation(model.eval(), X[600:900], data.target[600:900], eps=0.2, clip=(0.0, 1.0),
                                   X_craft=X[:200], epochs=3)
'''


def test_the_same_seed_gives_the_same_json(pytester):
    pytester.makepyfile(test_uap_project=PROJECT)
    documents = []
    for run in range(2):
        pytester.runpytest("-p", "no:cacheprovider", "--mlaudit-seed=2", f"--mlaudit-json=run{run}.json").assert_outcomes(
            passed=1)
        audits = json.loads((pytester.path / f"run{run}.json").read_text())["audits"]
        documents.append([{k: v for k, v in audit.items() if k != "duration_s"} for audit in audits])
    assert documents[0] == documents[1]
    assert documents[0][0]["category"] == "robustness" and "fooling_rate" in documents[0][0]["metrics"]
