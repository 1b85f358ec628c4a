"""Non-torch models behind the classifier interface: logistic regression (white-box, closed
form) and any predict_proba model such as XGBClassifier (black-box)."""

import numpy as np
import pytest
from extras import need

need("torch")

import torch
from tiny_models import digits, digits_logistic, digits_mlp

import pytest_mlaudit as mla
from pytest_mlaudit import session
from pytest_mlaudit.adapters import LogisticRegressionClassifier, ProbabilityClassifier, as_classifier


def _binary_data():
    X, y, _, _ = digits()
    keep = y < 2
    return X[keep], y[keep]


def _xgboost():
    from xgboost import XGBClassifier

    X, y, _, _ = digits()
    return XGBClassifier(n_estimators=15, max_depth=3, random_state=0, n_jobs=1).fit(X, y)


@pytest.mark.parametrize("kind", ["multinomial", "binary", "one-vs-rest"])
def test_logistic_regression_logits_give_its_probabilities(kind):
    from sklearn.linear_model import LogisticRegression

    import sklearn

    if kind == "one-vs-rest" and tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 8):
        pytest.skip(f"scikit-learn {sklearn.__version__}: a multiclass LogisticRegression is multinomial only "
                    f"(1.8 removed multi_class and multiclass liblinear), so no one-vs-rest model can be built")
    X, y, _, _ = digits()
    if kind == "binary":
        X, y = _binary_data()
    solver = "liblinear" if kind == "one-vs-rest" else "lbfgs"
    model = LogisticRegression(max_iter=200, solver=solver).fit(X, y)
    classifier = as_classifier(model)
    assert isinstance(classifier, LogisticRegressionClassifier)
    with torch.no_grad():
        probabilities = torch.softmax(classifier.logits(torch.as_tensor(X[:50])), dim=1).numpy()
    np.testing.assert_allclose(probabilities, model.predict_proba(X[:50]), atol=1e-5)


def test_logistic_regression_gradients_match_arts_closed_form():
    from art.estimators.classification.scikitlearn import ScikitlearnLogisticRegression

    model = digits_logistic()
    _, _, X, y = digits()
    ours = as_classifier(model).loss_gradient(torch.as_tensor(X[:30]), torch.as_tensor(y[:30])).numpy()
    art = ScikitlearnLogisticRegression(model, clip_values=(0.0, 1.0)).loss_gradient(X[:30], np.eye(10)[y[:30]])
    cosine = (ours * art).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(art, axis=1))
    assert cosine.min() > 0.999
    np.testing.assert_array_equal(np.sign(ours), np.sign(art))


def test_logistic_regression_is_attacked_white_box():
    _, _, X, y = digits()
    result = mla.robustness(digits_logistic(), X[:150], y[:150], attack=mla.PGD(eps=0.2, steps=10), clip=(0.0, 1.0))
    assert result.clean_accuracy.value > 0.9
    assert result.robust_accuracy.value < 0.3
    assert not result.suspect
    assert result.attack["knowledge"] == "white-box"


def test_xgboost_is_a_black_box_whose_logits_agree_with_predict():
    model = _xgboost()
    _, _, X, _ = digits()
    classifier = as_classifier(model)
    assert isinstance(classifier, ProbabilityClassifier) and not classifier.differentiable
    with torch.no_grad():
        predicted = classifier.logits(torch.as_tensor(X[:80])).argmax(1).numpy()
    np.testing.assert_array_equal(predicted, model.predict(X[:80]))


def test_gradient_attacks_on_xgboost_are_refused_with_the_alternatives_named():
    _, _, X, y = digits()
    with pytest.raises(TypeError, match="no input gradients.*HopSkipJump.*Transfer"):
        mla.robustness(_xgboost(), X[:20], y[:20], attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))


def test_xgboost_under_transfer_from_a_differentiable_surrogate_with_tabular_bounds():
    X_train, _, X, y = digits()
    clip = mla.feature_range(np.vstack([X_train, X]))
    transfer = mla.Transfer(mla.PGD(eps=0.3, steps=10), surrogate=digits_mlp())
    result = mla.robustness(_xgboost(), X[:120], y[:120], attack=transfer, clip=clip)
    assert result.robust_accuracy.value < result.clean_accuracy.value - 0.1
    assert result.attack["surrogate"]["name"] == "Sequential"
    assert [check.name for check in result.checks] == ["deterministic forward pass", "random noise weaker than the attack"]


def test_xgboost_under_hopskipjump():
    _, _, X, y = digits()
    attack = mla.HopSkipJump(eps=2.0, max_iter=3, max_eval=50, init_eval=10, init_size=20)
    result = mla.robustness(_xgboost(), X[:15], y[:15], attack=attack, clip=(0.0, 1.0), sanity_samples=8)
    assert result.robust_accuracy.value < result.clean_accuracy.value


def test_feature_range_is_the_training_range_widened_by_the_margin():
    low, high = mla.feature_range(np.array([[0.0, 10.0], [2.0, 30.0]]), margin=0.5)
    np.testing.assert_allclose(low, [-1.0, 0.0])
    np.testing.assert_allclose(high, [3.0, 40.0])


def test_per_feature_bounds_hold_the_examples():
    X_train, _, X, y = digits()
    low, high = mla.feature_range(np.vstack([X_train, X]))
    classifier = as_classifier(digits_logistic())
    bounds = (torch.as_tensor(low, dtype=torch.float32), torch.as_tensor(high, dtype=torch.float32))
    x_adv = mla.PGD(eps=0.5, steps=5).generate(classifier, torch.as_tensor(X[:40]), torch.as_tensor(y[:40]), bounds)
    assert bool((x_adv >= bounds[0] - 1e-6).all() and (x_adv <= bounds[1] + 1e-6).all())
    assert bool((x_adv[:, high == 0] == 0).all())


def test_estimators_need_classes_zero_to_k_minus_one():
    from sklearn.linear_model import LogisticRegression

    X, y = _binary_data()
    model = LogisticRegression().fit(X, np.where(y == 1, 7, 3))
    with pytest.raises(ValueError, match="classes \\[3, 7\\].*LabelEncoder"):
        as_classifier(model)


def test_unknown_models_are_refused_by_type():
    with pytest.raises(TypeError, match="fitted scikit-learn LogisticRegression.*got builtins.str"):
        as_classifier("not a model")


def test_a_plugin_adapter_is_asked_first():
    sentinel = object()

    class Hook:
        def pytest_mlaudit_adapt_model(self, model, device):
            return sentinel

    previous = session.plugin_hook()
    session.install_hook(Hook())
    try:
        assert as_classifier(digits_logistic()) is sentinel
    finally:
        session.install_hook(previous)
