"""Records are plain data: they round-trip through JSON unchanged."""

import json

import pytest

from pytest_mlaudit.records import AuditRecord, Check, Estimate, Gate


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
