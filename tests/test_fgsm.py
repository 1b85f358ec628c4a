"""The first audit end to end: FGSM robust accuracy of a torch classifier."""

import numpy as np
import pytest
from extras import need

need("torch")

import torch

import pytest_mlaudit as mla


def test_fgsm_examples_equal_those_of_art(tiny):
    from art.attacks.evasion import FastGradientMethod
    from art.estimators.classification import PyTorchClassifier

    from pytest_mlaudit.adapters import TorchClassifier

    model, X, y = tiny
    model.eval()
    eps = 0.1
    art_classifier = PyTorchClassifier(model, loss=torch.nn.CrossEntropyLoss(), input_shape=(4,), nb_classes=3,
                                       clip_values=(0.0, 1.0), device_type="cpu")
    expected = FastGradientMethod(art_classifier, norm=np.inf, eps=eps, batch_size=64).generate(X, y=np.eye(3)[y])
    clip = (torch.tensor(0.0), torch.tensor(1.0))
    ours = mla.FGSM(eps=eps).generate(TorchClassifier(model, device="cpu"), torch.from_numpy(X), torch.from_numpy(y), clip)
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-6)


def test_robust_accuracy_counts_every_sample(tiny):
    model, X, y = tiny
    y = y.copy()
    y[:20] = (y[:20] + 1) % 3  # 20 samples now misclassified before any attack
    result = mla.robustness(model, X, y, attack=mla.FGSM(eps=0.0), clip=(0.0, 1.0))
    assert result.clean_accuracy.value == pytest.approx(180 / 200)
    assert result.robust_accuracy.value == pytest.approx(180 / 200)
    assert result.robust_accuracy.n == 200
    assert result.attack_success_rate.value == 0.0
    assert result.attack_success_rate.n == 180


def test_attack_success_rate_is_over_the_correctly_classified(tiny):
    model, X, y = tiny
    result = mla.robustness(model, X, y, attack=mla.FGSM(eps=0.3), clip=(0.0, 1.0))
    broken = round(result.attack_success_rate.value * result.attack_success_rate.n)
    assert result.clean_accuracy.value == 1.0
    assert result.robust_accuracy.value == pytest.approx(1 - broken / 200)
    assert result.accuracy_drop.value == pytest.approx(result.clean_accuracy.value - result.robust_accuracy.value)
    assert 0.0 < result.robust_accuracy.value < 1.0


def test_numpy_and_torch_inputs_give_the_same_result(tiny):
    model, X, y = tiny
    from_numpy = mla.robustness(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0), batch_size=64)
    from_torch = mla.robustness(model, torch.from_numpy(X), torch.from_numpy(y), attack=mla.FGSM(eps=0.1),
                                clip=(0.0, 1.0), batch_size=64)
    assert from_numpy == from_torch


def test_result_does_not_depend_on_the_batch_size(tiny):
    model, X, y = tiny
    small = mla.robustness(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0), batch_size=7)
    large = mla.robustness(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0), batch_size=1000)
    assert small.robust_accuracy == large.robust_accuracy


def test_the_audit_runs_in_eval_mode_and_restores_each_module_mode(tiny):
    model, X, y = tiny
    seen = []
    model.register_forward_hook(lambda module, inputs, output: seen.append(module.training))
    model.train()
    model[1].eval()  # a mixed state must come back as it was
    mla.robustness(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))
    assert seen and not any(seen)
    assert [m.training for m in model.modules()] == [True, True, False, True]


def test_data_outside_the_domain_is_refused_with_a_hint_about_normalization(tiny):
    model, X, y = tiny
    normalized = (X - 0.5) / 0.25
    with pytest.raises(ValueError, match=r"X has \d+ values outside the declared domain clip=\(0, 1\).*normalization=\(mean, std\)"):
        mla.robustness(model, normalized, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))


def test_normalization_inside_the_model_equals_a_model_that_normalizes_itself(tiny):
    model, X, y = tiny
    mean, std = [0.5, 0.4, 0.5, 0.6], [0.3, 0.2, 0.25, 0.3]

    class Normalized(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, x):
            return self.inner((x - torch.tensor(mean)) / torch.tensor(std))

    wrapped = mla.robustness(model, X, y, attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0), normalization=(mean, std))
    explicit = mla.robustness(Normalized(), X, y, attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0))
    assert wrapped.robust_accuracy == explicit.robust_accuracy


def test_a_model_returning_probabilities_is_refused(tiny):
    model, X, y = tiny
    with pytest.raises(ValueError, match="model returns probabilities"):
        mla.robustness(torch.nn.Sequential(model, torch.nn.Softmax(dim=1)), X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda X, y: (X, y[:-1]), "y has 199 labels but X has 200 samples"),
        (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), y), "X contains 1 NaN"),
        (lambda X, y: (X, np.where(np.arange(y.size) == 0, 7, y)), "y has label 7 but the model outputs only 3 classes"),
        (lambda X, y: (X, y - 5), "y has negative label"),
        (lambda X, y: (X[:0], y[:0]), "X is empty"),
        (lambda X, y: (X, y.astype(float) + 0.5), "y must hold integer class labels"),
        (lambda X, y: ("images", y), "X must be an array"),
    ],
)
def test_bad_input_gets_an_error_naming_the_argument(tiny, change, message):
    model, X, y = tiny
    X, y = change(X, y)
    with pytest.raises((ValueError, TypeError), match=message):
        mla.robustness(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))


def test_negative_eps_is_refused():
    with pytest.raises(ValueError, match="FGSM eps must be non-negative"):
        mla.FGSM(eps=-0.1)


def test_a_bad_clip_is_refused(tiny):
    model, X, y = tiny
    with pytest.raises(ValueError, match="clip low must be below high"):
        mla.robustness(model, X, y, attack=mla.FGSM(eps=0.1), clip=(1.0, 0.0))


def test_thresholds_are_validated_before_the_attack_runs(tiny):
    model, X, y = tiny
    with pytest.raises(TypeError, match="exactly one threshold"):
        mla.assert_robust_accuracy(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))
    with pytest.raises(ValueError, match=r"at_least=1.5 is outside the metric's range \[0.0, 1.0\]"):
        mla.assert_robust_accuracy(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0), at_least=1.5)


def test_a_missed_gate_raises_with_value_interval_and_threshold(tiny):
    model, X, y = tiny
    with pytest.raises(AssertionError) as failure:
        mla.assert_robust_accuracy(model, X, y, attack=mla.FGSM(eps=0.3), clip=(0.0, 1.0), at_least=0.99)
    message = str(failure.value)
    assert "robust_accuracy = 0." in message
    assert "95% CI [" in message and "n=200" in message
    assert "misses at_least=0.99 under policy 'estimate'" in message


def test_sanity_checks_pass_for_a_plain_deterministic_model(tiny):
    model, X, y = tiny
    result = mla.robustness(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))
    assert [(c.name, c.passed) for c in result.checks] == [
        ("deterministic forward pass", True),
        ("non-zero input gradients", True),
        ("accuracy near chance at very large eps", True),
        ("iterative attack at least as strong as one-step", True),
        ("random noise weaker than the attack", True),
    ]
    assert result.suspect is False


def test_dropout_left_on_is_flagged_as_a_nondeterministic_forward_pass(tiny):
    model, X, y = tiny

    class AlwaysDropout(torch.nn.Module):
        def forward(self, x):
            return model(torch.nn.functional.dropout(x, 0.5, training=True))

    result = mla.robustness(AlwaysDropout(), X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))
    assert result.suspect is True
    assert result.checks[0].name == "deterministic forward pass" and not result.checks[0].passed
