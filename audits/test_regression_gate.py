"""Regression gates on the digits CNN: a worse model that still passes its fixed threshold is caught.

The fixed gate ``robust accuracy >= 0.40`` under FGSM (eps 0.05) passes for the
standard CNN (10 epochs) and for the same network trained for 2 epochs only. The
regression gate compares each candidate with the accepted run (the standard CNN's
audit, saved as a JSON report in a temporary directory, as a CI job keeps main's
report): the 2-epoch model's fall in robust accuracy is significant (the paired
interval of the change lies below zero), a rerun of the accepted model is not
flagged. In CI the same comparison runs through ``--mlaudit-baseline main.json``
or ``python -m pytest_mlaudit compare main.json new.json`` (see docs/ci.md).
"""

import dataclasses
import json

import pytest

import pytest_mlaudit as mla

EPS = 0.05
FLOOR = 0.40  # the fixed gate, which both models pass
TOLERANCE = 0.01  # the regression gate: how much worse than the accepted run is tolerated


@pytest.fixture(scope="module")
def digits_cnn_two_epochs(digits, mlaudit_settings, training_progress, one_torch_thread):
    """The paper's CNN after 2 epochs of its recipe instead of 10 (a truncated training job)."""
    from reference_models.paper_cnn import paper_recipe, trained_paper_cnn

    config, _ = paper_recipe(mlaudit_settings.seed)
    return trained_paper_cnn(digits, dataclasses.replace(config, epochs=2), progress=training_progress)


def audit_robust_accuracy(mlaudit, model, digits):
    """The audit both runs make: the fixed gate on robust accuracy."""
    return mlaudit.assert_robust_accuracy(model, digits.X_test, digits.y_test, attack=mla.FGSM(eps=EPS),
                                          clip=(0.0, 1.0), at_least=FLOOR)


def accepted_run(mlaudit, model, digits, path):
    """Audit the accepted model and save the run as a JSON report at ``path`` (main's report in CI)."""
    audit_robust_accuracy(mlaudit, model, digits)
    settings = mlaudit.settings
    document = {"schema": "pytest-mlaudit/1", "environment": {"seed": settings.seed, "confidence": settings.confidence},
                "audits": [record.to_dict() for record in mlaudit.records]}
    path.write_text(json.dumps(document))
    return path


def regression_gate(comparison, metric: str):
    """Record the change of ``metric`` since the accepted run as an audit, gated like ``--mlaudit-baseline`` does."""
    change = next(change for change in comparison.changes if change.metric == metric)
    with mla.audit("robustness", f"{metric} against the accepted run") as a:
        a.params.update({"baseline": "the standard CNN (10 epochs), saved report", "method": change.method,
                         "tolerance": TOLERANCE, "rule": "fails when the whole interval of the change is below -tolerance"})
        a.gate(f"{metric} change", at_least=-TOLERANCE, policy="upper")
        a.metric(f"{metric} change", change.change)
        a.metric(f"{metric} before", change.before)
        a.metric(f"{metric} after", change.after)
    return change


def test_a_model_trained_for_fewer_epochs_is_a_significant_regression(mlaudit, digits, digits_cnn,
                                                                       digits_cnn_two_epochs, tmp_path):
    baseline = accepted_run(mlaudit, digits_cnn, digits, tmp_path / "main.json")
    candidate = audit_robust_accuracy(mlaudit, digits_cnn_two_epochs, digits)  # passes the fixed gate
    assert candidate.robust_accuracy.value >= FLOOR
    comparison = mla.compare_runs(json.loads(baseline.read_text()), mlaudit.records[1:], tolerance=TOLERANCE)
    assert [(change.metric, change.method) for change in comparison.regressions] == [
        ("robust_accuracy", "paired (Newcombe)")]
    with pytest.raises(AssertionError, match="robust_accuracy change"):
        regression_gate(comparison, "robust_accuracy")
    assert comparison.regressions[0].change.high < -TOLERANCE


def test_the_accepted_model_rerun_is_not_flagged(mlaudit, digits, digits_cnn, tmp_path):
    baseline = accepted_run(mlaudit, digits_cnn, digits, tmp_path / "main.json")
    audit_robust_accuracy(mlaudit, digits_cnn, digits)
    comparison = mla.compare_runs(json.loads(baseline.read_text()), mlaudit.records[1:], tolerance=TOLERANCE)
    assert comparison.regressions == []
    change = regression_gate(comparison, "robust_accuracy")
    assert (change.change.value, change.paired) == (0.0, True)
