"""Bugs users fear, planted one at a time: each makes a named test of the suite (or of audits/) fail.

Every case writes a small plugin that patches one function of the package (or of the
reference models) when pytest loads it, runs the named tests in a fresh interpreter
with ``-p <plugin>``, and requires them to fail. A test that still passes with the bug
planted could not have caught it.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from extras import needs

ROOT = Path(__file__).resolve().parent.parent

WILSON_IGNORES_CONFIDENCE = """
    from pytest_mlaudit import stats

    original = stats.wilson_interval
    stats.wilson_interval = lambda successes, n, confidence=0.95: original(successes, n, 0.95)
"""

FAILED_GATES_DROPPED_FROM_THE_HTML = """
    from pytest_mlaudit.report import html

    original = html._audit_view

    def without_failed_gates(position, audit, *args, **kwargs):
        view = original(position, audit, *args, **kwargs)
        view["audit"]["gates"] = [gate for gate in view["audit"]["gates"] if gate["passed"]]
        return view

    html._audit_view = without_failed_gates
"""

COMPARE_RESAMPLERS_RESAMPLES_THE_TEST_SPLIT = """
    import dataclasses

    from pytest_mlaudit.imbalance import audit

    original = audit._evaluate

    def evaluated_on_a_resampled_test_split(a, fitted, data, resampler, n_resamples, seed_name, **kwargs):
        steps = dict(getattr(fitted, "steps", []))
        sampler = steps.get("resampler")
        if sampler is not None:
            X_test, y_test = sampler.fit_resample(data.X_test, data.y_test)
            data = dataclasses.replace(data, X_test=X_test, y_test=y_test)
        return original(a, fitted, data, resampler, n_resamples, seed_name, **kwargs)

    audit._evaluate = evaluated_on_a_resampled_test_split
"""

SMOTE_REMOVED_FROM_THE_PAPERS_SMOTE_ARM = """
    from reference_models import fraud_pipelines

    original = fraud_pipelines.paper_resamplers

    def without_smote(seed=fraud_pipelines.SPLIT_SEED):
        return dict(original(seed), SMOTE=None)

    fraud_pipelines.paper_resamplers = without_smote
"""


def run_with_bug(tmp_path, bug: str, *nodeids: str) -> subprocess.CompletedProcess:
    (tmp_path / "planted_bug.py").write_text(textwrap.dedent(bug))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "planted_bug", "-p", "no:cacheprovider", "-q",
                           "-p", "no:randomly", *nodeids], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)


def assert_caught(result: subprocess.CompletedProcess, *nodeids: str):
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    for nodeid in nodeids:
        assert f"FAILED {nodeid}" in result.stdout, (nodeid, result.stdout[-3000:])


@pytest.mark.slow
def test_a_wilson_interval_that_ignores_its_confidence_is_caught(tmp_path):
    caught = ["tests/test_confidence.py::test_wilson_agrees_with_statsmodels_at_each_confidence[37-120-0.8]",
              "tests/test_confidence.py::test_every_interval_narrows_strictly_as_the_confidence_drops[wilson]",
              "tests/test_confidence.py::test_gate_policies_read_the_bound_of_the_recorded_confidence[>=-lower-0.99]"]
    assert_caught(run_with_bug(tmp_path, WILSON_IGNORES_CONFIDENCE, *caught), *caught)


@pytest.mark.slow
def test_failed_gate_rows_dropped_from_the_html_tables_are_caught(tmp_path):
    caught = ["tests/test_report_html_gates.py::test_every_failed_gate_has_its_row_in_the_failing_table",
              "tests/test_report_html_gates.py::test_every_failed_gate_has_a_fail_row_in_the_all_gates_table",
              "tests/test_report_html_gates.py::test_every_failed_gate_has_a_fail_row_in_its_audit_card"]
    assert_caught(run_with_bug(tmp_path, FAILED_GATES_DROPPED_FROM_THE_HTML, *caught), *caught)


@pytest.mark.slow
@needs("imblearn")
def test_compare_resamplers_resampling_the_test_split_is_caught(tmp_path):
    caught = ["tests/test_imbalance_training_split.py::test_compare_resamplers_resamples_the_training_split_only"]
    assert_caught(run_with_bug(tmp_path, COMPARE_RESAMPLERS_RESAMPLES_THE_TEST_SPLIT, *caught), *caught)


@pytest.mark.slow
@needs("imblearn", "xgboost")
def test_smote_removed_from_the_papers_smote_arm_is_caught(tmp_path):
    caught = ["audits/test_paper_bias.py::test_smote_changes_recall_and_precision[generated]"]
    assert_caught(run_with_bug(tmp_path, SMOTE_REMOVED_FROM_THE_PAPERS_SMOTE_ARM, *caught), *caught)
