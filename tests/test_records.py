"""Records are plain data: they round-trip through JSON unchanged."""

import json
import math
import re

import pytest

from pytest_mlaudit.records import AuditRecord, Check, Estimate, Gate, number_from_json, number_to_json


def a_record():
    return AuditRecord(
        nodeid="tests/test_x.py::test_y[a]",
        category="robustness",
        name="robust accuracy under FGSM",
        outcome="failed",
        model={"name": "Net", "parameters": 10},
        params={"eps": 0.1, "clip": [0.0, 1.0]},
        metrics={"robust_accuracy": Estimate(0.5, 0.4, 0.6, 100)},
        gates=[Gate("robust_accuracy", ">=", 0.7, 0.5, 0.4, 0.6, "estimate", False, ("EU-AI-Act-Art15",))],
        checks=[Check("deterministic forward pass", False, "differs")],
        extras={"curves": []},
        requirements=["EU-AI-Act-Art15"],
        duration_s=1.5,
        index=2,
        location=("tests/test_x.py", 12),
    )


def test_record_round_trips_through_json():
    record = a_record()
    assert AuditRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_record_dict_has_the_fields_the_spec_names():
    data = a_record().to_dict()
    assert {"nodeid", "category", "outcome", "model", "params", "metrics", "gates", "checks", "duration_s"} <= set(data)
    assert data["metrics"]["robust_accuracy"] == {"value": 0.5, "low": 0.4, "high": 0.6, "n": 100,
                                                  "method": "wilson", "confidence": 0.95}
    assert set(data["gates"][0]) >= {"metric", "op", "threshold", "value", "low", "high", "policy", "passed"}


def test_a_failed_check_makes_the_record_suspect():
    assert a_record().suspect is True
    assert a_record().to_dict()["suspect"] is True


def test_estimate_refuses_an_interval_that_misses_its_value():
    with pytest.raises(ValueError, match="does not contain its value"):
        Estimate(0.9, 0.1, 0.5, 10)


def test_estimate_refuses_nan():
    with pytest.raises(ValueError, match="must be a finite number"):
        Estimate(float("nan"), 0.0, 1.0, 10)


def test_estimate_accepts_a_value_on_either_end_of_its_interval():
    assert (Estimate(0.4, 0.4, 0.6, 10).low, Estimate(0.6, 0.4, 0.6, 10).high) == (0.4, 0.6)


@pytest.mark.parametrize("field, number", [("value", True), ("low", math.inf), ("high", "0.6"), ("high", math.nan)])
def test_estimate_refuses_a_bound_that_is_not_a_finite_number_naming_it(field, number):
    values = {"value": 0.5, "low": 0.4, "high": 0.6, field: number}
    with pytest.raises(ValueError, match=rf"^Estimate.{field} must be a finite number, got {re.escape(repr(number))}$"):
        Estimate(n=10, **values)


def test_an_estimate_prints_its_value_interval_and_n_to_four_places():
    assert str(Estimate(0.5, 0.41234, 0.6, 100)) == "0.5000 [0.4123, 0.6000] (n=100)"


def test_an_estimate_with_counts_round_trips_them_as_a_list_and_back_to_a_tuple():
    estimate = Estimate(0.25, 0.1, 0.5, 8, "newcombe-paired", 0.9, (1, 2, 3, 2))
    data = estimate.to_dict()
    assert data["counts"] == [1, 2, 3, 2]
    assert Estimate.from_dict(json.loads(json.dumps(data))).counts == (1, 2, 3, 2)


def test_an_estimate_without_counts_has_no_counts_key():
    assert "counts" not in Estimate(0.5, 0.4, 0.6, 10).to_dict()
    assert Estimate.from_dict(Estimate(0.5, 0.4, 0.6, 10).to_dict()).counts is None


def test_a_gate_writes_non_finite_numbers_as_strings_and_reads_them_back():
    gate = Gate("loss", "<=", math.inf, 2.0, 1.0, 3.0, "estimate", True, ("R1",))
    data = gate.to_dict()
    assert (data["threshold"], data["requirements"]) == ("Infinity", ["R1"])
    assert Gate.from_dict(json.loads(json.dumps(data, allow_nan=False))) == gate


def test_a_gate_without_requirements_reads_back_with_none():
    data = Gate("m", ">=", 0.5, 0.6, 0.5, 0.7, "estimate", True).to_dict()
    del data["requirements"]
    assert Gate.from_dict(data).requirements == ()


def test_numbers_to_json_and_back():
    assert [number_to_json(v) for v in (0.5, math.nan, math.inf, -math.inf)] == [0.5, "NaN", "Infinity", "-Infinity"]
    assert math.isnan(number_from_json("NaN"))
    assert [number_from_json(v) for v in ("Infinity", "-Infinity", "other", 3)] == [math.inf, -math.inf, "other", 3]


@pytest.mark.parametrize("outcome, handled, counts", [("passed", False, False), ("failed", False, True),
                                                      ("error", False, True), ("failed", True, False),
                                                      ("error", True, False)])
def test_a_failed_or_errored_audit_counts_as_a_failure_unless_its_test_caught_it(outcome, handled, counts):
    assert AuditRecord("t", "c", "a", outcome=outcome, handled=handled).counts_as_failure is counts


def test_records_sort_by_file_line_test_id_and_position():
    record = a_record()
    assert record.sort_key() == ("tests/test_x.py", 12, "tests/test_x.py::test_y[a]", 2)


def test_a_record_dict_lists_its_location_and_reads_back_a_missing_one_as_empty():
    data = a_record().to_dict()
    assert data["location"] == ["tests/test_x.py", 12]
    del data["location"]
    assert AuditRecord.from_dict(data).location == ("", 0)


def test_a_record_with_every_check_passed_is_not_suspect():
    assert AuditRecord("t", "c", "a", checks=[Check("finite", True)]).suspect is False
