"""The bad-input matrix: every public function of pytest_mlaudit, given bad input, raises one
clear error that names the argument and the problem (never only a traceback from deep inside
torch or scikit-learn), and handles models that are in training mode or not deterministic.

The table is built per family from the same problems (NaN, inf, wrong shapes and dtypes, empty
data, labels out of range, a single class, data outside the domain, bad eps, thresholds, policy,
unfitted models, wrong types); each case changes one argument of a call that works
(``test_the_valid_call_of_every_function_works``), so the error can only come from that
argument. A hypothesis part generates inputs and checks that whatever the outcome, it is a
result, a gate miss, or a ValueError / TypeError (or a documented subclass: LeakageError,
PrivacyLeakError) that names an argument.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

import pytest
from dp_models import OutputPerturbed
from extras import available, need

need("torch")

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.linear_model import LogisticRegression

import pytest_mlaudit as mla

# --------------------------------------------------------------------------- shared fixtures


def tiny_net(dropout: float = 0.0) -> torch.nn.Module:
    """4 features -> 3 classes; with ``dropout``, a model whose training mode is random."""
    torch.manual_seed(0)
    layers = [torch.nn.Linear(4, 16), torch.nn.ReLU()]
    layers += [torch.nn.Dropout(dropout)] if dropout else []
    return torch.nn.Sequential(*layers, torch.nn.Linear(16, 3)).eval()


class NoisyNet(torch.nn.Module):
    """A torch model with randomness in its forward pass whatever its mode."""

    def __init__(self):
        super().__init__()
        self.net = tiny_net()

    def forward(self, x):
        return self.net(x) + torch.randn(x.shape[0], 3)


class JitteryLogisticRegression(LogisticRegression):
    """A logistic regression whose scores and predictions change from call to call."""

    def predict_proba(self, X):
        p = super().predict_proba(X)[:, 1] + np.random.default_rng().uniform(-0.3, 0.3, len(X))
        p = np.clip(p, 0.0, 1.0)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] > 0.5).astype(np.int64)


def dp_factory(epsilon, seed):
    if not available("diffprivlib"):  # without the privacy extra: a DP model from elsewhere
        return OutputPerturbed(epsilon=epsilon, random_state=seed)
    from diffprivlib.models import LogisticRegression as DPLogisticRegression

    return DPLogisticRegression(epsilon=epsilon, data_norm=6.0, random_state=seed)


@dataclass(frozen=True)
class Data:
    net: Any  # the tiny torch model, eval mode
    X_net: Any  # 40 x 4 in [0, 1]
    y_net: Any  # its own labels (3 classes)
    X_train: Any  # binary tabular task: 180 train, 120 test rows, 4 features, ~25% positives
    y_train: Any
    X_test: Any
    y_test: Any
    groups_train: Any  # a sensitive feature, two groups
    groups_test: Any
    fitted: Any  # LogisticRegression fitted on the training split


@functools.cache
def make_data() -> Data:
    net = tiny_net()
    X_net = np.random.default_rng(0).uniform(0.0, 1.0, size=(40, 4)).astype(np.float32)
    with torch.no_grad():
        y_net = net(torch.from_numpy(X_net)).argmax(1).numpy()
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=300) > 0.8).astype(np.int64)
    groups = np.where(rng.random(300) < 0.5, "a", "b")
    fitted = LogisticRegression().fit(X[:180], y[:180])
    return Data(net, X_net, y_net, X[:180], y[:180], X[180:], y[180:], groups[:180], groups[180:], fitted)


@pytest.fixture(scope="module")
def data() -> Data:
    return make_data()


# --------------------------------------------------------------------------- the functions, and a call of each that works

ROBUSTNESS = ("robustness", "assert_robust_accuracy", "robustness_curve", "assert_robustness_curve")
IMBALANCE = ("imbalance", "assert_minority_recall", "assert_minority_precision", "assert_balanced_accuracy",
             "assert_roc_auc", "compare_resamplers")
FAIRNESS = ("fairness", "assert_demographic_parity", "assert_equalized_odds", "assert_disparate_impact",
            "compare_mitigation")
DP = ("dp_utility", "assert_dp_accuracy_floor")
MEMBERSHIP = ("membership_inference", "assert_membership_advantage")
ATTACKS = ("FGSM", "PGD", "BIM", "RandomNoise", "Transfer", "CarliniWagnerL2", "DeepFool", "HopSkipJump", "Square",
           "APGD", "AutoAttack")

# the threshold each assertion gates, and the range of its metric
THRESHOLDS = {
    "assert_robust_accuracy": ("at_least", (0, 1)), "assert_robustness_curve": ("at_least", (0, 1)),
    "assert_minority_recall": ("at_least", (0, 1)), "assert_minority_precision": ("at_least", (0, 1)),
    "assert_balanced_accuracy": ("at_least", (0, 1)), "assert_roc_auc": ("at_least", (0, 1)),
    "assert_demographic_parity": ("at_most", (0, 1)),
    "assert_equalized_odds": ("at_most", (0, 1)), "assert_disparate_impact": ("at_least", (0, 1)),
    "assert_dp_accuracy_floor": ("at_least", (0, 1)), "assert_membership_advantage": ("at_most", (-1, 1)),
    "assert_no_counterexample": ("at_most", (0, 1)), "assert_invariant": ("at_least", (0, 1)),
    "assert_backdoor_success": ("at_most", (0, 1)), "assert_label_flip_accuracy": ("at_least", (0, 1)),
    "assert_extraction_fidelity": ("at_most", (0, 1)), "assert_attribute_inference_advantage": ("at_most", (-1, 1)),
    "assert_universal_fooling_rate": ("at_most", (0, 1)),
}
PASSING_THRESHOLD = {"at_least": 0.0, "at_most": 1.0}


def _robustness(d: Data) -> dict:
    return dict(model=d.net, X=d.X_net, y=d.y_net, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0), sanity_samples=0)


def _imbalance(d: Data) -> dict:
    return dict(model=LogisticRegression(), X_train=d.X_train, y_train=d.y_train, X_test=d.X_test, y_test=d.y_test,
                n_resamples=20)


def _fairness(d: Data) -> dict:
    return dict(model=d.fitted, X=d.X_test, y=d.y_test, sensitive_features=d.groups_test, n_bootstrap=20)


def _dp(d: Data) -> dict:
    return dict(factory=dp_factory, X_train=d.X_train, y_train=d.y_train, X_test=d.X_test, y_test=d.y_test, seeds=2)


def _poisoning(d: Data) -> dict:
    return dict(model_factory=LogisticRegression(), X_train=d.X_train, y_train=d.y_train, X_test=d.X_test,
                y_test=d.y_test)


def _extraction(d: Data) -> dict:
    return dict(victim=d.fitted, X_pool=d.X_train, thief_factory=LogisticRegression(), X_test=d.X_test, y_test=d.y_test)


def _attribute_inference(d: Data) -> dict:
    X = np.column_stack([d.X_test, d.groups_test == "a"]).astype(np.float64)
    return dict(model=LogisticRegression().fit(X, d.y_test), X=X, y=d.y_test, sensitive_column=4)


def _universal(d: Data) -> dict:
    X_craft = np.random.default_rng(2).uniform(0.0, 1.0, size=(20, 4)).astype(np.float32)
    return dict(model=d.net, X=d.X_net, y=d.y_net, eps=0.1, clip=(0.0, 1.0), X_craft=X_craft, epochs=1)


def _membership(d: Data) -> dict:
    return dict(model=d.fitted, X_train=d.X_train, y_train=d.y_train, X_holdout=d.X_test, y_holdout=d.y_test)


VALID: dict[str, Callable[[Data], dict]] = {
    **{name: _robustness for name in ("robustness", "assert_robust_accuracy")},
    **{name: lambda d: {**_robustness(d), "eps": [0.05, 0.1]} for name in ("robustness_curve", "assert_robustness_curve")},
    **{name: _imbalance for name in IMBALANCE},
    "compare_resamplers": lambda d: {**_imbalance(d), "resamplers": {"none": None}},
    **{name: _fairness for name in FAIRNESS},
    "compare_mitigation": lambda d: dict(model=LogisticRegression(), X_train=d.X_train, y_train=d.y_train,
                                         X_test=d.X_test, y_test=d.y_test, sensitive_features_train=d.groups_train,
                                         sensitive_features_test=d.groups_test, n_bootstrap=20),
    "dp_utility": lambda d: {**_dp(d), "epsilons": [1.0]},
    "assert_dp_accuracy_floor": lambda d: {**_dp(d), "epsilon": 1.0},
    **{name: _membership for name in MEMBERSHIP},
    **{name: lambda d: {**_poisoning(d), "trigger": {0: 1.0}, "target_class": 0, "poison_fractions": [0.0, 0.05]}
       for name in ("backdoor", "assert_backdoor_success")},
    "label_flip_curve": lambda d: {**_poisoning(d), "fractions": [0.0, 0.1], "repeats": 2},
    "assert_label_flip_accuracy": lambda d: {**_poisoning(d), "fraction": 0.1, "repeats": 2},
    "model_extraction": lambda d: {**_extraction(d), "budgets": [50]},
    "assert_extraction_fidelity": lambda d: {**_extraction(d), "budget": 50},
    **{name: _attribute_inference for name in ("attribute_inference", "assert_attribute_inference_advantage")},
    **{name: _universal for name in ("universal_perturbation", "assert_universal_fooling_rate")},
    "feature_range": lambda d: dict(X_train=d.X_train),
    "sample_outcomes": lambda d: dict(model=d.net, X=d.X_net, y=d.y_net, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0)),
    "make_attack": lambda d: dict(name="fgsm", eps=0.1),
    "FGSM": lambda d: dict(eps=0.1),
    "PGD": lambda d: dict(eps=0.1),
    "BIM": lambda d: dict(eps=0.1),
    "RandomNoise": lambda d: dict(eps=0.1),
    "Transfer": lambda d: dict(attack=mla.FGSM(eps=0.1), surrogate=d.fitted),
    "CarliniWagnerL2": lambda d: dict(eps=0.1),
    "DeepFool": lambda d: dict(eps=0.1),
    "HopSkipJump": lambda d: dict(eps=0.1),
    "Square": lambda d: dict(eps=0.1),
    "APGD": lambda d: dict(eps=0.1),
    "AutoAttack": lambda d: dict(eps=0.1),
    # search
    **{name: lambda d: dict(model=d.fitted, X=d.X_test, y=d.y_test, space=mla.spaces.box(0.5), samples=3,
                            max_examples=5) for name in ("search_counterexamples", "assert_no_counterexample")},
    **{name: lambda d: dict(model=d.fitted, X=d.X_test, transform=lambda X: X + 0.01)
       for name in ("invariant", "assert_invariant")},
    "weak_subgroups": lambda d: dict(model=d.fitted, X=d.X_test, y=d.y_test, min_size=10),
    "assert_no_weak_subgroup": lambda d: dict(model=d.fitted, X=d.X_test, y=d.y_test, min_size=10, gap_at_most=1.0),
}


def valid_call(name: str, d: Data) -> dict:
    kwargs = VALID[name](d)
    if name in THRESHOLDS:
        side = THRESHOLDS[name][0]
        kwargs[side] = PASSING_THRESHOLD[side]
    return kwargs


def splits(name: str) -> list[tuple[str, str]]:
    """The (features, labels) argument pairs of a function."""
    if name in ROBUSTNESS or name in FAIRNESS[:-1]:
        return [("X", "y")]
    if name in MEMBERSHIP:
        return [("X_train", "y_train"), ("X_holdout", "y_holdout")]
    if name in IMBALANCE or name in DP or name == "compare_mitigation":
        return [("X_train", "y_train"), ("X_test", "y_test")]
    if name == "feature_range":
        return [("X_train", None)]
    return []


# Audits whose inputs are not the matrix's shared data (a training function with canaries, a
# tree ensemble, smoothing's noise parameters, a shadow-model factory): their bad-input
# cases are in their own test files.
OWN_BAD_INPUT_TESTS = {
    "audit_dp_training": "test_privacy_dp_audit.py", "assert_dp_claim": "test_privacy_dp_audit.py",
    "certified_accuracy": "test_certified.py", "assert_certified_accuracy": "test_certified.py",
    "verify_trees": "test_verify_trees.py", "assert_verified_accuracy": "test_verify_trees.py",
    "assert_membership_tpr": "test_privacy_lira.py",
}


def test_every_public_function_is_in_the_matrix():
    assert set(mla.AUDIT_FUNCTIONS) <= set(VALID) | set(OWN_BAD_INPUT_TESTS)
    here = Path(__file__).parent
    assert all(name in (here / file).read_text() for name, file in OWN_BAD_INPUT_TESTS.items())
    attack_classes = {name for name in mla.__all__ if isinstance(getattr(mla, name), type)
                      and callable(getattr(getattr(mla, name), "generate", None))}
    assert attack_classes == set(ATTACKS)


# The valid calls are the baseline each case changes one argument of; each kind of function
# is held to what its valid call is specified to give.
HELPERS = ("feature_range", "sample_outcomes", "make_attack")
AUDITS = sorted(name for name in VALID if name in mla.AUDIT_FUNCTIONS and name not in HELPERS)


@pytest.mark.parametrize("name", AUDITS)
def test_the_valid_call_of_every_audit_records_one_passed_audit(name, data, mlaudit):
    before = len(mlaudit.records)
    getattr(mla, name)(**valid_call(name, data))
    recorded = mlaudit.records[before:]
    assert [(record.outcome, record.error) for record in recorded] == [("passed", None)]
    assert recorded[0].metrics


@pytest.mark.parametrize("name", sorted(THRESHOLDS))
def test_the_valid_call_of_every_assertion_records_its_threshold_as_a_met_gate(name, data, mlaudit):
    getattr(mla, name)(**valid_call(name, data))
    side = THRESHOLDS[name][0]
    gates = mlaudit.records[-1].gates
    assert gates
    assert {(gate.op, gate.threshold, gate.passed) for gate in gates} == {
        (">=" if side == "at_least" else "<=", PASSING_THRESHOLD[side], True)}


@pytest.mark.parametrize("name", ATTACKS)
def test_the_valid_call_of_every_attack_keeps_its_eps(name, data):
    assert getattr(mla, name)(**VALID[name](data)).eps == 0.1


def test_the_valid_call_of_make_attack_builds_the_named_attack_with_its_params(data):
    attack = mla.make_attack(**VALID["make_attack"](data))
    assert (type(attack), attack.eps) == (mla.FGSM, 0.1)


def test_the_valid_call_of_feature_range_gives_the_columnwise_min_and_max(data):
    low, high = mla.feature_range(**VALID["feature_range"](data))
    np.testing.assert_array_equal(low, data.X_train.min(axis=0))
    np.testing.assert_array_equal(high, data.X_train.max(axis=0))


def test_the_valid_call_of_sample_outcomes_gives_the_robustness_audits_per_sample_outcomes(data):
    """The tiny net labels its own inputs, so every sample is right clean; FGSM is deterministic."""
    clean, robust = mla.sample_outcomes(**VALID["sample_outcomes"](data))
    audited = mla.robustness(**_robustness(data))
    assert clean.shape == robust.shape == (40,) and clean.all()
    assert robust.mean() == audited.robust_accuracy.value
    assert audited.robust_accuracy.value < 1.0  # the comparison is not of two all-true arrays


# --------------------------------------------------------------------------- the cases

@dataclass(frozen=True)
class Case:
    function: str
    problem: str
    change: Callable[[dict], dict]  # valid kwargs -> the arguments to replace
    error: type
    match: str

    @property
    def id(self) -> str:
        return f"{self.function}/{self.problem}"


def _with(array, value, at=(1, 2)):
    changed = np.array(array, dtype=np.float64 if np.asarray(array).dtype.kind in "iub" else None, copy=True)
    changed[at[: changed.ndim]] = value
    return changed


def _labels_with(y, value):
    changed = np.array(y, dtype=np.float64 if isinstance(value, float) else np.int64, copy=True)
    changed[1] = value
    return changed


def feature_cases(name: str) -> list[Case]:
    """Problems of a feature array. The fairness audits hand X to the model as it is (a DataFrame
    of strings is fine for a pipeline), so their errors come from model.predict, named as such."""
    model_reads_x = name in FAIRNESS
    cases = []
    for A, _ in splits(name):
        def case(problem, change, error, match):
            cases.append(Case(name, f"{A}-{problem}", change, error, match))

        case("has-NaN", lambda kw, A=A: {A: _with(kw[A], np.nan)}, ValueError, rf"\b{A}\b.*NaN")
        case("has-inf", lambda kw, A=A: {A: _with(kw[A], np.inf)}, ValueError, rf"\b{A}\b.*(infinite|infinity)")
        case("is-1-D", lambda kw, A=A: {A: np.asarray(kw[A])[:, 0]}, ValueError, rf"\b{A}\b.*(at least 2 dimensions|2D)")
        case("is-empty", lambda kw, A=A: {A: np.asarray(kw[A])[:0]}, ValueError, rf"\b{A} is empty")
        case("is-a-string", lambda kw, A=A: {A: "data.csv"}, TypeError, rf"\b{A} must be an array")
        case("is-None", lambda kw, A=A: {A: None}, TypeError, rf"\b{A}\b")
        case("is-ragged", lambda kw, A=A: {A: [[0.1, 0.2], [0.3]]}, TypeError if not model_reads_x else ValueError,
             rf"\b{A}\b")
        if model_reads_x:
            case("is-text", lambda kw, A=A: {A: np.full(np.shape(kw[A]), "abc")}, ValueError,
                 rf"\b{A}\b.*(string|str)")
            case("too-wide-for-the-model", lambda kw, A=A: {A: np.hstack([kw[A], kw[A][:, :1]])}, ValueError,
                 rf"\b{A}\b.*(features|shape)")
        else:
            case("is-text", lambda kw, A=A: {A: np.full(np.shape(kw[A]), "abc")}, TypeError,
                 rf"\b{A} must be numeric, got dtype <U3")
            case("is-complex", lambda kw, A=A: {A: np.asarray(kw[A]) + 1j}, TypeError, rf"\b{A} must be real")
            if name != "feature_range":
                case("too-wide", lambda kw, A=A: {A: np.hstack([kw[A], kw[A][:, :1]])}, ValueError,
                     rf"\b{A}\b.*shape")
    return cases


def label_cases(name: str) -> list[Case]:
    binary = name in FAIRNESS  # labels of two classes, possibly strings: more than two is the error
    cases = []
    for A, B in splits(name):
        if B is None:
            continue

        def case(problem, change, error, match):
            cases.append(Case(name, f"{B}-{problem}", change, error, match))

        two_classes = rf"\b{B} must hold two classes"
        case("wrong-length", lambda kw, B=B: {B: kw[B][:-1]}, ValueError, rf"\b{B} has \d+ labels but {A} has \d+ samples")
        case("is-2-D", lambda kw, B=B: {B: kw[B][:, None]}, ValueError, rf"\b{B} must be a 1-D array")
        case("has-NaN", lambda kw, B=B: {B: _labels_with(kw[B], np.nan)}, ValueError, rf"\b{B} contains .*NaN")
        case("is-a-string", lambda kw, B=B: {B: "labels.csv"}, TypeError, rf"\b{B} must be an array")
        case("non-integer", lambda kw, B=B: {B: _labels_with(kw[B], 0.5)}, ValueError,
             two_classes if binary else rf"\b{B} must hold integer class labels")
        case("negative", lambda kw, B=B: {B: _labels_with(kw[B], -1)}, ValueError,
             two_classes if binary else rf"\b{B} has negative label -1")
        # out of range: a label the model cannot output (robustness, membership) or that the
        # training split does not have (the test labels of audits that fit the model)
        if binary or name in ROBUSTNESS or name in MEMBERSHIP or B == "y_test":
            case("out-of-range", lambda kw, B=B: {B: _labels_with(kw[B], 7)}, ValueError,
                 two_classes if binary else rf"\b{B} has labels? \[?7")
        # a single class: what a class-balance, fairness or training audit cannot work with
        if binary or name in IMBALANCE:
            case("single-class", lambda kw, B=B: {B: np.zeros_like(kw[B])}, ValueError,
                 rf"\b{B} has no sample of positive_label=1")
        elif name in DP and B == "y_train":
            case("single-class", lambda kw, B=B: {B: np.zeros_like(kw[B])}, ValueError, rf"\b{B} holds a single class")
    return cases


def threshold_cases(name: str) -> list[Case]:
    if name not in THRESHOLDS:
        return []
    side, (low, high) = THRESHOLDS[name]
    other = "at_most" if side == "at_least" else "at_least"
    below = -0.1 if low == 0 else -1.5
    cases = [
        Case(name, f"{side}-above-range", lambda kw: {side: 1.5}, ValueError, rf"{side}=1.5 is outside the metric's range"),
        Case(name, f"{side}-below-range", lambda kw: {side: below}, ValueError,
             rf"{side}={below} is outside the metric's range"),
        Case(name, f"{side}-is-NaN", lambda kw: {side: math.nan}, ValueError, rf"\b{side}\b.*(NaN|not finite)"),
        Case(name, f"{side}-is-a-string", lambda kw: {side: "0.5"}, TypeError, rf"{side} must be a number"),
        Case(name, "policy-unknown", lambda kw: {"policy": "optimistic"}, ValueError, r"policy must be one of"),
    ]
    if other in inspect.signature(getattr(mla, name)).parameters:
        cases.append(Case(name, "both-thresholds", lambda kw: {"at_least": 0.1, "at_most": 0.9}, TypeError,
                          r"give exactly one threshold: at_least=\.\.\. or at_most=\.\.\."))
    if name != "assert_disparate_impact":  # without a threshold it is the four-fifths rule, at_least=0.8
        cases.append(Case(name, "no-threshold", lambda kw: {side: None}, TypeError, r"give exactly one threshold"))
    return cases


def common_cases(name: str) -> list[Case]:
    if name[0].isupper() or name in ("feature_range", "make_attack", "sample_outcomes"):  # no requirement=
        return []
    return [Case(name, "requirement-is-a-number", lambda kw: {"requirement": 3}, TypeError,
                 r"requirement must be a string or a list of strings")]


def model_cases(name: str) -> list[Case]:
    unfitted = r"\bmodel\b.*not fitted"
    if name in ROBUSTNESS:
        return [
            Case(name, "model-is-a-list", lambda kw: {"model": [1, 2]}, TypeError, r"model must be a torch.nn.Module"),
            Case(name, "model-is-an-unfitted-LogisticRegression", lambda kw: {"model": LogisticRegression()},
                 ValueError, unfitted),
            Case(name, "model-returns-probabilities",
                 lambda kw: {"model": torch.nn.Sequential(tiny_net(), torch.nn.Softmax(dim=1))}, ValueError,
                 r"model returns probabilities"),
        ]
    if name in IMBALANCE:
        cases = [Case(name, "model-is-a-list", lambda kw: {"model": [1, 2]}, TypeError,
                      r"model must be a classifier with fit and predict")]
        if name != "compare_resamplers":
            cases.append(Case(name, "model-is-unfitted-but-prefit", lambda kw: {"model": LogisticRegression(),
                                                                                "prefit": True},
                              ValueError, unfitted))
        return cases
    if name in FAIRNESS:
        return [
            Case(name, "model-is-a-list", lambda kw: {"model": [1, 2]}, TypeError,
                 r"model must be a (fitted )?classifier"),
            Case(name, "model-is-unfitted", lambda kw: {"model": LogisticRegression(), "prefit": True}
                 if name == "compare_mitigation" else {"model": LogisticRegression()}, ValueError, unfitted),
        ]
    if name in MEMBERSHIP:
        return [
            Case(name, "model-is-a-list", lambda kw: {"model": [1, 2]}, TypeError,
                 r"model must be a fitted classifier with predict_proba"),
            Case(name, "model-is-unfitted", lambda kw: {"model": LogisticRegression()}, ValueError, unfitted),
            Case(name, "X-too-wide-for-the-model", lambda kw: {"X_train": np.hstack([kw["X_train"]] * 2),
                                                               "X_holdout": np.hstack([kw["X_holdout"]] * 2)},
                 ValueError, r"model could not be applied to X_train"),
        ]
    if name in DP:
        return [
            Case(name, "factory-is-a-list", lambda kw: {"factory": [1, 2]}, TypeError, r"factory must be a callable"),
            Case(name, "factory-takes-no-arguments", lambda kw: {"factory": lambda: None}, TypeError,
                 r"factory\(epsilon, seed\) raised TypeError"),
            Case(name, "factory-returns-a-non-private-model", lambda kw: {"factory": lambda e, s: LogisticRegression()},
                 TypeError, r"factory returned .*LogisticRegression, which has no epsilon parameter"),
            Case(name, "factory-returns-a-string", lambda kw: {"factory": lambda e, s: "model"}, TypeError,
                 r"factory\(epsilon, seed\) must return an unfitted estimator"),
        ]
    return []


def argument_cases(name: str) -> list[Case]:
    """Problems of the other arguments, function by function."""
    def case(problem, change, error, match):
        return Case(name, problem, lambda kw: change, error, match)

    if name in ROBUSTNESS:
        cases = [
            case("clip-is-a-number", {"clip": 1.0}, TypeError, r"clip must be a pair \(low, high\)"),
            case("clip-low-above-high", {"clip": (1.0, 0.0)}, ValueError, r"clip low must be below high"),
            case("clip-has-NaN", {"clip": (0.0, math.nan)}, ValueError, r"clip bounds must be finite"),
            case("X-outside-the-domain", {"clip": (0.0, 0.5)}, ValueError,
                 r"X has \d+ values outside the declared domain clip=\(0, 0.5\)"),
            case("clip-of-the-wrong-shape", {"clip": (np.zeros(3), np.ones(3))}, ValueError,
                 r"clip bounds of shape \(3,\) do not fit samples of shape \(4,\)"),
            case("attack-is-a-string", {"attack": "fgsm"}, TypeError, r"attack must be an attack object"),
            case("attack-is-Square-on-tabular-data", {"attack": mla.Square(eps=0.1)}, ValueError,
                 r"Square attacks images"),
            case("batch_size-is-zero", {"batch_size": 0}, ValueError, r"batch_size must be a positive integer, got 0"),
            case("batch_size-is-a-string", {"batch_size": "8"}, TypeError, r"batch_size must be an integer, got '8'"),
            case("sanity_samples-is-negative", {"sanity_samples": -1}, ValueError,
                 r"sanity_samples must be a non-negative integer, got -1"),
            case("sanity_samples-is-a-float", {"sanity_samples": 2.5}, TypeError,
                 r"sanity_samples must be an integer, got 2.5"),
            case("strict-is-a-string", {"strict": "yes"}, TypeError, r"strict must be True or False, got 'yes'"),
            case("device-unknown", {"device": "tpu"}, ValueError, r"device must be 'auto', 'cpu' or 'cuda'"),
            case("normalization-is-a-string", {"normalization": "imagenet"}, TypeError,
                 r"normalization must be a pair \(mean, std\)"),
            case("normalization-std-is-zero", {"normalization": (0.5, 0.0)}, ValueError,
                 r"normalization std must be positive"),
        ]
        if "curve" in name:
            cases += [
                case("eps-negative", {"eps": [0.1, -0.1]}, ValueError, r"eps must be non-negative, got -0.1"),
                case("eps-is-NaN", {"eps": [math.nan]}, ValueError, r"eps must be a finite number, got nan"),
                case("eps-is-a-number", {"eps": 0.1}, TypeError, r"eps must be a sequence of budgets"),
                case("eps-is-a-string", {"eps": "0.1"}, TypeError, r"eps must be a sequence of budgets"),
                case("eps-is-empty", {"eps": []}, ValueError, r"eps is empty"),
                case("eps-repeated", {"eps": [0.1, 0.1]}, ValueError, r"eps has repeated values"),
            ]
        else:
            cases.append(Case(name, "attack-eps-negative", lambda kw: {"attack": mla.FGSM(eps=-0.1)}, ValueError,
                              r"FGSM eps must be non-negative, got -0.1"))
        if name == "assert_robustness_curve":
            cases += [
                case("at_least-one-per-eps-of-the-wrong-length", {"at_least": [0.5]}, ValueError,
                     r"at_least has 1 thresholds for 2 eps values"),
                case("at_least-per-eps-above-range", {"at_least": [0.5, 1.5]}, ValueError,
                     r"at_least=1.5 is outside the metric's range"),
            ]
        return cases
    if name in IMBALANCE:
        cases = [
            case("positive_label-is-a-string", {"positive_label": "1"}, TypeError,
                 r"positive_label must be an integer class label"),
            case("positive_label-absent", {"positive_label": 5}, ValueError, r"y_test has no sample of positive_label=5"),
            case("prefit-is-a-string", {"prefit": "yes"}, TypeError, r"prefit must be True or False"),
            case("leakage_guard-unknown", {"leakage_guard": "off"}, ValueError, r"leakage_guard must be one of"),
            case("n_resamples-is-zero", {"n_resamples": 0}, ValueError, r"n_resamples must be a positive integer"),
            case("n_resamples-is-a-string", {"n_resamples": "many"}, TypeError, r"n_resamples must be an integer"),
            Case(name, "X_test-is-the-training-split", lambda kw: {"X_test": kw["X_train"], "y_test": kw["y_train"]},
                 mla.LeakageError, r"(?s)X_test.*rows also occur in the training split"),
        ]
        if name == "compare_resamplers":
            cases = [c for c in cases if "prefit" not in c.problem] + [
                case("resamplers-is-a-list", {"resamplers": ["SMOTE"]}, TypeError,
                     r"resamplers must be a non-empty dict"),
                case("resamplers-has-a-string-sampler", {"resamplers": {"smote": "SMOTE"}}, TypeError,
                     r"resamplers\['smote'\] must be an imbalanced-learn sampler"),
                case("resamplers-has-a-number-as-name", {"resamplers": {1: None}}, TypeError,
                     r"resamplers keys must be names"),
            ]
        else:
            cases += [
                case("resampler-is-a-string", {"resampler": "SMOTE"}, TypeError,
                     r"resampler must be an imbalanced-learn sampler"),
                case("resampler-with-prefit", {"resampler": _smote(), "prefit": True, "model": make_data().fitted},
                     ValueError, r"resampler= needs a model to fit"),
            ]
        return cases
    if name in FAIRNESS:
        s = "sensitive_features_test" if name == "compare_mitigation" else "sensitive_features"
        cases = [
            case(f"{s}-wrong-length", {s: make_data().groups_test[:-1]}, ValueError, rf"{s} has 119 rows but X"),
            case(f"{s}-is-None", {s: None}, TypeError, rf"{s} must be an array"),
            case(f"{s}-single-group", {s: np.full(120, "a")}, ValueError, rf"{s} column .* has a single group"),
            case(f"{s}-has-NaN", {s: np.where(np.arange(120) == 3, np.nan, 1.0)}, ValueError,
                 rf"{s} column .* has 1 missing values"),
            case("positive_label-absent", {"positive_label": 5}, ValueError, r"has no sample of positive_label=5"),
            case("n_bootstrap-is-zero", {"n_bootstrap": 0}, ValueError, r"n_bootstrap must be a positive integer"),
            case("n_bootstrap-is-a-string", {"n_bootstrap": "many"}, TypeError, r"n_bootstrap must be an integer"),
        ]
        if name == "compare_mitigation":
            cases += [
                case("constraints-unknown", {"constraints": "parity"}, ValueError, r"constraints must be one of"),
                case("objective-unknown", {"objective": "happiness"}, ValueError, r"objective must be one of"),
                case("prefit-is-a-string", {"prefit": "yes"}, TypeError, r"prefit must be True or False"),
                case("sensitive_features_train-other-columns",
                     {"sensitive_features_train": {"sex": make_data().groups_train}}, ValueError,
                     r"sensitive_features_train has columns \['sex'\] but sensitive_features_test"),
            ]
        return cases
    if name in DP:
        e = "epsilons" if name == "dp_utility" else "epsilon"
        bad_eps = [-1.0] if name == "dp_utility" else -1.0
        cases = [
            case(f"{e}-negative", {e: bad_eps}, ValueError, rf"{e} must be positive, got -1.0"),
            case(f"{e}-zero", {e: [0.0] if e == "epsilons" else 0.0}, ValueError, rf"{e} must be positive, got 0.0"),
            case(f"{e}-is-NaN", {e: math.nan}, ValueError, rf"{e} must be a finite number, got nan"),
            case(f"{e}-is-a-string", {e: "1.0"}, TypeError, rf"{e} must be a (list of positive numbers|number)"),
            case("seeds-is-one", {"seeds": 1}, ValueError, r"seeds must be at least 2"),
            case("seeds-is-a-string", {"seeds": "20"}, TypeError, r"seeds must be an integer, got '20'"),
            case("baseline-is-a-string", {"baseline": "LogisticRegression"}, TypeError,
                 r"baseline must be an unfitted estimator"),
            case("baseline-is-private", {"baseline": dp_factory(1.0, 0)}, ValueError,
                 r"baseline must be the non-private model"),
            case("allow_privacy_leak-is-a-string", {"allow_privacy_leak": "no"}, TypeError,
                 r"allow_privacy_leak must be True or False"),
        ]
        if name == "dp_utility":
            cases += [case("epsilons-empty", {e: []}, ValueError, r"epsilons is empty"),
                      case("epsilons-repeated", {e: [1.0, 1.0]}, ValueError, r"epsilons has repeated values")]
        else:
            cases.append(case("statistic-unknown", {"statistic": "median"}, ValueError, r"statistic must be one of"))
        return cases
    if name in MEMBERSHIP:
        return [
            case("delta-negative", {"delta": -0.1}, ValueError, r"delta must be non-negative"),
            case("delta-one", {"delta": 1.0}, ValueError, r"delta must be below 1"),
            case("delta-is-a-string", {"delta": "1e-5"}, TypeError, r"delta must be a number"),
            Case(name, "X_train-too-few-members", lambda kw: {"X_train": kw["X_train"][:3], "y_train": kw["y_train"][:3]},
                 ValueError, r"need at least 4 members"),
        ]
    if name == "feature_range":
        return [case("margin-negative", {"margin": -0.1}, ValueError, r"margin must be non-negative"),
                case("margin-is-a-string", {"margin": "5%"}, TypeError, r"margin must be a number")]
    if name == "make_attack":
        return [
            case("name-unknown", {"name": "fgsm2"}, ValueError, r"unknown attack 'fgsm2'; known attacks: .*bim"),
            case("name-is-a-number", {"name": 3}, TypeError, r"name must be an attack name \(str\), got 3"),
            case("eps-negative", {"eps": -0.1}, ValueError, r"FGSM eps must be non-negative"),
            case("unknown-parameter", {"steps": 10}, TypeError, r"make_attack\('fgsm'\): .*'steps'"),
        ]
    return attack_cases(name)


def _smote():
    from imblearn.over_sampling import SMOTE

    return SMOTE()


ATTACK_PARAMETER_CASES = {
    # attack: [(problem, arguments, error, match)]
    "FGSM": [("eps-negative", {"eps": -0.1}, ValueError, r"FGSM eps must be non-negative"),
             ("eps-is-NaN", {"eps": math.nan}, ValueError, r"FGSM eps must be a finite number"),
             ("eps-is-inf", {"eps": math.inf}, ValueError, r"FGSM eps must be a finite number"),
             ("eps-is-a-string", {"eps": "0.1"}, TypeError, r"FGSM eps must be a number")],
    "PGD": [("eps-negative", {"eps": -0.1}, ValueError, r"PGD eps must be non-negative"),
            ("norm-unknown", {"norm": "l1"}, ValueError, r"norm must be 'inf' \(L-inf\) or 2 \(L2\), got 'l1'"),
            ("steps-zero", {"steps": 0}, ValueError, r"PGD steps must be a positive integer"),
            ("steps-is-a-float", {"steps": 2.5}, TypeError, r"PGD steps must be an integer"),
            ("step_size-negative", {"step_size": -0.01}, ValueError, r"PGD step_size must be non-negative"),
            ("restarts-without-random-start", {"restarts": 2, "random_start": False}, ValueError,
             r"PGD restarts > 1 need random_start=True"),
            ("random_start-is-a-string", {"random_start": "no"}, TypeError, r"PGD random_start must be True or False")],
    "BIM": [("eps-negative", {"eps": -0.1}, ValueError, r"BIM eps must be non-negative"),
            ("steps-zero", {"steps": 0}, ValueError, r"BIM steps must be a positive integer"),
            ("early_stop-is-a-string", {"early_stop": "yes"}, TypeError, r"BIM early_stop must be True or False")],
    "RandomNoise": [("eps-negative", {"eps": -0.1}, ValueError, r"RandomNoise eps must be non-negative"),
                    ("norm-unknown", {"norm": 1}, ValueError, r"norm must be 'inf'"),
                    ("draws-zero", {"draws": 0}, ValueError, r"RandomNoise draws must be a positive integer")],
    "Transfer": [("attack-is-a-string", {"attack": "pgd"}, TypeError, r"Transfer attack must be an attack object"),
                 ("surrogate-is-a-list", {"surrogate": [1, 2]}, TypeError, r"Transfer surrogate must be a torch.nn.Module"),
                 ("surrogate-is-unfitted", {"surrogate": LogisticRegression()}, ValueError,
                  r"Transfer surrogate \(LogisticRegression\) is not fitted")],
    "CarliniWagnerL2": [("eps-negative", {"eps": -0.1}, ValueError, r"CarliniWagnerL2 eps must be non-negative"),
                        ("learning_rate-zero", {"learning_rate": 0.0}, ValueError,
                         r"CarliniWagnerL2 learning_rate must be positive"),
                        ("max_iter-zero", {"max_iter": 0}, ValueError, r"CarliniWagnerL2 max_iter must be a positive"),
                        ("batch_size-is-a-string", {"batch_size": "128"}, TypeError,
                         r"CarliniWagnerL2 batch_size must be an integer")],
    "DeepFool": [("eps-negative", {"eps": -0.1}, ValueError, r"DeepFool eps must be non-negative"),
                 ("overshoot-negative", {"overshoot": -0.02}, ValueError, r"DeepFool overshoot must be non-negative"),
                 ("max_iter-zero", {"max_iter": 0}, ValueError, r"DeepFool max_iter must be a positive integer")],
    "HopSkipJump": [("eps-negative", {"eps": -0.1}, ValueError, r"HopSkipJump eps must be non-negative"),
                    ("norm-unknown", {"norm": "l0"}, ValueError, r"norm must be 'inf'"),
                    ("max_eval-zero", {"max_eval": 0}, ValueError, r"HopSkipJump max_eval must be a positive integer")],
    "Square": [("eps-negative", {"eps": -0.1}, ValueError, r"Square eps must be non-negative"),
               ("p_init-zero", {"p_init": 0.0}, ValueError, r"Square p_init must be positive"),
               ("p_init-above-one", {"p_init": 1.5}, ValueError, r"Square p_init must be at most 1"),
               ("restarts-zero", {"restarts": 0}, ValueError, r"Square restarts must be a positive integer")],
}


def attack_cases(name: str) -> list[Case]:
    return [Case(name, problem, lambda kw, arguments=arguments: arguments, error, match)
            for problem, arguments, error, match in ATTACK_PARAMETER_CASES.get(name, [])]


def all_cases() -> list[Case]:
    cases = []
    for name in sorted(VALID):
        for build in (feature_cases, label_cases, model_cases, argument_cases, threshold_cases, common_cases):
            cases += build(name)
    return cases


CASES = all_cases()


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_bad_input_gets_one_clear_error(case, data):
    kwargs = valid_call(case.function, data)
    with pytest.raises(case.error, match=case.match) as raised:
        kwargs.update(case.change(kwargs))
        getattr(mla, case.function)(**kwargs)
    assert type(raised.value) is case.error, f"{type(raised.value).__name__}: {raised.value}"


# --------------------------------------------------------------------------- models in training mode, non-deterministic models

TORCH_MODEL_FUNCTIONS = ROBUSTNESS + MEMBERSHIP


def _torch_call(name: str, d: Data, model) -> dict:
    kwargs = valid_call(name, d)
    kwargs["model"] = model
    if name in MEMBERSHIP:
        kwargs.update(X_train=d.X_net[:20], y_train=d.y_net[:20], X_holdout=d.X_net[20:], y_holdout=d.y_net[20:])
    else:
        kwargs["sanity_samples"] = 8
    return kwargs


@pytest.mark.parametrize("name", TORCH_MODEL_FUNCTIONS)
def test_a_model_in_training_mode_is_audited_in_eval_mode_and_left_in_training_mode(name, data, mlaudit):
    model = tiny_net(dropout=0.5).train()
    getattr(mla, name)(**_torch_call(name, data, model))
    assert model.training and all(module.training for module in model.modules())
    in_training = mlaudit.records[-1]
    assert [check.name for check in in_training.checks if "deterministic" in check.name and not check.passed] == []
    getattr(mla, name)(**_torch_call(name, data, model.eval()))
    assert not model.training
    metric = "auc" if name in MEMBERSHIP else "clean_accuracy"  # measures that draw no random numbers
    assert in_training.metrics[metric] == mlaudit.records[-1].metrics[metric]  # dropout was off during the audit


def _noisy_model_call(name: str, d: Data) -> dict:
    if name in TORCH_MODEL_FUNCTIONS:
        return _torch_call(name, d, NoisyNet())
    kwargs = valid_call(name, d)
    fits_a_clone = name in IMBALANCE or name == "compare_mitigation"
    model = JitteryLogisticRegression()
    kwargs["model"] = model if fits_a_clone else model.fit(d.X_train, d.y_train)
    return kwargs


@pytest.mark.parametrize("name", ROBUSTNESS + IMBALANCE + FAIRNESS + MEMBERSHIP)
def test_a_non_deterministic_model_is_flagged(name, data, mlaudit):
    """The audit completes, and its record carries a failed determinism check (the record is suspect)."""
    getattr(mla, name)(**_noisy_model_call(name, data))
    failed = [check.name for check in mlaudit.records[-1].checks if not check.passed]
    assert any("deterministic" in check for check in failed), failed


@pytest.mark.parametrize("name", ROBUSTNESS)
def test_a_non_deterministic_model_fails_a_strict_robustness_audit(name, data):
    with pytest.raises(AssertionError, match="sanity check 'deterministic forward pass' failed"):
        getattr(mla, name)(**_noisy_model_call(name, data), strict=True)


# --------------------------------------------------------------------------- generated inputs

def _argument_names(name: str) -> set[str]:
    target = getattr(mla, name)
    if is_dataclass(target):
        return {field.name for field in fields(target)} | {name}
    return set(inspect.signature(target).parameters) | {"model", "X", "y"}


def check_outcome(name: str, call: Callable[[], Any]) -> None:
    """A result, a gate miss of an assertion, or a ValueError/TypeError naming an argument."""
    try:
        call()
    except AssertionError as exc:
        assert name.startswith("assert_") and "misses" in str(exc), str(exc)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        named = [arg for arg in _argument_names(name) if re.search(rf"(?<![A-Za-z_]){re.escape(arg)}(?![A-Za-z])", message)]
        assert named, f"{type(exc).__name__} names no argument of {name}: {message}"


ELEMENTS = st.one_of(st.floats(0.0, 1.0, width=32), st.sampled_from([math.nan, math.inf, -math.inf, -1.0, 2.0]))
DTYPES = st.sampled_from([np.float32, np.float64, np.int64, np.bool_, np.complex64, np.dtype("U3")])


@st.composite
def feature_arrays(draw):
    dtype = np.dtype(draw(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=8))
    if dtype.kind == "f":
        return draw(hnp.arrays(dtype, shape, elements=ELEMENTS))
    return draw(hnp.arrays(dtype, shape))


GENERATED_X = ("robustness", "assert_robust_accuracy", "imbalance", "fairness", "membership_inference",
               "dp_utility", "feature_range")
# derandomize: every run of the suite draws the same examples (raise max_examples locally to explore further)
FAST = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(name=st.sampled_from(GENERATED_X), X=feature_arrays(), aligned=st.booleans())
def test_generated_features_give_a_result_or_a_clear_error(data, name, X, aligned):
    """``aligned`` keeps the labels one per row (when X is short enough), so some calls get past the shape checks."""
    kwargs = valid_call(name, data)
    A, B = splits(name)[-1]
    kwargs[A] = X
    if aligned and B is not None and np.ndim(X) >= 1 and len(X) <= len(kwargs[B]):
        kwargs[B] = kwargs[B][: len(X)]
    check_outcome(name, lambda: getattr(mla, name)(**kwargs))


LABEL_VALUES = st.one_of(st.integers(-2, 8), st.sampled_from([math.nan, math.inf, 0.5, 1.0, -0.0]))


@FAST
@given(name=st.sampled_from(tuple(n for n in GENERATED_X if n != "feature_range") + ("compare_mitigation",)),
       labels=st.lists(LABEL_VALUES, min_size=0, max_size=6), spread=st.booleans(), two_d=st.booleans())
def test_generated_labels_give_a_result_or_a_clear_error(data, name, labels, spread, two_d):
    """Labels are spread over all rows (cycled) or given as drawn (a short list: a length error)."""
    kwargs = valid_call(name, data)
    _, B = splits(name)[-1]
    y = np.asarray(labels)
    if spread and y.size:
        y = np.resize(y, len(kwargs[B]))
    kwargs[B] = y[:, None] if two_d else y
    check_outcome(name, lambda: getattr(mla, name)(**kwargs))


THRESHOLD_VALUES = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3),
                             st.booleans(), st.sampled_from(["0.5", [0.5], np.float32(0.5), np.int64(1)]))


@FAST
@given(name=st.sampled_from(["assert_robust_accuracy", "assert_minority_recall", "assert_demographic_parity",
                             "assert_disparate_impact", "assert_membership_advantage"]),
       threshold=THRESHOLD_VALUES, policy=st.sampled_from([None, "point", "lower", "upper", "strict", 1]))
def test_generated_thresholds_give_a_result_or_a_clear_error(data, name, threshold, policy):
    kwargs = valid_call(name, data)
    kwargs[THRESHOLDS[name][0]] = threshold
    kwargs["policy"] = policy
    check_outcome(name, lambda: getattr(mla, name)(**kwargs))


EPS_VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 2), st.none(),
                       st.sampled_from(["0.1", np.float32(0.1), np.float64(-0.1)]))


@FAST
@given(attack=st.sampled_from(ATTACKS[:4] + ("Square", "CarliniWagnerL2")), eps=EPS_VALUES,
       curve=st.lists(EPS_VALUES, max_size=3))
def test_generated_eps_give_a_result_or_a_clear_error(data, attack, eps, curve):
    def run():
        built = getattr(mla, attack)(eps=eps)
        mla.robustness_curve(data.net, data.X_net[:8], data.y_net[:8], attack=built, eps=curve, clip=(0.0, 1.0),
                             sanity_samples=0)

    if attack in ("Square", "CarliniWagnerL2"):  # only the parameters: running them is slow or needs images
        check_outcome(attack, lambda: getattr(mla, attack)(eps=eps))
    else:
        check_outcome("robustness_curve", run)
