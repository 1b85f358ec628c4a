"""The run's verdict agrees with pytest: handled audits, failures outside audits, incomplete runs.

Each case runs a small project through pytester, serially and under ``-n 2``, and
reads the JSON report. The audits are written with the public authoring API over
plain counts, so the cases need no model library.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

AUDIT_HELPERS = '''
import pytest_mlaudit as mla


def measured(k=90, n=100, at_least=0.5, name="accuracy audit"):
    with mla.audit("custom", name) as a:
        a.gate("accuracy", at_least=at_least)
        a.metric("accuracy", mla.proportion(k, n))


def refused():
    with mla.audit("custom", "refusing audit") as a:
        raise ValueError("X must be 2-D")
'''

MODES = [pytest.param([], id="serial"), pytest.param(["-n", "2"], id="xdist")]


@pytest.fixture
def project(pytester):
    pytester.makepyfile(audit_helpers=AUDIT_HELPERS)
    pytester.syspathinsert()
    return pytester


def run(project, *args, subprocess_=False):
    """Run the project; returns pytest's result and the JSON report."""
    runner = project.runpytest_subprocess if subprocess_ else project.runpytest
    result = runner("-p", "no:cacheprovider", "--mlaudit-json=out.json", *args)
    return result, json.loads((project.path / "out.json").read_text())


@pytest.mark.parametrize("mode", MODES)
def test_failures_a_test_catches_are_handled_and_only_the_uncaught_gate_counts(project, mode):
    project.makepyfile(test_mixed='''
        import pytest
        from audit_helpers import measured, refused

        def test_gate_misses():
            measured(k=40, at_least=0.5)

        def test_refusal_is_caught():
            with pytest.raises(ValueError, match="2-D"):
                refused()

        def test_missed_gate_is_caught():
            with pytest.raises(AssertionError):
                measured(k=10, at_least=0.5)

        def test_passes():
            measured()
    ''')
    result, document = run(project, *mode, subprocess_=bool(mode))
    result.assert_outcomes(passed=3, failed=1)
    summary = document["summary"]
    assert (summary["verdict"], summary["gates_failed"], summary["outcomes"]["error"], summary["handled"]) == ("FAIL", 1, 0, 2)
    handled = {audit["nodeid"].split("::")[1]: audit["handled"] for audit in document["audits"]}
    assert handled == {"test_gate_misses": False, "test_refusal_is_caught": True, "test_missed_gate_is_caught": True,
                       "test_passes": False}


@pytest.mark.parametrize("mode", MODES)
def test_a_test_failing_after_its_audits_passed_fails_the_run_with_its_message(project, mode):
    project.makepyfile(test_after='''
        from audit_helpers import measured

        def test_later_assert():
            measured()
            assert 1 + 1 == 3, "the model card is out of date"
    ''')
    result, document = run(project, *mode, subprocess_=bool(mode))
    result.assert_outcomes(failed=1)
    assert document["summary"]["verdict"] == "FAIL"
    (failure,) = document["run"]["failed_tests"]
    assert failure["when"] == "call" and "the model card is out of date" in failure["message"]
    assert [audit["test_outcome"] for audit in document["audits"]] == ["failed"]


@pytest.mark.parametrize("mode", MODES)
def test_a_collection_error_makes_the_run_incomplete(project, mode):
    project.makepyfile(test_ok="from audit_helpers import measured\n\ndef test_ok():\n    measured()\n",
                       test_broken="import no_such_module_anywhere\n")
    result, document = run(project, *mode, subprocess_=bool(mode))
    assert result.ret != pytest.ExitCode.OK  # serial pytest stops (2); xdist runs the rest and fails (1)
    assert document["summary"]["verdict"] == "INCOMPLETE"
    assert [error["nodeid"] for error in document["run"]["collection_errors"]] == ["test_broken.py"]


def test_a_run_that_measures_nothing_says_no_audits(project):
    project.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result, document = run(project)
    result.assert_outcomes(passed=1)
    assert (document["summary"]["verdict"], document["summary"]["audits"]) == ("NO AUDITS", 0)


