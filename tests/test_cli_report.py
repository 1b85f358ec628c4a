"""``python -m pytest_mlaudit report``: re-render HTML from JSON, merge sharded runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from report_samples import (
    document, errored_record, fairness_record, imbalance_record, privacy_record, robustness_record,
)

from pytest_mlaudit.__main__ import main
from pytest_mlaudit.records import SCHEMA


def write(path, doc) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


def test_rerenders_html_from_one_json(tmp_path, capsys):
    source = write(tmp_path / "a.json", document([imbalance_record()]))
    assert main(["report", source, "-o", str(tmp_path / "audit.html")]) == 1
    report = (tmp_path / "audit.html").read_text()
    assert "minority recall with SMOTE" in report and 'id="requirements"' in report
    assert "FAIL: 1 audits from 1 report(s), 1/2 gates passed" in capsys.readouterr().out


def test_merges_shards_sorted_as_the_plugin_sorts(tmp_path):
    # shard b holds the audit of the earlier file: merged order follows file and line, not argument order
    a = write(tmp_path / "a.json", document([robustness_record(), errored_record()]))
    b = write(tmp_path / "b.json", document([fairness_record()]))
    assert main(["report", a, b, "-o", str(tmp_path / "audit.html"), "--json", str(tmp_path / "merged.json")]) == 1
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert merged["schema"] == SCHEMA
    assert [audit["nodeid"] for audit in merged["audits"]] == [
        "audits/test_adult.py::test_equal_opportunity", "audits/test_cnn.py::test_fgsm", "audits/test_dp.py::test_crash"]
    assert merged["summary"]["audits"] == 3 and merged["summary"]["verdict"] == "FAIL"
    assert [shard["file"] for shard in merged["environment"]["merged_from"]] == [a, b]
    assert {row["id"] for row in merged["requirements"]} >= {"ACME-FAIR-1", "EU-AI-Act-Art15"}
    report = (tmp_path / "audit.html").read_text()
    assert report.index("equal opportunity") < report.index("robust accuracy under FGSM")


def test_merged_json_rerenders_to_the_same_html(tmp_path):
    a = write(tmp_path / "a.json", document([robustness_record()]))
    b = write(tmp_path / "b.json", document([imbalance_record()]))
    main(["report", a, b, "-o", str(tmp_path / "one.html"), "--json", str(tmp_path / "merged.json")])
    main(["report", str(tmp_path / "merged.json"), "-o", str(tmp_path / "two.html")])
    strip = lambda text: text.split('id="environment"')[0]  # noqa: E731 (the environment names the shards)
    assert strip((tmp_path / "one.html").read_text()) == strip((tmp_path / "two.html").read_text())


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(tmp_path / "absent.json"), "-o", str(tmp_path / "x.html")])
    assert exit_.value.code == 2
    assert f"error: {tmp_path / 'absent.json'}: no such file" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize(("content", "message"), [
    ({"schema": "other/2", "audits": []}, "expected schema 'pytest-mlaudit/1', found schema 'other/2'"),
    ([1, 2], "found no schema"),
    ("{oops", "not a JSON file"),
])
def test_foreign_or_broken_file_is_a_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "foreign.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(path), "-o", str(tmp_path / "x.html")])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_needs_something_to_write(tmp_path, capsys):
    source = write(tmp_path / "a.json", document([imbalance_record()]))
    with pytest.raises(SystemExit):
        main(["report", source])
    assert "nothing to write" in capsys.readouterr().err


def test_requirements_option_overrides_the_documents_mapping(tmp_path):
    source = write(tmp_path / "a.json", document([imbalance_record()]))
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"categories": {"imbalance": ["ACME-DATA-3"]}}))
    main(["report", source, "--json", str(tmp_path / "m.json"), "--requirements", str(mapping)])
    merged = json.loads((tmp_path / "m.json").read_text())
    assert [row["id"] for row in merged["requirements"]] == ["ACME-DATA-3"]


def test_runs_as_a_module(tmp_path):
    source = write(tmp_path / "a.json", document([fairness_record()]))
    result = subprocess.run([sys.executable, "-m", "pytest_mlaudit", "report", source, "-o", str(tmp_path / "r.html")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "PASS: 1 audits from 1 report(s), 1/1 gates passed" in result.stdout


def refused(argv, capsys) -> str:
    """The error message of a run that must exit with status 2."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    return capsys.readouterr().err


