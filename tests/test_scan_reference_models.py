"""`python -m pytest_mlaudit scan` end to end on the reference models, from the loader modules in audits/:
the paper's XGBoost fraud pipeline (audits/scan_fraud.py) and the paper's digits CNN (audits/scan_digits.py).

The scan runs in this process; the file it writes runs in a pytest subprocess twice over, as
written (it must pass) and with its model fixture swapped for the loader module's
``load_degraded_model`` (the same model trained on shuffled labels: its accuracy gates must
fail). Both copies run in one subprocess, so the data are built once; the degraded copy skips
the counterexample search, the slowest gate and one a chance-level model has no reason to fail.
"""

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")

from pytest_mlaudit.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


def scan(folder: Path, module: str, monkeypatch) -> str:
    """Scan ``module``'s loaders; the generated file's source."""
    monkeypatch.syspath_prepend(str(ROOT))
    out = folder / "test_generated.py"
    assert main(["scan", "--model", f"{module}:load_model", "--data", f"{module}:load_data", "--out", str(out),
                 "--report", str(folder / "scan.html")]) == 0
    return out.read_text()


def outcomes_as_written_and_degraded(folder: Path, source: str) -> tuple[dict[str, str], dict[str, str]]:
    """Run the generated file and its degraded copy; each test's outcome ("passed" / "failed"), per copy."""
    degraded = source.replace("return load_model()", "return load_degraded_model()").replace(
        "import load_data, load_model", "import load_data, load_degraded_model")
    assert "load_model()" not in degraded and "import load_data, load_degraded_model" in degraded
    (folder / "test_degraded.py").write_text(degraded)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    report = folder / "junit.xml"
    subprocess.run([sys.executable, "-m", "pytest", "test_generated.py", "test_degraded.py", "-q",
                    "-k", "test_generated or not counterexample", "-p", "no:cacheprovider", f"--junitxml={report}"], cwd=folder, env=env, capture_output=True,
                   text=True, timeout=900)
    found: dict[str, dict[str, str]] = {"test_generated": {}, "test_degraded": {}}
    for case in ElementTree.parse(report).iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        found[case.get("classname").split(".")[-1]][case.get("name")] = "failed" if failed else "passed"
    return found["test_generated"], found["test_degraded"]


@pytest.mark.slow
def test_the_fraud_scan_gates_roc_auc_and_its_file_passes_on_the_model_and_fails_on_shuffled_labels(tmp_path,
                                                                                                    monkeypatch):
    pytest.importorskip("xgboost")
    pytest.importorskip("imblearn")
    source = scan(tmp_path, "audits.scan_fraud", monkeypatch)
    for gate in ("assert_balanced_accuracy", "assert_minority_recall", "assert_roc_auc", "assert_no_counterexample",
                 "assert_no_weak_subgroup", "assert_membership_advantage"):
        assert f"mlaudit.{gate}(" in source
    as_written, degraded = outcomes_as_written_and_degraded(tmp_path, source)
    assert len(as_written) == 6 and set(as_written.values()) == {"passed"}
    for gate in ("test_balanced_accuracy", "test_minority_recall", "test_roc_auc"):
        assert degraded[gate] == "failed"


@pytest.mark.slow
def test_the_digits_scan_file_passes_on_the_cnn_and_fails_on_shuffled_labels(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    source = scan(tmp_path, "audits.scan_digits", monkeypatch)
    for gate in ("assert_robust_accuracy", "assert_robustness_curve", "assert_no_counterexample",
                 "assert_no_weak_subgroup"):
        assert f"mlaudit.{gate}(" in source
    as_written, degraded = outcomes_as_written_and_degraded(tmp_path, source)
    assert len(as_written) == 5 and set(as_written.values()) == {"passed"}
    for gate in ("test_accuracy_under_random_noise", "test_fgsm_robustness_curve", "test_pgd_robust_accuracy"):
        assert degraded[gate] == "failed"
