"""Inputs that used to crash or mislead an audit: each gets the right behaviour or an error naming the fix."""

import copy

import numpy as np
import pandas as pd
import pytest
from extras import needs

import pytest_mlaudit as mla
from pytest_mlaudit import validation


def _linear_model_and_data():
    import torch

    torch.manual_seed(0)
    model = torch.nn.Linear(5, 2)
    X = np.random.default_rng(0).random((64, 5)).astype(np.float32)
    with torch.no_grad():
        y = model(torch.from_numpy(X)).argmax(1).numpy()
    return model, X, y


def _with_outputs(model, kind):
    import torch

    class Several(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = model

        def forward(self, x):
            logits = self.net(x)
            return (logits, x.sum(1)) if kind == "tuple" else {"aux": x.sum(1), "logits": logits}

    return Several()


@needs("torch")
@pytest.mark.parametrize("kind, hint", [("tuple", "output=<index>"), ("dict", "output=<key>")])
def test_a_model_with_several_outputs_is_refused_naming_output(kind, hint):
    model, X, y = _linear_model_and_data()
    with pytest.raises(ValueError, match=f"mla.as_classifier\\(model, {hint}\\)"):
        mla.robustness(_with_outputs(model, kind), X, y, attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0))


@needs("torch")
@pytest.mark.parametrize("kind, output", [("tuple", 0), ("dict", "logits")])
def test_output_selects_the_logits_and_measures_as_the_bare_model(kind, output):
    model, X, y = _linear_model_and_data()
    bare = mla.robustness(model, X, y, attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0))
    selected = mla.robustness(mla.as_classifier(_with_outputs(model, kind), output=output), X, y,
                              attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0))
    assert selected.robust_accuracy == bare.robust_accuracy
    assert selected.clean_accuracy.value == 1.0


@needs("torch")
def test_an_output_that_selects_nothing_is_refused_naming_the_outputs():
    model, X, y = _linear_model_and_data()
    classifier = mla.as_classifier(_with_outputs(model, "dict"), output="scores")
    with pytest.raises(ValueError, match=r"output='scores' does not select an output of the model: it returned keys \['aux', 'logits'\]"):
        mla.robustness(classifier, X, y, attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0))


@needs("torch")
@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float64"])
def test_a_model_in_another_dtype_is_audited_in_it_and_says_so(dtype):
    import torch

    model, X, y = _linear_model_and_data()
    cast = copy.deepcopy(model).to(getattr(torch, dtype))
    result = mla.robustness(cast, X, y, attack=mla.PGD(eps=0.05, steps=3), clip=(0.0, 1.0))
    description = mla.as_classifier(cast).describe()
    assert description["dtype"] == dtype
    assert description["audit_cast"] == (f"inputs cast from float32 to {dtype} for the model, "
                                         "logits cast to float32 for the audit")
    assert result.n == 64 and 0.0 <= result.robust_accuracy.value <= result.clean_accuracy.value


@needs("torch")
def test_a_float64_model_given_float32_data_gives_the_float32_numbers():
    import torch

    model, X, y = _linear_model_and_data()
    as_float32 = mla.robustness(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))
    as_float64 = mla.robustness(copy.deepcopy(model).to(torch.float64), X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))
    assert as_float64.robust_accuracy == as_float32.robust_accuracy


@needs("torch")
def test_an_adapter_given_with_normalization_again_is_refused():
    model, X, y = _linear_model_and_data()
    with pytest.raises(TypeError, match="already a classifier adapter"):
        mla.robustness(mla.as_classifier(model), X, y, attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0),
                       normalization=([0.5], [0.5]))


@needs("fairlearn")
@pytest.mark.parametrize("name", ["__tp", "__fp", "__fn", "__tn"])
def test_a_sensitive_column_named_like_an_internal_count_column_is_an_ordinary_group_column(name):
    rng = np.random.default_rng(0)
    group = rng.integers(0, 2, 400)
    y = rng.integers(0, 2, 400)
    predicted = np.where(rng.random(400) < 0.8, y, 1 - y)
    from pytest_mlaudit.fairness.metrics import evaluate

    result, _ = evaluate(y, predicted, pd.DataFrame({name: group.astype(str)}), 1, 50, confidence=0.95, seed=0)
    for label in ("0", "1"):
        rows = group == int(label)
        metrics = next(g for g in result.intersection.groups if g.group == label)
        assert metrics.size == int(rows.sum())
        assert metrics.recall.value == pytest.approx(predicted[rows & (y == 1)].mean())


@pytest.mark.parametrize("given", [
    [1, "1", 2, 2],
    {"group": [1, "1", 2, 2]},
    pd.Series([1, "1", 2, 2], dtype=object, name="group"),
])
def test_groups_of_different_types_that_read_the_same_are_refused(given):
    with pytest.raises(ValueError, match=r"mixes label types that read the same \('1' as int, str\)"):
        validation.sensitive_features(given, 4)


def test_groups_of_one_type_are_kept_as_they_are():
    frame = validation.sensitive_features([1, 2, 1, 2], 4)
    assert frame.iloc[:, 0].tolist() == ["1", "2", "1", "2"]


def test_a_constant_score_model_gets_its_zero_width_auc_flagged(mlaudit):
    from sklearn.dummy import DummyClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = np.tile([0, 1], 100)  # a prior of exactly 1/2: every sample's loss is ln 2
    model = DummyClassifier(strategy="prior").fit(X[:100], y[:100])
    result = mlaudit.membership_inference(model, X[:100], y[:100], X[100:], y[100:])
    assert (result.auc.value, result.auc.low, result.auc.high) == (0.5, 0.5, 0.5)
    record = mlaudit.records[-1]
    check = next(c for c in record.checks if c.name == "intervals have non-zero width")
    assert not check.passed and record.suspect
    assert "auc = 0.5 (delong, n=200)" in check.detail


def test_a_zero_width_interval_marks_the_record_suspect():
    with mla.audit("custom", "degenerate") as a:
        a.metric("constant", mla.Estimate(0.5, 0.5, 0.5, 100, "delong"))
        a.metric("fine", mla.proportion(50, 100))
    record = a._record
    check = next(c for c in record.checks if c.name == "intervals have non-zero width")
    assert not check.passed and record.suspect
    assert "constant = 0.5 (delong, n=100)" in check.detail and "fine" not in check.detail


@needs("xgboost", "fairlearn")
def test_compare_mitigation_works_with_an_xgboost_classifier():
    from xgboost import XGBClassifier

    rng = np.random.default_rng(0)
    group = rng.integers(0, 2, 1000)
    X = np.column_stack([rng.normal(size=(1000, 3)), group]).astype(np.float32)
    y = ((X[:, 0] + 1.5 * group + rng.normal(0, 0.5, 1000)) > 0.8).astype(int)
    comparison = mla.compare_mitigation(XGBClassifier(n_estimators=10, max_depth=2), X[:600], y[:600], X[600:],
                                        y[600:], sensitive_features_train=group[:600],
                                        sensitive_features_test=group[600:])
    assert comparison.unmitigated.intersection.demographic_parity_difference.value > 0.4
    assert comparison.mitigated.intersection.demographic_parity_difference.value < 0.2
    assert comparison.accuracy_change.n == 400
