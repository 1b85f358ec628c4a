"""The HTML report: self-contained, escaped, every section, every kind of chart, old JSON."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from report_samples import HOSTILE, IMG, SCRIPT, document, every_kind, fairness_record, imbalance_record, robustness_record

from pytest_mlaudit.records import AuditRecord
from pytest_mlaudit.report import html


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


@pytest.fixture(scope="module")
def report() -> str:
    return html.render(document())


@pytest.fixture(scope="module")
def page(report) -> Elements:
    return Elements(report)


def test_hostile_strings_are_text_not_markup(report, page):
    assert page.named("script") == []
    assert page.named("img") == []
    assert not [attrs for _, attrs in page.tags if any(name.startswith("on") for name in attrs)]
    text = "".join(page.text)
    for hostile in HOSTILE:
        assert hostile in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report


@pytest.mark.parametrize("where", ["nodeid", "name", "model", "params", "check", "table", "published", "chart", "error"])
def test_every_user_string_is_escaped(where):
    record = robustness_record()
    if where == "nodeid":
        record.nodeid = f"t.py::test[{IMG}]"
    elif where == "name":
        record.name = SCRIPT
    elif where == "model":
        record.model["name"] = IMG
        record.model["architecture"] = SCRIPT
    elif where == "params":
        record.params[SCRIPT] = IMG
    elif where == "check":
        record.checks[0] = type(record.checks[0])(SCRIPT, True, IMG)
    elif where == "table":
        record.extras["tables"] = [{"title": SCRIPT, "columns": [IMG], "rows": [[SCRIPT]]}]
    elif where == "published":
        record.extras["published"][0]["source"] = IMG
    elif where == "chart":
        record.extras["curves"][0]["title"] = SCRIPT
        record.extras["curves"][0]["series"][0]["label"] = IMG
    elif where == "error":
        record.outcome, record.error = "error", SCRIPT
    page = Elements(html.render(document([record])))
    assert page.named("script") == [] and page.named("img") == []


def test_report_is_self_contained_and_forbids_fetches(report, page):
    policy = [attrs for attrs in page.named("meta") if attrs.get("http-equiv") == "Content-Security-Policy"]
    assert policy == [{"http-equiv": "Content-Security-Policy",
                       "content": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"}]
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "action"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    assert not re.search(r"url\((?!#)", report)
    assert page.named("link") == [] and page.named("iframe") == []


def test_every_section_is_present(page):
    ids = {attrs.get("id") for _, attrs in page.tags}
    assert {"summary", "requirements", "models", "audits", "published", "datasets", "environment", "methodology",
            "references"} <= ids
    assert {f"audit-{n}" for n in range(1, len(every_kind()) + 1)} <= ids


def test_summary_lists_failing_gates_first(page):
    failing = [attrs for attrs in page.named("table") if attrs.get("class") == "failing"]
    assert len(failing) == 1
    text = "".join(page.text)
    assert text.index("Failing gates") < text.index("All gates")
    assert "2 gate(s) missed; 1 audit(s) errored." in text


def test_each_kind_of_extras_becomes_its_chart(page):
    figures = [attrs["class"] for attrs in page.named("figure")]
    assert sorted(set(figures)) == ["chart-bars", "chart-confusion_matrix", "chart-curves", "chart-points"]
    assert len(page.named("svg")) == len(figures) == 6
    assert "Samplers compared" in "".join(page.text)


def test_svg_ids_are_unique_across_the_page(page):
    ids = [attrs["id"] for _, attrs in page.tags if attrs.get("id")]
    assert len(ids) == len(set(ids))


def test_models_are_deduplicated_by_fingerprint():
    same = [robustness_record(nodeid=f"t.py::test_{k}") for k in range(3)]
    page = Elements(html.render(document(same)))
    cards = [attrs for attrs in page.named("div") if attrs.get("class") == "card model"]
    assert len(cards) == 1


def test_model_card_shows_type_parameters_training_and_hyperparameters(report):
    assert "audited on data</th><td><code>981eabb376455bdc</code>" in report
    for expected in ("PaperCNN", "2606986", "5691b146de5b8dc9", "Training configuration", "adversarial_training",
                     "Hyper-parameters", "xgb.max_depth", "Conv2d(1, 64"):
        assert expected in report


def test_datasets_show_size_class_balance_and_fingerprint(report):
    assert "0: 1950 (97.5%), 1: 50 (2.5%)" in report
    assert "aa11bb22cc33dd44" in report and "scikit-learn digits" in report


def test_fingerprint_records_the_class_balance_the_datasets_section_shows():
    import numpy as np

    from pytest_mlaudit.validation import fingerprint

    data = fingerprint(np.zeros((4, 2), dtype=np.float32), np.array([0, 1, 1, 1]))
    assert data["class_counts"] == {"0": 1, "1": 3}
    record = AuditRecord(nodeid="t.py::test_a", category="imbalance", name="a", data=data)
    assert "0: 1 (25.0%), 1: 3 (75.0%)" in html.render(document([record]))


def test_train_and_test_fingerprints_become_two_data_sets():
    record = imbalance_record()
    split = record.data
    record.data = {"train": dict(split, sha256="train0001"), "test": dict(split, sha256="test0002")}
    page = Elements(html.render(document([record])))
    cards = [attrs for attrs in page.named("div") if attrs.get("class") == "card dataset"]
    assert len(cards) == 2
    text = "".join(page.text)
    assert "train0001 (train split)" in text and "test0002 (test split)" in text


def test_threat_model_is_set_apart_from_other_parameters(page):
    threat = [attrs for attrs in page.named("table") if attrs.get("class") == "threat-model"]
    assert threat
    text = "".join(page.text)
    assert "eps (budget)" in text and "input domain" in text and "iterations" in text


def test_published_numbers_stand_beside_ours_with_the_difference(report):
    assert "Robust and Fair AI, Table 2" in report
    assert "+0.0400" in report


def test_methodology_cites_the_methods(report):
    for citation in ("Goodfellow", "Madry", "Carlini", "Wilson", "Clopper", "Newcombe", "Chawla", "Hardt",
                     "Fairlearn", "Jagielski", "Diffprivlib", "Robust and Fair AI", "FraudNet"):
        assert citation in report


def test_old_json_without_extras_data_or_name_renders():
    old = {"schema": "pytest-mlaudit/1", "audits": [{
        "nodeid": "t.py::test_a", "category": "robustness", "outcome": "passed", "model": {}, "params": {},
        "metrics": {"acc": {"value": 0.9, "low": 0.8, "high": 0.95, "n": 100}},
        "gates": [{"metric": "acc", "op": ">=", "threshold": 0.8, "value": 0.9, "low": 0.8, "high": 0.95,
                   "policy": "estimate", "passed": True}],
        "checks": [], "duration_s": 0.1}]}
    report = html.render(old)
    assert "t.py::test_a" in report and "PASS" in report


@pytest.mark.parametrize("extras", [
    {"curves": [{"title": "no series"}]},
    {"curves": "not a list"},
    {"points": [{"points": [{"x": "a", "y": 1}]}]},
    {"bars": [{"bars": [{"label": "g"}]}]},
    {"confusion_matrix": {"matrix": [[1, 2], [3]]}},
    {"tables": [{"title": "t"}, "junk"], "published": [{"metric": "m"}, 3]},
])
def test_malformed_extras_give_a_note_not_a_crash(extras):
    record = AuditRecord(nodeid="t.py::test_a", category="imbalance", name="a", extras=extras)
    report = html.render(document([record]))
    assert "t.py::test_a" in report
    if not set(extras) <= {"tables", "published"}:
        assert "could not be drawn" in report


def test_report_is_deterministic_for_the_same_document():
    records = [imbalance_record(), fairness_record()]
    assert html.render(document(records)) == html.render(document(records))


def test_fifty_audits_with_charts_stay_well_under_two_megabytes():
    records = []
    for k in range(50):
        record = robustness_record(nodeid=f"audits/test_big.py::test_{k:02d}") if k % 2 else imbalance_record()
        record.nodeid = f"audits/test_big.py::test_{k:02d}"
        records.append(record)
    report = html.render(document(records))
    assert len(Elements(report).named("svg")) == 25 + 25 * 2
    assert len(report.encode()) < 1_000_000
