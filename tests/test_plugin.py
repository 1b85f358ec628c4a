"""The pytest side: options, ini keys, fixture, recording, reports, summary, xdist."""

import json
import subprocess
import sys
from html.parser import HTMLParser

import pytest

ROBUST_TEST = """
    import pytest_mlaudit as mla

    def test_robust(mlaudit, model, data):
        X, y = data
        mlaudit.assert_robust_accuracy(model, X, y, attack=mla.FGSM(eps={eps}), clip=(0.0, 1.0), at_least={at_least})
"""


def audits_of(path):
    return json.loads(path.read_text())["audits"]


def test_options_are_listed_in_help(pytester):
    result = pytester.runpytest("--help")
    for option in ("--mlaudit-report", "--mlaudit-json", "--mlaudit-seed", "--mlaudit-confidence",
                   "--mlaudit-policy", "--mlaudit-data-dir", "--mlaudit-device"):
        result.stdout.fnmatch_lines([f"*{option}*"])


def test_ini_keys_set_the_run_settings(pytester):
    pytester.makeini("""
        [pytest]
        mlaudit_seed = 7
        mlaudit_confidence = 0.9
        mlaudit_policy = lower
        mlaudit_device = cpu
    """)
    pytester.makepyfile("""
        def test_settings(mlaudit):
            s = mlaudit.settings
            assert (s.seed, s.confidence, s.policy, s.device) == (7, 0.9, "lower", "cpu")
    """)
    pytester.runpytest().assert_outcomes(passed=1)


def test_command_line_options_override_ini_keys(pytester):
    pytester.makeini("""
        [pytest]
        mlaudit_seed = 7
    """)
    pytester.makepyfile("""
        def test_settings(mlaudit):
            assert mlaudit.settings.seed == 11
    """)
    pytester.runpytest("--mlaudit-seed=11").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--mlaudit-confidence=1.5", "confidence must be strictly between 0 and 1"),
        ("--mlaudit-policy=optimistic", "policy must be one of estimate, lower, upper"),
        ("--mlaudit-seed=abc", "--mlaudit-seed (ini mlaudit_seed) must be int"),
        ("--mlaudit-device=tpu", "device must be one of auto, cpu, cuda"),
        ("--mlaudit-data-dir=/no/such/dir", "is not a directory"),
    ],
)
def test_a_bad_option_value_is_a_usage_error_naming_it(pytester, option, message):
    result = pytester.runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_fixture_and_module_level_calls_both_record_into_the_test(audit_project):
    audit_project.makepyfile("""
        import pytest_mlaudit as mla

        def test_two_audits(mlaudit, model, data):
            X, y = data
            mlaudit.robustness(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))
            mla.robustness(model, X, y, attack=mla.FGSM(eps=0.2), clip=(0.0, 1.0))
            assert [r.params["eps"] for r in mlaudit.records] == [0.1, 0.2]
    """)
    audit_project.runpytest("--mlaudit-json=out.json").assert_outcomes(passed=1)
    audits = audits_of(audit_project.path / "out.json")
    assert [(a["nodeid"], a["params"]["eps"], a["index"]) for a in audits] == [
        ("test_fixture_and_module_level_calls_both_record_into_the_test.py::test_two_audits", 0.1, 0),
        ("test_fixture_and_module_level_calls_both_record_into_the_test.py::test_two_audits", 0.2, 1),
    ]


