"""``python -m pytest_mlaudit report``: re-render HTML from JSON, merge sharded runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from report_samples import document, errored_record, fairness_record, imbalance_record, robustness_record

from pytest_mlaudit.__main__ import main
from pytest_mlaudit.records import SCHEMA


def write(path, doc) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


def test_rerenders_html_from_one_json(tmp_path, capsys):
    source = write(tmp_path / "a.json", document([imbalance_record()]))
    assert main(["report", source, "-o", str(tmp_path / "audit.html")]) == 0
    report = (tmp_path / "audit.html").read_text()
    assert "minority recall with SMOTE" in report and 'id="requirements"' in report
    assert "FAIL: 1 audits from 1 report(s), 1/2 gates passed" in capsys.readouterr().out


def test_merges_shards_sorted_as_the_plugin_sorts(tmp_path):
    # shard b holds the audit of the earlier file: merged order follows file and line, not argument order
    a = write(tmp_path / "a.json", document([robustness_record(), errored_record()]))
    b = write(tmp_path / "b.json", document([fairness_record()]))
    assert main(["report", a, b, "-o", str(tmp_path / "audit.html"), "--json", str(tmp_path / "merged.json")]) == 0
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