def passing_document() -> dict:
    return document([fairness_record()])


def test_exit_status_is_0_when_the_merged_verdict_is_pass(tmp_path, capsys):
    source = write(tmp_path / "a.json", passing_document())
    assert main(["report", source, "--json", str(tmp_path / "m.json")]) == 0
    assert "PASS: 1 audits" in capsys.readouterr().out


def test_exit_status_is_1_when_the_merged_verdict_is_fail(tmp_path, capsys):
    a = write(tmp_path / "a.json", passing_document())
    b = write(tmp_path / "b.json", document([privacy_record()]))
    assert main(["report", a, b, "--json", str(tmp_path / "m.json")]) == 1
    assert "FAIL: 2 audits from 2 report(s), 1/2 gates passed" in capsys.readouterr().out


def test_stored_incomplete_verdict_is_carried_into_the_merge(tmp_path):
    unfinished = passing_document()
    unfinished["summary"]["verdict"] = "INCOMPLETE"
    a = write(tmp_path / "a.json", unfinished)
    b = write(tmp_path / "b.json", document([robustness_record()]))
    assert main(["report", a, b, "--json", str(tmp_path / "m.json"), "-o", str(tmp_path / "r.html")]) == 1
    assert json.loads((tmp_path / "m.json").read_text())["summary"]["verdict"] == "INCOMPLETE"
    assert '<span class="verdict INCOMPLETE">INCOMPLETE</span>' in (tmp_path / "r.html").read_text()


def test_stored_pass_verdict_is_not_trusted(tmp_path):
    claims_pass = document([privacy_record()])
    claims_pass["summary"]["verdict"] = "PASS"
    source = write(tmp_path / "a.json", claims_pass)
    assert main(["report", source, "--json", str(tmp_path / "m.json")]) == 1
    assert json.loads((tmp_path / "m.json").read_text())["summary"]["verdict"] == "FAIL"


@pytest.mark.parametrize(("field", "value", "message"), [
    (("metrics", "equal_opportunity_difference", "low"), "x",
     "audits[0].metrics.equal_opportunity_difference.low: expected a number, got 'x'"),
    (("metrics", "equal_opportunity_difference", "n"), -1,
     "audits[0].metrics.equal_opportunity_difference.n: expected a non-negative integer, got -1"),
    (("gates", 0, "passed"), "yes", "audits[0].gates[0].passed: expected true or false, got 'yes'"),
    (("gates", 0, "op"), ">", "audits[0].gates[0].op: expected one of '>=', '<=', got '>'"),
    (("gates", 0, "policy"), "lenient", "audits[0].gates[0].policy: expected one of 'estimate', 'lower', 'upper'"),
    (("outcome",), "exploded", "audits[0].outcome: expected one of 'passed', 'failed', 'error', got 'exploded'"),
    (("params",), [1, 2], "audits[0].params: expected an object, got [1, 2]"),
    (("location",), "here", "audits[0].location: expected [file, line], got 'here'"),
])
def test_malformed_field_is_refused_naming_file_and_field(tmp_path, capsys, field, value, message):
    doc = passing_document()
    *parents, last = field
    target = doc["audits"][0]
    for key in parents:
        target = target[key]
    target[last] = value
    source = write(tmp_path / "a.json", doc)
    assert f"{source}: {message}" in refused(["report", source, "-o", str(tmp_path / "r.html")], capsys)
    assert not (tmp_path / "r.html").exists()