def test_module_level_calls_record_without_the_fixture(audit_project):
    audit_project.makepyfile("""
        import pytest_mlaudit as mla

        def test_plain(model, data):
            X, y = data
            mla.robustness(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))
    """)
    audit_project.runpytest("--mlaudit-json=out.json").assert_outcomes(passed=1)
    assert len(audits_of(audit_project.path / "out.json")) == 1


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.tags, self.text = set(), [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.ids.update(value for key, value in attrs if key == "id")

    def handle_data(self, data):
        self.text.append(data)


def test_reports_are_written_and_well_formed(audit_project):
    audit_project.makepyfile(ROBUST_TEST.format(eps=0.05, at_least=0.5))
    audit_project.runpytest("--mlaudit-json=reports/out.json", "--mlaudit-report=reports/out.html").assert_outcomes(passed=1)
    document = json.loads((audit_project.path / "reports/out.json").read_text())
    assert document["schema"] == "pytest-mlaudit/1"
    assert document["summary"]["verdict"] == "PASS"
    (audit,) = document["audits"]
    assert audit["category"] == "robustness" and audit["outcome"] == "passed"
    assert set(audit["metrics"]) == {"clean_accuracy", "robust_accuracy", "attack_success_rate", "accuracy_drop"}
    assert audit["metrics"]["clean_accuracy"]["value"] == 1.0
    (gate,) = audit["gates"]
    assert (gate["metric"], gate["op"], gate["threshold"], gate["policy"], gate["passed"]) == (
        "robust_accuracy", ">=", 0.5, "estimate", True)
    assert audit["model"]["parameters"] == 4 * 16 + 16 + 16 * 3 + 3
    parser = _Collector()
    parser.feed((audit_project.path / "reports/out.html").read_text())
    assert {"summary", "audits", "environment", "methodology"} <= parser.ids
    assert "script" not in parser.tags
    assert "test_robust" in "".join(parser.text)


def test_no_report_is_written_without_the_options(audit_project):
    audit_project.makepyfile(ROBUST_TEST.format(eps=0.05, at_least=0.5))
    audit_project.runpytest().assert_outcomes(passed=1)
    assert not list(audit_project.path.glob("*.json")) and not list(audit_project.path.glob("*.html"))


def test_a_missed_gate_fails_its_test_naming_value_interval_and_threshold(audit_project):
    audit_project.makepyfile(ROBUST_TEST.format(eps=0.3, at_least=0.99))
    result = audit_project.runpytest("--mlaudit-json=out.json")
    result.assert_outcomes(failed=1)
    result.stdout.re_match_lines([
        r"E\s+AssertionError: robust accuracy under FGSM \(eps=0.3, Linf\): robust_accuracy = 0\.\d{4} "
        r"\(95% CI \[0\.\d{4}, 0\.\d{4}\], n=200, wilson\) misses at_least=0.99 under policy 'estimate'"
    ])
    (audit,) = audits_of(audit_project.path / "out.json")
    assert audit["outcome"] == "failed" and audit["gates"][0]["passed"] is False


def test_the_terminal_summary_has_one_line_per_gate(audit_project):
    audit_project.makepyfile(ROBUST_TEST.format(eps=0.05, at_least=0.5))
    result = audit_project.runpytest()
    result.stdout.re_match_lines([
        r"PASS test_the_terminal_summary_has_one_line_per_gate.py::test_robust robust_accuracy = "
        r"0\.\d{4} \[0\.\d{4}, 0\.\d{4}\] >= 0.5 \(estimate\)"
    ])


def test_an_erroring_audit_keeps_the_report_and_the_other_audits(audit_project):
    audit_project.makepyfile("""
        import numpy as np
        import pytest_mlaudit as mla

        def test_bad_input(mlaudit, model, data):
            X, y = data
            mlaudit.robustness(model, X * 10, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))

        def test_fine(mlaudit, model, data):
            X, y = data
            mlaudit.assert_robust_accuracy(model, X, y, attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0), at_least=0.5)
    """)
    result = audit_project.runpytest("--mlaudit-json=out.json", "--mlaudit-report=out.html")
    result.assert_outcomes(passed=1, failed=1)
    audits = audits_of(audit_project.path / "out.json")
    assert [(a["nodeid"].split("::")[1], a["outcome"]) for a in audits] == [("test_bad_input", "error"), ("test_fine", "passed")]
    assert "outside the declared domain" in audits[0]["error"]
    assert json.loads((audit_project.path / "out.json").read_text())["summary"]["verdict"] == "FAIL"
    assert "outside the declared domain" in (audit_project.path / "out.html").read_text()


def test_a_test_that_crashes_before_auditing_fails_the_run_with_its_message(audit_project):
    audit_project.makepyfile("""
        import pytest

        @pytest.fixture
        def broken_model():
            raise RuntimeError("weights missing")

        def test_crash(mlaudit, broken_model):
            pass
    """)
    audit_project.runpytest("--mlaudit-json=out.json").assert_outcomes(errors=1)
    document = json.loads((audit_project.path / "out.json").read_text())
    assert document["audits"] == []
    assert document["run"]["failed_tests"] == [{"nodeid": "test_a_test_that_crashes_before_auditing_fails_the_run_with_its_message.py::test_crash",
                                                "when": "setup", "message": "RuntimeError: weights missing"}]
    assert document["summary"]["verdict"] == "FAIL"


def test_marker_requirements_tag_the_records_and_gates(audit_project):
    audit_project.makepyfile("""
        import pytest
        import pytest_mlaudit as mla

        @pytest.mark.mlaudit(requirement=["EU-AI-Act-Art15", "NIST-MEASURE-2.7"])
        def test_tagged(mlaudit, model, data):
            X, y = data
            mlaudit.assert_robust_accuracy(model, X, y, attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0), at_least=0.5,
                                           requirement="internal-R12")
    """)
    audit_project.runpytest("--mlaudit-json=out.json").assert_outcomes(passed=1)
    (audit,) = audits_of(audit_project.path / "out.json")
    assert audit["requirements"] == ["internal-R12", "EU-AI-Act-Art15", "NIST-MEASURE-2.7"]
    assert audit["gates"][0]["requirements"] == ["internal-R12"]


def test_gates_reach_junitxml_as_properties(audit_project):
    audit_project.makepyfile(ROBUST_TEST.format(eps=0.05, at_least=0.5))
    audit_project.runpytest("--junitxml=junit.xml").assert_outcomes(passed=1)
    from xml.etree import ElementTree

    properties = {p.get("name"): p.get("value") for p in ElementTree.parse(audit_project.path / "junit.xml").iter("property")}
    value = properties["mlaudit:robust accuracy under FGSM (eps=0.05, Linf):robust_accuracy"]
    assert value.endswith(">= 0.5 (estimate): passed")


def test_the_policy_option_sets_the_default_gate_policy(audit_project):
    audit_project.makepyfile(ROBUST_TEST.format(eps=0.05, at_least=0.5))
    audit_project.runpytest("--mlaudit-policy=lower", "--mlaudit-json=out.json").assert_outcomes(passed=1)
    assert audits_of(audit_project.path / "out.json")[0]["gates"][0]["policy"] == "lower"


def test_the_confidence_option_sets_the_intervals(audit_project):
    audit_project.makepyfile(ROBUST_TEST.format(eps=0.05, at_least=0.5))
    audit_project.runpytest("--mlaudit-confidence=0.99", "--mlaudit-json=out.json").assert_outcomes(passed=1)
    metric = audits_of(audit_project.path / "out.json")[0]["metrics"]["robust_accuracy"]
    assert metric["confidence"] == 0.99


def test_the_fixture_seed_depends_on_run_seed_and_test(pytester):
    pytester.makepyfile("""
        SEEDS = {}

        def test_a(mlaudit):
            print("SEED", mlaudit.seed)

        def test_b(mlaudit):
            print("SEED", mlaudit.seed)
    """)

    def seeds(*args):
        out = pytester.runpytest("-s", *args).stdout.lines
        return [line.split()[-1] for line in out if line.startswith("SEED") or "SEED" in line]

    first, again, other = seeds(), seeds(), seeds("--mlaudit-seed=5")
    assert first == again and len(set(first)) == 2
    assert other != first


def test_hostile_test_ids_are_escaped_in_the_html(audit_project):
    audit_project.makepyfile("""
        import pytest
        import pytest_mlaudit as mla

        @pytest.mark.parametrize("tag", ["<script>alert(1)</script>"])
        def test_hostile(mlaudit, model, data, tag):
            X, y = data
            mlaudit.assert_robust_accuracy(model, X, y, attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0), at_least=0.5)
    """)
    audit_project.runpytest("--mlaudit-report=out.html").assert_outcomes(passed=1)
    html = (audit_project.path / "out.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def modules_loaded_by_the_plugin(*prefixes: str) -> list[str]:
    """The modules under ``prefixes`` that a fresh interpreter has loaded after importing the plugin."""
    code = f"import sys, pytest_mlaudit.plugin; print(sorted(m for m in sys.modules if m.startswith({prefixes!r})))"
    return eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_importing_the_plugin_loads_no_heavy_library():
    heavy = ("numpy", "torch", "sklearn", "art", "xgboost", "diffprivlib", "imblearn", "fairlearn", "matplotlib",
             "scipy", "pandas")
    assert [m for m in modules_loaded_by_the_plugin(*heavy) if m.split(".")[0] in heavy] == []


def test_loading_the_plugin_loads_no_audit_family():
    assert modules_loaded_by_the_plugin("pytest_mlaudit.robustness", "pytest_mlaudit.imbalance",
                                        "pytest_mlaudit.fairness", "pytest_mlaudit.privacy",
                                        "pytest_mlaudit.report") == []


def test_every_public_name_resolves_on_first_use():
    import pytest_mlaudit as mla

    resolved = {name: getattr(mla, name) for name in mla.__all__}
    assert [name for name, value in resolved.items() if not callable(value)] == ["spaces"]  # a module of strategies
    assert mla.robustness.__module__ == "pytest_mlaudit.robustness.audit"
    with pytest.raises(AttributeError, match="no attribute 'robust_acuracy'"):
        mla.robust_acuracy


@pytest.mark.parametrize("report", [[], ["--mlaudit-json=out.json"]], ids=["no report", "JSON report"])
def test_the_terminal_summary_lists_the_first_errored_audits_and_counts_the_rest(audit_project, report):
    audit_project.makepyfile("""
        import pytest
        import pytest_mlaudit as mla

        @pytest.mark.parametrize("i", range(12))
        def test_bad(mlaudit, model, data, i):
            X, y = data
            mlaudit.robustness(model, X * 10, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))
    """)
    result = audit_project.runpytest(*report)
    result.assert_outcomes(failed=12)
    errors = [line for line in result.stdout.lines if line.startswith("ERROR ")]
    assert len(errors) == 10
    where = " (all are in the JSON report)" if report else ""
    result.stdout.fnmatch_lines([f"... and 2 more audits that errored{where}"])