@pytest.mark.parametrize("mode", MODES)
def test_an_interrupted_test_keeps_its_completed_audit_and_the_run_is_incomplete(project, mode):
    project.makepyfile(test_interrupt='''
        from audit_helpers import measured

        def test_interrupted():
            measured(name="before the interrupt")
            raise KeyboardInterrupt

        def test_never_runs():
            measured()
    ''')
    result, document = run(project, *mode, subprocess_=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert document["summary"]["verdict"] == "INCOMPLETE"
    # xdist reports a worker interrupted in the middle of a test as a crashed worker
    outcome = "crashed" if mode else "interrupted"
    assert [(a["name"], a["test_outcome"]) for a in document["audits"]
            if a["name"] == "before the interrupt"] == [("before the interrupt", outcome)]
    if not mode:  # under xdist the other worker may have run it before the interrupt
        assert document["run"]["not_run"] == ["test_interrupt.py::test_never_runs"]


def test_a_crashed_xdist_worker_makes_the_run_incomplete_and_keeps_the_audit_it_completed(project):
    project.makepyfile(test_crash='''
        import os
        from audit_helpers import measured

        def test_crashes():
            measured(name="before the crash")
            os._exit(1)

        def test_fine():
            measured(name="fine")
    ''')
    result, document = run(project, "-n", "2", subprocess_=True)
    assert document["summary"]["verdict"] == "INCOMPLETE"
    assert [crash["nodeid"] for crash in document["run"]["crashed"]] == ["test_crash.py::test_crashes"]
    outcomes = {audit["name"]: audit["test_outcome"] for audit in document["audits"]}
    assert outcomes == {"before the crash": "crashed", "fine": "passed"}


@pytest.mark.parametrize("mode", MODES)
def test_numpy_values_and_non_finite_numbers_in_a_record_keep_the_report(project, mode):
    project.makepyfile(test_values='''
        import math
        import numpy as np
        import pytest
        import pytest_mlaudit as mla

        @pytest.mark.mlaudit(requirement=np.array(["EU-AI-Act-Art15"])[0])
        def test_odd_values(mlaudit):
            with mla.audit("custom", "odd values", params={"n": np.int64(3), "ratio": np.float64("nan"),
                                                        "shape": (2, 3), "label": np.str_("a")}) as a:
                a.metric("accuracy", mla.proportion(9, 10))
            mlaudit.published("accuracy", math.nan, "a paper")
    ''')
    result, document = run(project, *mode, subprocess_=bool(mode))
    result.assert_outcomes(passed=1)
    (audit,) = document["audits"]
    assert audit["params"] == {"n": 3, "ratio": "NaN", "shape": [2, 3], "label": "a"}
    assert audit["requirements"] == ["EU-AI-Act-Art15"]
    assert audit["extras"]["published"][0]["published"] == "NaN"
    html = project.runpytest("-p", "no:cacheprovider", "--mlaudit-report=out.html")
    html.assert_outcomes(passed=1)
    assert "not finite" in (project.path / "out.html").read_text()


def test_a_value_with_no_json_form_becomes_an_error_audit_naming_the_field(project):
    project.makepyfile(test_object='''
        import pytest_mlaudit as mla

        def test_object():
            with mla.audit("custom", "odd param", params={"estimator": object()}) as a:
                a.metric("accuracy", mla.proportion(9, 10))
    ''')
    result, document = run(project, "-n", "2", subprocess_=True)
    result.assert_outcomes(failed=1)
    (audit,) = document["audits"]
    assert audit["outcome"] == "error" and "params.estimator" in audit["error"] and not audit["handled"]
    assert document["summary"]["verdict"] == "FAIL"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("option", ["--mlaudit-report", "--mlaudit-json"])
def test_a_report_path_that_cannot_be_written_is_a_usage_error_at_start(project, option, mode):
    project.makepyfile(test_ok="def test_ok():\n    pass\n", afile="")
    result = project.runpytest("-p", "no:cacheprovider", f"{option}=afile.py/report.out", *mode)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{option}*cannot be created*not a directory*"])


def test_a_directory_as_report_path_is_a_usage_error(project):
    project.mkdir("reports")
    result = project.runpytest("-p", "no:cacheprovider", "--mlaudit-report=reports")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mlaudit-report*is a directory*"])


def test_the_same_path_for_both_reports_is_a_usage_error(project):
    result = project.runpytest("-p", "no:cacheprovider", "--mlaudit-report=a.out", "--mlaudit-json=a.out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*same file*"])