def test_missing_gate_field_is_refused_naming_it(tmp_path, capsys):
    doc = passing_document()
    del doc["audits"][0]["gates"][0]["threshold"]
    source = write(tmp_path / "a.json", doc)
    assert f"{source}: audits[0].gates[0].threshold: missing" in refused(["report", source, "--json", "m.json"], capsys)


def test_audit_that_is_not_an_object_is_refused(tmp_path, capsys):
    doc = passing_document()
    doc["audits"].append("audit")
    source = write(tmp_path / "a.json", doc)
    assert f"{source}: audits[1]: expected an object, got 'audit'" in refused(["report", source, "--json", "m.json"],
                                                                             capsys)


def test_interval_that_misses_its_value_is_refused(tmp_path, capsys):
    doc = passing_document()
    doc["audits"][0]["metrics"]["equal_opportunity_difference"]["high"] = 0.02
    source = write(tmp_path / "a.json", doc)
    err = refused(["report", source, "--json", "m.json"], capsys)
    assert (f"{source}: audits[0].metrics.equal_opportunity_difference: "
            "interval [0.01, 0.02] does not contain its value 0.04") in err


def test_nan_token_is_refused(tmp_path, capsys):
    doc = passing_document()
    doc["audits"][0]["metrics"]["equal_opportunity_difference"]["value"] = float("nan")
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc))  # json writes the NaN token
    assert '"value": NaN' in path.read_text()
    assert f"{path}: non-finite number NaN in the JSON" in refused(["report", str(path), "--json", "m.json"], capsys)


def test_deep_nesting_is_refused_without_recursion_error(tmp_path, capsys):
    path = tmp_path / "a.json"
    text = json.dumps(passing_document())
    path.write_text(text.replace('"params": {', '"params": {"deep": ' + "[" * 100_000 + "]" * 100_000 + ", ", 1))
    err = refused(["report", str(path), "--json", "m.json"], capsys)
    assert f"{path}: nested too deeply to be a pytest-mlaudit report" in err
    assert "RecursionError" not in err and "Traceback" not in err


def test_nesting_the_renderer_would_recurse_on_is_refused(tmp_path, capsys):
    doc = passing_document()
    deep = []
    for _ in range(500):
        deep = [deep]
    doc["audits"][0]["model"]["params"] = {"deep": deep}
    source = write(tmp_path / "a.json", doc)
    assert f"{source}: audits: nested deeper than 64 levels" in refused(["report", source, "-o", "r.html"], capsys)


def test_tampered_gate_verdict_is_refused_naming_the_gate(tmp_path, capsys):
    doc = document([imbalance_record()])
    doc["audits"][0]["gates"][1]["passed"] = True  # precision 0.4 >= 0.5 stored as passed
    source = write(tmp_path / "a.json", doc)
    err = refused(["report", source, "-o", str(tmp_path / "r.html")], capsys)
    assert (f"{source}: audits[0].gates[1] (precision >= 0.5, policy estimate): stored as passed, "
            "but 0.4 [0.37, 0.43] misses it") in err


def test_gate_verdict_is_recomputed_under_its_policy(tmp_path, capsys):
    doc = document([imbalance_record()])
    doc["audits"][0]["gates"][1]["policy"] = "upper"  # 0.43 >= 0.5 still misses: stored failed is right
    doc["audits"][0]["gates"][0]["policy"] = "lower"  # 0.85 >= 0.85 passes: stored passed is right
    source = write(tmp_path / "a.json", doc)
    assert main(["report", source, "--json", str(tmp_path / "m.json")]) == 1
    doc["audits"][0]["gates"][0]["threshold"] = 0.86  # the pessimistic bound 0.85 now misses
    write(tmp_path / "a.json", doc)
    assert "audits[0].gates[0] (recall >= 0.86, policy lower): stored as passed" in refused(
        ["report", source, "--json", str(tmp_path / "m.json")], capsys)


