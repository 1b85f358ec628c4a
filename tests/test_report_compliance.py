"""The requirement mapping: defaults per category, tags, verdicts, and the user's override file."""

from __future__ import annotations

import json

import pytest
from report_samples import errored_record, every_kind, fairness_record, gate, imbalance_record, privacy_record, robustness_record

from pytest_mlaudit.compliance import DEFAULT_MAPPING, load_mapping, requirement_verdicts
from pytest_mlaudit.records import AuditRecord
from pytest_mlaudit.report import html
from pytest_mlaudit.report.json import build_document

ART10, ART15 = "EU-AI-Act-Art10", "EU-AI-Act-Art15"
M25, M27, M210, M211 = (f"NIST-AI-RMF-MEASURE-{n}" for n in ("2.5", "2.7", "2.10", "2.11"))


def verdicts(records, mapping=None) -> dict[str, str]:
    audits = [record.to_dict() for record in records]
    return {row["id"]: row["verdict"] for row in requirement_verdicts(audits, mapping or DEFAULT_MAPPING)}


@pytest.mark.parametrize(("category", "expected"), [
    ("robustness", {ART15, M27}), ("imbalance", {ART10, M25}), ("fairness", {ART10, M211}), ("privacy", {ART10, M210}),
])
def test_each_category_maps_to_its_default_requirements(category, expected):
    record = AuditRecord(nodeid="t.py::a", category=category, name="a", gates=[gate("m", 0.9, ">=", 0.5, True)])
    assert verdicts([record]) == {requirement: "PASS" for requirement in expected}


def test_a_requirement_passes_only_if_all_its_gates_passed():
    # imbalance has a failing precision gate; fairness passed; both give evidence for Art. 10
    result = verdicts([imbalance_record(), fairness_record()])
    assert result[ART10] == "FAIL"
    assert result[M211] == "PASS"
    assert result[M25] == "FAIL"


def test_an_errored_audit_fails_its_requirements():
    assert verdicts([errored_record()]) == {ART10: "FAIL", M210: "FAIL"}


def test_audits_that_only_measure_leave_a_requirement_not_gated():
    record = AuditRecord(nodeid="t.py::a", category="robustness", name="a")
    assert verdicts([record]) == {ART15: "NOT GATED", M27: "NOT GATED"}


def test_tags_from_marker_or_argument_add_requirements():
    record = fairness_record()  # tagged ACME-FAIR-1 on the record and its gate
    rows = requirement_verdicts([record.to_dict()], DEFAULT_MAPPING)
    user = [row for row in rows if row["id"] == "ACME-FAIR-1"]
    assert user == [dict(user[0], verdict="PASS", gates=1, gates_failed=0, framework="", clause="ACME-FAIR-1")]


def test_rows_count_gates_and_point_at_their_audits():
    rows = requirement_verdicts([r.to_dict() for r in every_kind()], DEFAULT_MAPPING)
    art10 = next(row for row in rows if row["id"] == ART10)
    assert (art10["gates"], art10["gates_failed"], art10["errored"]) == (4, 2, 1)
    assert art10["audits"] == [1, 2, 3, 5]
    assert [row["id"] for row in rows][:6] == [ART10, ART15, M25, M27, M210, M211]


def test_override_file_replaces_a_category_and_describes_a_requirement(tmp_path):
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({
        "categories": {"privacy": [M210]},
        "requirements": {"ACME-FAIR-1": {"framework": "ACME policy", "clause": "FAIR-1", "title": "Equal recall"}},
    }))
    mapping = load_mapping(path)
    assert verdicts([privacy_record()], mapping) == {M210: "FAIL"}
    row = next(r for r in requirement_verdicts([fairness_record().to_dict()], mapping) if r["id"] == "ACME-FAIR-1")
    assert (row["framework"], row["clause"], row["title"]) == ("ACME policy", "FAIR-1", "Equal recall")
    assert mapping["categories"]["robustness"] == [ART15, M27]


def test_override_file_may_be_toml(tmp_path):
    path = tmp_path / "mapping.toml"
    path.write_text('[categories]\nrobustness = ["EU-AI-Act-Art15"]\n')
    assert verdicts([robustness_record()], load_mapping(path)) == {ART15: "PASS"}


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ('{"categoriess": {}}', "unknown key(s) categoriess"),
    ('{"categories": {"privacy": "EU"}}', "categories.privacy must be a list"),
    ('{"requirements": {"X": {"title": 3}}}', "requirements.X must be a table of strings"),
    ('{"categories": []}', "'categories' must be a table"),
])
def test_malformed_override_is_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "mapping.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="requirement mapping .*mapping.json") as error:
        load_mapping(path)
    assert message in str(error.value)


def test_missing_override_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="cannot read it"):
        load_mapping(tmp_path / "absent.json")


def test_document_carries_the_mapping_and_the_report_shows_its_verdicts(tmp_path):
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({"requirements": {"ACME-FAIR-1": {"framework": "ACME policy", "clause": "FAIR-1",
                                                                  "title": "Equal recall"}}}))
    document = build_document([fairness_record()], {}, load_mapping(path))
    assert document["requirement_mapping"]["requirements"]["ACME-FAIR-1"]["framework"] == "ACME policy"
    assert {row["id"]: row["verdict"] for row in document["requirements"]}["ACME-FAIR-1"] == "PASS"
    assert "ACME policy" in html.render(document)


def test_ini_key_points_the_plugin_at_the_override_in_json_and_html(pytester):
    pytester.makefile(".json", mapping=json.dumps({"categories": {"robustness": ["ACME-ROB-1"]}}))
    pytester.makeini("[pytest]\nmlaudit_requirements = mapping.json\nmlaudit_json = out.json\nmlaudit_report = out.html\n")
    pytester.makepyfile("""
        import pytest_mlaudit as mla

        def test_a():
            with mla.audit("robustness", "r") as a:
                a.gate("acc", at_least=0.5, policy="estimate")
                a.metric("acc", mla.Estimate(0.9, 0.8, 0.95, 100))
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    document = json.loads((pytester.path / "out.json").read_text())
    assert [(row["id"], row["verdict"]) for row in document["requirements"]] == [("ACME-ROB-1", "PASS")]
    assert "<code>ACME-ROB-1</code>" in (pytester.path / "out.html").read_text()


def test_a_bad_override_file_is_a_usage_error(pytester):
    pytester.makefile(".json", mapping="[1, 2]")
    result = pytester.runpytest("--mlaudit-requirements=mapping.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*requirement mapping*mapping.json*expected a table*"])
