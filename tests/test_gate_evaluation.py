"""Gates as ``a.gate(...)`` declares and the end of an ``mla.audit`` block evaluates them.

The threshold and policy arguments are checked when the gate is declared; when the
block ends each gate is recorded with the metric's value and interval, the gate's
requirements join the record's, and a missed gate (or an ``a.fail``) raises one
AssertionError naming what missed. Hand-built metrics, no model: milliseconds each.
"""

import math

import pytest

import pytest_mlaudit as mla
from pytest_mlaudit.authoring import Threshold, describe_miss, policy_or_default, requirement_list, threshold
from pytest_mlaudit.records import Estimate, Gate

RECALL = Estimate(0.5, 0.4, 0.6, 100, "wilson", 0.9)


def test_at_least_gives_a_greater_or_equal_threshold_as_a_float():
    made = threshold(1, None)
    assert made == Threshold(">=", 1.0) and isinstance(made.value, float)
    assert made.keyword == "at_least"


def test_at_most_gives_a_less_or_equal_threshold():
    made = threshold(None, 0.25)
    assert made == Threshold("<=", 0.25)
    assert made.keyword == "at_most"


@pytest.mark.parametrize("at_least, at_most", [(None, None), (0.1, 0.2)])
def test_exactly_one_threshold_is_required(at_least, at_most):
    with pytest.raises(TypeError, match=r"^give exactly one threshold: at_least=\.\.\. or at_most=\.\.\.$"):
        threshold(at_least, at_most)


@pytest.mark.parametrize("value", [True, "0.5"])
def test_a_threshold_that_is_not_a_number_is_refused_naming_it(value):
    with pytest.raises(TypeError, match=rf"^at_most must be a number, got {value!r}$"):
        threshold(None, value)


def test_a_nan_threshold_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"^at_least is NaN: give the threshold as a number in the metric's range$"):
        threshold(math.nan, None)


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_an_infinite_threshold_is_refused_naming_it(value):
    with pytest.raises(ValueError, match=rf"^at_most={value!r} is not finite"):
        threshold(None, value)


@pytest.mark.parametrize("value", [-0.01, 1.01])
def test_a_threshold_outside_the_bounds_is_refused_naming_the_range(value):
    with pytest.raises(ValueError, match=rf"^at_least={value!r} is outside the metric's range \[0.0, 1.0\]$"):
        threshold(value, None, (0.0, 1.0))


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_a_threshold_on_a_bound_is_accepted(value):
    assert threshold(value, None, (0.0, 1.0)).value == value


def test_without_bounds_any_finite_threshold_is_accepted():
    assert threshold(None, 250.0).value == 250.0


def test_no_policy_takes_the_runs_default():
    with mla.settings(policy="lower"):
        assert policy_or_default(None) == "lower"
    assert policy_or_default("upper") == "upper"


def test_an_unknown_policy_is_refused_listing_the_policies():
    with pytest.raises(ValueError, match=r"^policy must be one of estimate, lower, upper, got 'strict'$"):
        policy_or_default("strict")


def test_requirements_are_a_list_of_tags():
    assert requirement_list(None) == []
    assert requirement_list("EU-AI-Act/15") == ["EU-AI-Act/15"]
    assert requirement_list(("a", "b")) == ["a", "b"]
    assert requirement_list(["a"]) == ["a"]


@pytest.mark.parametrize("requirement", [3, ["a", 3]])
def test_a_requirement_that_is_not_strings_is_refused(requirement):
    with pytest.raises(TypeError, match=r"^requirement must be a string or a list of strings"):
        requirement_list(requirement)


def test_a_miss_names_the_value_interval_confidence_method_threshold_and_policy():
    gate = Gate("recall", ">=", 0.55, 0.5, 0.4, 0.6, "lower", False)
    assert describe_miss("minority recall", gate, RECALL) == (
        "minority recall: recall = 0.5000 (90% CI [0.4000, 0.6000], n=100, wilson) misses at_least=0.55 "
        "under policy 'lower'")
    at_most = Gate("recall", "<=", 0.45, 0.5, 0.4, 0.6, "estimate", False)
    assert describe_miss("a", at_most, RECALL).endswith("misses at_most=0.45 under policy 'estimate'")


def test_each_gate_is_recorded_with_the_metrics_value_interval_and_requirements(mlaudit):
    with mla.audit("custom", "two gates", requirement="R1") as a:
        a.gate("recall", at_least=0.45, policy="estimate", requirement=["R2", "R1"])
        a.gate("recall", at_most=0.7, policy="lower")
        a.metric("recall", RECALL)
    (record,) = mlaudit.records
    assert record.gates == [Gate("recall", ">=", 0.45, 0.5, 0.4, 0.6, "estimate", True, ("R2", "R1")),
                            Gate("recall", "<=", 0.7, 0.5, 0.4, 0.6, "lower", True, ())]
    assert record.requirements == ["R1", "R2"]
    assert record.outcome == "passed"


def test_a_gate_without_a_policy_takes_the_runs_default(mlaudit):
    with mla.settings(policy="upper"), mla.audit("custom", "default policy") as a:
        a.gate("recall", at_least=0.55)
        a.metric("recall", RECALL)
    assert [(gate.policy, gate.passed) for gate in mlaudit.records[0].gates] == [("upper", True)]


def test_missed_gates_fail_the_audit_with_one_message_each_after_the_explicit_failures(mlaudit):
    with pytest.raises(AssertionError) as raised:
        with mla.audit("custom", "misses") as a:
            a.gate("recall", at_least=0.55, policy="estimate")
            a.gate("recall", at_least=0.45, policy="estimate")
            a.gate("recall", at_most=0.55, policy="lower")
            a.fail("mandatory check failed")
            a.metric("recall", RECALL)
    assert str(raised.value).split("\n") == [
        "mandatory check failed",
        "misses: recall = 0.5000 (90% CI [0.4000, 0.6000], n=100, wilson) misses at_least=0.55 under policy 'estimate'",
        "misses: recall = 0.5000 (90% CI [0.4000, 0.6000], n=100, wilson) misses at_most=0.55 under policy 'lower'",
    ]
    (record,) = mlaudit.records
    assert [gate.passed for gate in record.gates] == [False, True, False]
    assert record.outcome == "failed"


def test_a_gate_on_a_metric_never_recorded_errors_naming_the_recorded_ones(mlaudit):
    with pytest.raises(KeyError, match=r"a gate on 'recall', but the audit recorded no such metric; recorded: "
                                       r"precision, f1"):
        with mla.audit("custom", "missing metric") as a:
            a.gate("recall", at_least=0.5)
            a.metric("precision", RECALL)
            a.metric("f1", RECALL)
    assert mlaudit.records[0].outcome == "error"


def test_a_gate_on_an_audit_that_recorded_nothing_says_none(mlaudit):
    with pytest.raises(KeyError, match=r"recorded: none"):
        with mla.audit("custom", "nothing") as a:
            a.gate("recall", at_least=0.5)


def test_a_bad_threshold_fails_when_the_gate_is_declared_before_anything_is_measured():
    measured = []
    with pytest.raises(ValueError, match=r"at_least=2.0 is outside"):
        with mla.audit("custom", "bad threshold") as a:
            a.gate("recall", at_least=2.0, bounds=(0.0, 1.0))
            measured.append(True)
    assert measured == []


def test_fail_refuses_an_empty_message():
    with pytest.raises(TypeError, match=r"^fail\(\) takes a non-empty message, got ''$"):
        with mla.audit("custom", "empty failure") as a:
            a.fail("")