def test_a_report_that_fails_to_render_leaves_the_other_written_and_the_summary_printed(project):
    project.makeconftest('''
        def pytest_mlaudit_report_sections(records, environment):
            raise RuntimeError("section plugin is broken")
    ''')
    project.makepyfile(test_ok="from audit_helpers import measured\n\ndef test_ok():\n    measured()\n")
    result = project.runpytest("-p", "no:cacheprovider", "--mlaudit-json=out.json", "--mlaudit-report=out.html")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*the HTML report could not be written*section plugin is broken*", "*1 passed*"])
    assert json.loads((project.path / "out.json").read_text())["summary"]["verdict"] == "PASS"
    assert not (project.path / "out.html").exists()
    assert [p.name for p in project.path.iterdir() if p.name.endswith(".tmp")] == []


def test_sigterm_writes_what_was_measured_as_an_incomplete_report(project):
    project.makepyfile(test_slow='''
        import time
        from audit_helpers import measured

        def test_first():
            measured(name="measured before SIGTERM")

        def test_slow():
            open("started", "w").close()
            time.sleep(60)
    ''')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project.path), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mlaudit-json=out.json",
                                "--mlaudit-report=out.html"], cwd=project.path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not (project.path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    document = json.loads((project.path / "out.json").read_text())
    assert document["summary"]["verdict"] == "INCOMPLETE"
    assert document["run"]["interrupted"] == "terminated (SIGTERM)"
    assert [audit["name"] for audit in document["audits"]] == ["measured before SIGTERM"]
    assert (project.path / "out.html").exists()
    assert [p.name for p in project.path.iterdir() if p.name.endswith(".tmp")] == []


def test_handled_audits_print_a_count_not_fail_lines(project):
    project.makepyfile(test_caught='''
        import pytest
        from audit_helpers import refused

        def test_caught():
            with pytest.raises(ValueError):
                refused()
    ''')
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "ERROR " not in result.stdout.str() and "all are in the JSON" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*mlaudit verdict PASS*1 audit failure(s) caught by their own tests*"])


def test_a_suspect_line_names_the_check_that_failed(project):
    project.makepyfile(test_suspect='''
        import pytest_mlaudit as mla

        def test_suspect():
            with mla.audit("custom", "checked") as a:
                a.metric("accuracy", mla.proportion(9, 10))
                a.check("gradients are not masked", False, "zero gradients")
                a.gate("accuracy", at_least=0.5)
    ''')
    result = project.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["PASS SUSPECT (gradients are not masked) *accuracy = 0.9000*"])


def test_records_of_an_inner_pytester_session_stay_in_it(project):
    project.makepyfile(test_outer='''
        pytest_plugins = ["pytester"]
        from audit_helpers import measured

        def test_outer(pytester):
            pytester.makepyfile(test_inner="from audit_helpers import measured\\n\\ndef test_inner():\\n    measured(name='inner')\\n")
            pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
            measured(name="outer")
    ''')
    result, document = run(project)
    result.assert_outcomes(passed=1)
    assert [audit["name"] for audit in document["audits"]] == ["outer"]


def test_an_unknown_marker_keyword_is_an_error_naming_the_allowed_one(project):
    project.makepyfile(test_typo='''
        import pytest

        @pytest.mark.mlaudit(requirment="EU-AI-Act-Art15")
        def test_typo():
            pass
    ''')
    result = project.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*@pytest.mark.mlaudit takes only requirement=*requirment*"])


def test_tests_deselected_with_k_are_not_tests_that_did_not_run(project):
    project.makepyfile(test_two='''
        from audit_helpers import measured

        def test_chosen():
            measured()

        def test_left_out():
            measured()
    ''')
    result, document = run(project, "-k", "chosen")
    result.assert_outcomes(passed=1, deselected=1)
    assert (document["summary"]["verdict"], document["run"]["not_run"]) == ("PASS", [])
