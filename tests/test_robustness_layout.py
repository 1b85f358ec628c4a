"""The robustness family's layout and its public pieces: attack modules without a cycle,
per-sample outcomes for audits of one's own, audits written with the authoring API."""

import ast
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason='the robustness family needs torch: pip install "pytest-mlaudit[robustness]"')

from tiny_models import digits, digits_mlp  # noqa: E402

import pytest_mlaudit as mla

FAMILY = Path(mla.__file__).parent / "robustness"


def relative_imports(module: str) -> set[str]:
    """The modules of the family that ``module`` imports (anywhere in it, deferred imports included)."""
    tree = ast.parse((FAMILY / f"{module}.py").read_text())
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1}


def test_native_and_art_attacks_import_neither_each_other_nor_the_registry():
    assert relative_imports("attacks") == {"geometry", "protocol"}
    assert relative_imports("art_attacks") == {"geometry"}


def test_the_registry_names_every_built_in_attack():
    from pytest_mlaudit.robustness.registry import builtin_attacks

    assert sorted(builtin_attacks()) == ["apgd", "autoattack", "bim", "cw-l2", "deepfool", "fgsm", "hopskipjump",
                                         "noise", "pgd", "square", "transfer"]
    assert mla.make_attack("pgd", eps=0.1, steps=3) == mla.PGD(eps=0.1, steps=3)


def test_sample_outcomes_give_the_counts_behind_the_robustness_audit(mlaudit):
    _, _, X, y = digits()
    clean, robust = mla.sample_outcomes(digits_mlp(), X[:60], y[:60], attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0))
    assert mlaudit.records == []  # a measurement, not an audit
    result = mla.robustness(digits_mlp(), X[:60], y[:60], attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0))
    assert clean.dtype == bool and clean.shape == (60,)
    assert result.clean_accuracy.value == clean.sum() / 60
    assert result.robust_accuracy.value == robust.sum() / 60
    assert not (robust & ~clean).any()  # a sample wrong before the attack is not counted robust


def test_sample_outcomes_check_the_domain_as_the_audits_do():
    _, _, X, y = digits()
    with pytest.raises(ValueError, match=r"X has \d+ values outside the declared domain clip=\(0, 0.5\)"):
        mla.sample_outcomes(digits_mlp(), X[:20], y[:20], attack=mla.FGSM(eps=0.05), clip=(0.0, 0.5))


def test_a_bad_threshold_fails_the_assertion_before_anything_is_measured(mlaudit):
    _, _, X, y = digits()
    with pytest.raises(ValueError, match=r"at_least=1.5 is outside the metric's range"):
        mlaudit.assert_robust_accuracy(digits_mlp(), X[:20], y[:20], attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0),
                                       at_least=1.5)
    (record,) = mlaudit.records
    assert record.outcome == "error" and record.metrics == {}
    assert record.name == "robust accuracy under FGSM (eps=0.05, Linf)"


def test_a_curve_is_recorded_as_a_typed_curve_with_a_linear_eps_axis(mlaudit):
    _, _, X, y = digits()
    curve = mlaudit.robustness_curve(digits_mlp(), X[:40], y[:40], attack=mla.FGSM(eps=0.0), eps=[0.1, 0.02],
                                     clip=(0.0, 1.0), sanity_samples=0)
    (chart,) = mlaudit.records[-1].extras["curves"]
    assert chart["title"] == "Robust accuracy under FGSM" and chart["x_label"] == "eps (Linf)"
    assert chart["x_scale"] == "linear"
    (series,) = chart["series"]
    assert series["x"] == [0.02, 0.1]
    assert series["y"] == [estimate.value for estimate in curve.robust_accuracy]


def test_a_strict_audit_fails_on_a_failed_check_and_keeps_its_measurements(mlaudit):
    class Noisy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = digits_mlp()

        def forward(self, x):
            return self.net(x) + torch.randn(len(x), 10)

    _, _, X, y = digits()
    torch.manual_seed(0)
    with pytest.raises(AssertionError, match="sanity check 'deterministic forward pass' failed \\(strict=True\\)"):
        mlaudit.robustness(Noisy(), X[:40], y[:40], attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0), strict=True)
    record = mlaudit.records[-1]
    assert record.outcome == "failed" and "robust_accuracy" in record.metrics


def test_an_audit_records_a_ready_model_description_and_returns_what_it_recorded():
    with mla.audit("robustness", "described") as a:
        assert a.describe_model({"name": "adapter view", "fingerprint": "abc"}) == {"name": "adapter view",
                                                                                    "fingerprint": "abc"}
        a.metric("m", mla.proportion(1, 2))


def test_fail_fails_an_audit_without_a_gate():
    with pytest.raises(AssertionError, match="^calibration: too few samples per bin$"):
        with mla.audit("calibration", "bins") as a:
            a.metric("ece", mla.proportion(1, 10))
            a.fail("calibration: too few samples per bin")
