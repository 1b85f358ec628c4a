"""The custom audit of docs/writing-audits.md works as the page says: its code blocks are run here.

Each block preceded by ``<!-- example: NAME -->`` is the file NAME of an example
project; the tests write them out and run them, directly and through pytest.
"""

import json
import re
import runpy
from pathlib import Path

import pytest

import pytest_mlaudit as mla

DOC = Path(__file__).resolve().parent.parent / "docs" / "writing-audits.md"
EXAMPLE = re.compile(r"<!-- example: (\S+) -->\n```python\n(.*?)```", re.DOTALL)


def example_files() -> dict[str, str]:
    return {name: code for name, code in EXAMPLE.findall(DOC.read_text(encoding="utf-8"))}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The page's files written to a directory that is importable."""
    for name, code in example_files().items():
        (tmp_path / name).write_text(code, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_the_page_holds_the_audit_its_test_a_script_and_a_family_plugin():
    assert sorted(example_files()) == ["calibration_audit.py", "calibration_script.py", "conftest.py",
                                       "test_calibration.py"]


def test_expected_calibration_error_is_the_weighted_gap_between_accuracy_and_confidence(project):
    import numpy as np
    from calibration_audit import expected_calibration_error

    confidence = np.array([0.95, 0.95, 0.55, 0.55])
    correct = np.array([1.0, 1.0, 1.0, 0.0])
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.5 * 0.05 + 0.5 * 0.05)


def test_the_script_measures_under_its_settings_and_passes_its_gate(project, capsys, mlaudit):
    runpy.run_path(str(project / "calibration_script.py"), run_name="__main__")
    (record,) = mlaudit.records
    ece = record.metrics["ece"]
    assert ece.confidence == 0.9 and ece.method == "bootstrap-percentile" and ece.n == 2000
    assert 0.0 <= ece.low <= ece.value <= ece.high <= 0.1
    assert record.category == "calibration" and record.params == {"bins": 10}
    assert [(gate.metric, gate.op, gate.threshold, gate.passed) for gate in record.gates] == [("ece", "<=", 0.1, True)]
    assert [check.passed for check in record.checks] == [True]
    assert record.extras["tables"][0]["columns"] == ["bin", "samples", "mean confidence", "accuracy"]
    assert capsys.readouterr().out.startswith(f"ECE {ece.value:.3f}, 90% interval")


def test_a_threshold_outside_the_metrics_range_fails_before_measuring(project):
    import numpy as np
    from calibration_audit import assert_calibrated

    class Unused:
        def predict_proba(self, X):
            raise AssertionError("measured despite a bad threshold")

    with pytest.raises(ValueError, match=r"at_most=1.5 is outside the metric's range \[0.0, 1.0\]"):
        assert_calibrated(Unused(), np.zeros((4, 2)), np.zeros(4), at_most=1.5)


def test_a_missed_gate_names_the_value_interval_threshold_and_policy(project):
    from calibration_audit import assert_calibrated
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=600, random_state=0)
    model = LogisticRegression().fit(X[:300], y[:300])
    with mla.settings(seed=1), pytest.raises(AssertionError, match=(
            r"expected calibration error: ece = \d\.\d{4} \(95% CI \[\d\.\d{4}, \d\.\d{4}\], n=300, "
            r"bootstrap-percentile\) misses at_most=0 under policy 'estimate'")):
        assert_calibrated(model, X[300:], y[300:], at_most=0.0)


@pytest.mark.slow
def test_under_xdist_the_report_shows_the_audit_its_gate_check_requirements_and_family_section(pytester):
    for name, code in example_files().items():
        if name != "calibration_script.py":
            (pytester.path / name).write_text(code, encoding="utf-8")
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "--mlaudit-report=audit.html",
                                           "--mlaudit-json=audit.json")
    result.assert_outcomes(passed=1)
    document = json.loads((pytester.path / "audit.json").read_text())
    (audit,) = document["audits"]
    assert audit["category"] == "calibration" and audit["name"] == "expected calibration error"
    assert [(row["id"], row["verdict"]) for row in document["requirements"]] == [
        ("EU-AI-Act-Art15", "PASS"), ("NIST-AI-RMF-MEASURE-2.5", "PASS")]
    html = (pytester.path / "audit.html").read_text()
    assert "expected calibration error" in html
    assert "<td>ece &lt;= 0.1</td>" in html
    assert "<td>at least 10 samples in every non-empty bin</td>" in html
    assert '<span class="muted">(EU-AI-Act-Art15)</span>' in html
    assert '<span class="muted">(NIST-AI-RMF-MEASURE-2.5)</span>' in html
    assert "<h2>Calibration overview</h2>" in html and "<table class='calibration'>" in html
    assert "test_calibration.py::test_credit_model_is_calibrated" in html
