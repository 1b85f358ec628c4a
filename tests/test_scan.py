"""`python -m pytest_mlaudit scan`: loader functions in, a report and a gated pytest file out."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")
pytest.importorskip("imblearn")

from pytest_mlaudit.__main__ import main

ROOT = Path(__file__).resolve().parents[1]

LOADERS = '''
import numpy as np
from sklearn.linear_model import LogisticRegression

DEGRADED = {degraded}


def load_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1200, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=1200) > 1.0).astype(int)
    return {{"train": (X[:800], y[:800]), "test": (X[800:], y[800:])}}


def load_model():
    X, y = load_data()["train"]
    if DEGRADED:
        y = np.random.default_rng(1).permutation(y)
    return LogisticRegression().fit(X, y)


def not_a_model():
    return "model"
'''


def write_loaders(folder: Path, degraded: bool) -> None:
    (folder / "scan_loaders.py").write_text(LOADERS.format(degraded=degraded))


def run_pytest(folder: Path, test_file: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_generated_file_passes_on_the_scanned_model_and_fails_on_a_degraded_one(tmp_path, monkeypatch, capsys):
    write_loaders(tmp_path, degraded=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    out, report = tmp_path / "test_mlaudit_scan.py", tmp_path / "scan.html"
    assert main(["scan", "--model", "scan_loaders:load_model", "--data", "scan_loaders:load_data",
                 "--out", str(out), "--report", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "[1/" in printed and f"wrote {out}" in printed
    source = out.read_text()
    for gate in ("assert_balanced_accuracy", "assert_minority_recall", "assert_no_counterexample",
                 "assert_no_weak_subgroup", "assert_membership_advantage"):
        assert f"mlaudit.{gate}(" in source
    assert "threshold = low - margin" in source and report.exists()
    assert run_pytest(tmp_path, out).returncode == 0
    write_loaders(tmp_path, degraded=True)
    failed = run_pytest(tmp_path, out)
    assert failed.returncode == 1
    assert "test_balanced_accuracy FAILED" in failed.stdout or "FAILED" in failed.stdout


@pytest.mark.parametrize("model, data, message", [
    ("scan_loaders", "scan_loaders:load_data", "must be 'package.module:function'"),
    ("no_such_module:f", "scan_loaders:load_data", "cannot import no_such_module"),
    ("scan_loaders:missing", "scan_loaders:load_data", "has no attribute 'missing'"),
    ("scan_loaders:not_a_model", "scan_loaders:load_data", "must return a fitted classifier"),
    ("scan_loaders:load_model", "scan_loaders:load_model", "must return (X, y) or a dict"),
])
def test_bad_loaders_get_a_clear_error_and_exit_status_2(tmp_path, monkeypatch, capsys, model, data, message):
    write_loaders(tmp_path, degraded=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["scan", "--model", model, "--data", data, "--out", str(tmp_path / "t.py")]) == 2
    assert message in capsys.readouterr().err
