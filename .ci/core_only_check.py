"""In the core-only environment: the plugin loads, the report command renders JSON, and
each audit family raises MissingExtraError naming its library and extra."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import pytest_mlaudit as mla

X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])


def dp_factory(epsilon, seed):
    from diffprivlib.models import LogisticRegression

    return LogisticRegression(epsilon=epsilon, random_state=seed)


CALLS = {
    "robustness": lambda: mla.robustness(object(), X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0)),
    "imbalance": lambda: mla.imbalance(object(), X, y, X, y),
    "fairness": lambda: mla.fairness(object(), X, y, sensitive_features=y),
    "privacy": lambda: mla.dp_utility(dp_factory, X, y, X, y, epsilons=[1.0], seeds=2),
}

for extra, call in CALLS.items():
    try:
        call()
    except mla.MissingExtraError as exc:
        assert f'pip install "pytest-mlaudit[{extra}]"' in str(exc), exc
        print(f"{extra}: {exc}")
    else:
        sys.exit(f"{extra}: no MissingExtraError in the core-only environment")

with tempfile.TemporaryDirectory() as tmp:
    tests = Path(tmp, "test_core.py")
    tests.write_text("def test_nothing_audited(mlaudit):\n    pass\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests),
                          f"--mlaudit-json={tmp}/run.json"], cwd=tmp)
    assert run.returncode == 0, "the plugin did not load or the run failed"
    report = subprocess.run([sys.executable, "-m", "pytest_mlaudit", "report", f"{tmp}/run.json",
                             "-o", f"{tmp}/report.html", "--json", f"{tmp}/merged.json"], cwd=tmp)
    assert Path(tmp, "report.html").stat().st_size > 0 and json.loads(Path(tmp, "merged.json").read_text())
    print(f"plugin loaded; the report command rendered the JSON (exit {report.returncode})")
