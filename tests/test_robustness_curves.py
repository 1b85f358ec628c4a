"""robustness_curve: robust accuracy with intervals at each eps, in one record."""

import pytest
from extras import need

need("torch")

import torch
from tiny_models import digits, digits_mlp

import pytest_mlaudit as mla


class CountingPasses(torch.nn.Module):
    """Counts forward and backward passes (calls, not samples) of the wrapped network."""

    def __init__(self, network):
        super().__init__()
        self.network, self.forward_passes, self.backward_passes = network, 0, 0

    def forward(self, x):
        self.forward_passes += 1
        out = self.network(x)
        if out.requires_grad:
            out.register_hook(lambda grad: setattr(self, "backward_passes", self.backward_passes + 1))
        return out


def test_an_fgsm_sweep_costs_one_gradient_pass_and_one_forward_pass_per_eps():
    _, _, X, y = digits()
    model = CountingPasses(digits_mlp())
    mla.robustness_curve(model, X[:200], y[:200], attack=mla.FGSM(eps=0.0), eps=[0.01, 0.02, 0.05, 0.1, 0.2],
                         clip=(0.0, 1.0), batch_size=200, sanity_samples=0)
    assert model.backward_passes == 1
    assert model.forward_passes == 1 + 1 + 5  # probe of 8 samples, the gradient pass, one per eps


def test_each_point_is_no_higher_than_the_single_eps_audit_and_the_curve_never_rises():
    _, _, X, y = digits()
    curve = mla.robustness_curve(digits_mlp(), X[:200], y[:200], attack=mla.PGD(eps=0.1, steps=5),
                                 eps=[0.1, 0.02, 0.05], clip=(0.0, 1.0))
    values = [estimate.value for estimate in curve.robust_accuracy]
    assert curve.eps == (0.02, 0.05, 0.1)
    assert values == sorted(values, reverse=True) and values[0] > values[-1]
    single = mla.robustness(digits_mlp(), X[:200], y[:200], attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0))
    fgsm = mla.robustness_curve(digits_mlp(), X[:200], y[:200], attack=mla.FGSM(eps=0.0), eps=[0.05], clip=(0.0, 1.0))
    assert fgsm.robust_accuracy[0] == single.robust_accuracy
    assert fgsm.clean_accuracy == single.clean_accuracy


def test_the_curve_is_one_record_with_its_chart_data_and_a_metric_per_eps(mlaudit):
    _, _, X, y = digits()
    curve = mlaudit.robustness_curve(digits_mlp(), X[:100], y[:100], attack=mla.FGSM(eps=0.0), eps=[0.02, 0.1],
                                     clip=(0.0, 1.0))
    (record,) = mlaudit.records
    assert set(record.metrics) == {"clean_accuracy", "robust_accuracy@eps=0.02", "robust_accuracy@eps=0.1"}
    (chart,) = record.extras["curves"]
    (series,) = chart["series"]
    assert chart["x_label"] == "eps (Linf)" and series["x"] == [0.02, 0.1]
    assert series["y"] == [point.value for point in curve.robust_accuracy]
    assert series["low"] == [point.low for point in curve.robust_accuracy]
    assert record.params["eps"] == [0.02, 0.1] and record.params["attack"] == "FGSM"
    assert [check.name for check in record.checks][:2] == ["deterministic forward pass", "non-zero input gradients"]


def test_assert_robustness_curve_gates_every_eps(mlaudit):
    _, _, X, y = digits()
    with pytest.raises(AssertionError, match="robust_accuracy@eps=0.2 = "):
        mlaudit.assert_robustness_curve(digits_mlp(), X[:100], y[:100], attack=mla.FGSM(eps=0.0), eps=[0.01, 0.2],
                                        clip=(0.0, 1.0), at_least=0.5)
    record = mlaudit.records[-1]
    assert [(gate.metric, gate.passed) for gate in record.gates] == [
        ("robust_accuracy@eps=0.01", True), ("robust_accuracy@eps=0.2", False)]


def test_a_curve_can_carry_one_threshold_per_eps(mlaudit):
    _, _, X, y = digits()
    mlaudit.assert_robustness_curve(digits_mlp(), X[:100], y[:100], attack=mla.FGSM(eps=0.0), eps=[0.01, 0.2],
                                    clip=(0.0, 1.0), at_least=[0.8, 0.0])
    assert [gate.threshold for gate in mlaudit.records[-1].gates] == [0.8, 0.0]
    with pytest.raises(ValueError, match="at_least has 1 thresholds for 2 eps values"):
        mlaudit.assert_robustness_curve(digits_mlp(), X[:10], y[:10], attack=mla.FGSM(eps=0.0), eps=[0.01, 0.2],
                                        clip=(0.0, 1.0), at_least=[0.8])


@pytest.mark.parametrize("eps, message", [([], "eps is empty"), ([0.1, -0.1], "each eps must be non-negative"),
                                          (0.1, "eps must be a sequence"), ([0.1, 0.1], "repeated values")])
def test_bad_eps_lists_are_refused(eps, message):
    _, _, X, y = digits()
    with pytest.raises((TypeError, ValueError), match=message):
        mla.robustness_curve(digits_mlp(), X[:10], y[:10], attack=mla.FGSM(eps=0.0), eps=eps, clip=(0.0, 1.0))