@pytest.mark.parametrize(("threshold", "message"), [
    ("Infinity", "non-finite number Infinity in the JSON"),
    ("1e999", "non-finite number 1e999 in the JSON"),
    ('"Infinity"', "audits[0].gates[0].threshold: expected a number, got 'Infinity'"),
])
def test_infinite_threshold_is_refused(tmp_path, capsys, threshold, message):
    path = tmp_path / "a.json"
    text = json.dumps(document([robustness_record()]))
    assert text.count('"threshold": 0.9,') == 1
    path.write_text(text.replace('"threshold": 0.9,', f'"threshold": {threshold},'))
    assert f"{path}: {message}" in refused(["report", str(path), "-o", str(tmp_path / "r.html")], capsys)


def test_unknown_audit_keys_and_the_verdict_fields_are_accepted(tmp_path):
    doc = passing_document()
    doc["audits"][0].update({"test_outcome": "passed", "handled": False, "written_by_a_newer_plugin": [1]})
    source = write(tmp_path / "a.json", doc)
    assert main(["report", source, "--json", str(tmp_path / "m.json")]) == 0


def test_unknown_stored_verdict_is_refused(tmp_path, capsys):
    doc = passing_document()
    doc["summary"]["verdict"] = "MOSTLY FINE"
    source = write(tmp_path / "a.json", doc)
    assert f"{source}: summary.verdict: expected one of 'PASS', 'NO AUDITS', 'FAIL', 'INCOMPLETE'" in refused(
        ["report", source, "--json", "m.json"], capsys)


def test_duplicate_test_ids_across_inputs_are_warned(tmp_path, capsys):
    a = write(tmp_path / "a.json", passing_document())
    b = write(tmp_path / "b.json", document([fairness_record(), robustness_record()]))
    assert main(["report", a, b, "--json", str(tmp_path / "m.json")]) == 0
    err = capsys.readouterr().err
    assert f"warning: test audits/test_adult.py::test_equal_opportunity is in 2 reports: {a}, {b}" in err
    assert "test_cnn.py" not in err


def test_several_audits_of_one_test_in_one_input_are_not_warned(tmp_path, capsys):
    second = fairness_record()
    second.index = 1
    source = write(tmp_path / "a.json", document([fairness_record(), second]))
    assert main(["report", source, "--json", str(tmp_path / "m.json")]) == 0
    assert "warning" not in capsys.readouterr().err


def with_baseline(records):
    doc = document(records)
    doc["baseline"] = {"path": "accepted.json", "policy": "significant", "tolerance": 0.01,
                       "changes": [], "new": [], "vanished": [], "warnings": []}
    return doc


def test_rerendering_one_report_keeps_its_baseline_comparison(tmp_path):
    source = write(tmp_path / "a.json", with_baseline([robustness_record()]))
    main(["report", source, "-o", str(tmp_path / "audit.html"), "--json", str(tmp_path / "again.json")])
    assert json.loads((tmp_path / "again.json").read_text())["baseline"]["path"] == "accepted.json"
    assert "Changes since baseline" in (tmp_path / "audit.html").read_text()


def test_merging_reports_with_baseline_comparisons_drops_them_and_says_so(tmp_path, capsys):
    a = write(tmp_path / "a.json", with_baseline([robustness_record()]))
    b = write(tmp_path / "b.json", document([imbalance_record()]))
    main(["report", a, b, "--json", str(tmp_path / "merged.json")])
    assert "baseline" not in json.loads((tmp_path / "merged.json").read_text())
    assert (f"warning: the baseline comparisons of {a} are not merged; run `python -m pytest_mlaudit compare "
            "BASELINE.json MERGED.json` on the merged report") in capsys.readouterr().err


def test_a_malformed_stored_comparison_is_shown_without_its_broken_rows(tmp_path):
    doc = with_baseline([robustness_record()])
    doc["baseline"]["changes"] = [{"nodeid": "t", "audit": "a", "metric": "m", "verdict": "regressed", "before": {}}]
    main(["report", write(tmp_path / "a.json", doc), "-o", str(tmp_path / "audit.html")])
    assert "1 malformed change(s) of the stored comparison are not shown" in (tmp_path / "audit.html").read_text()
