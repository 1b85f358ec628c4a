"""Every failed gate is visible in the HTML as a row: in the failing table, in the all-gates table, in its audit card.

The summary sentence is computed from the records, so it cannot show that a row went
missing; these tests read the rendered tables back with ``html.parser`` and look for
each failed gate's test, metric, value, interval, threshold and policy in the cells.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from report_samples import document, every_kind, imbalance_record, privacy_record, robustness_record

from pytest_mlaudit.records import Gate
from pytest_mlaudit.report import html


class Tables(HTMLParser):
    """Every table of the page: its class, the id of the article around it, its rows as lists of cell texts."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: list[dict] = []
        self.articles: dict[str, list[str]] = {}  # article id -> its text pieces
        self._open: list[dict] = []
        self._article: str | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "article":
            self._article = attrs.get("id")
            self.articles[self._article] = []
        elif tag == "table":
            table = {"class": attrs.get("class"), "article": self._article, "rows": []}
            self.tables.append(table)
            self._open.append(table)
        elif tag == "tr" and self._open:
            self._open[-1]["rows"].append([])
        elif tag in ("td", "th") and self._open:
            self._cell = []
        elif tag == "a" and self._cell is not None and attrs.get("href"):
            self._cell.append(f"<{attrs['href']}>")

    def handle_endtag(self, tag):
        if tag == "article":
            self._article = None
        elif tag == "table" and self._open:
            self._open.pop()
        elif tag in ("td", "th") and self._cell is not None and self._open:
            self._open[-1]["rows"][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._article is not None:
            self.articles[self._article].append(data)

    def rows(self, table_class: str | None = None, header: str | None = None, article: str | None = None):
        """Body rows of the tables with this class (or this first header cell, or inside this article)."""
        found = []
        for table in self.tables:
            if table_class is not None and table["class"] != table_class:
                continue
            if header is not None and (not table["rows"] or not table["rows"][0] or table["rows"][0][0] != header):
                continue
            if article is not None and table["article"] != article:
                continue
            found.extend(table["rows"][1:])
        return found


def number(value: float) -> str:
    return html._number(value)


def interval(gate: Gate) -> str:
    return f"{number(gate.value)} [{number(gate.low)}, {number(gate.high)}]"


def failed_gates(records):
    return [(record, gate) for record in records if not record.handled for gate in record.gates if not gate.passed]


def article_of(page: Tables, nodeid: str) -> str:
    (anchor,) = [anchor for anchor, text in page.articles.items() if nodeid in "".join(text)]
    return anchor


@pytest.fixture(scope="module")
def records():
    more = imbalance_record()
    more.nodeid = "audits/test_fraud.py::test_two_missed"
    more.gates = [Gate("recall", ">=", 0.95, 0.88, 0.8, 0.94, "lower", False, ()),
                  Gate("precision", ">=", 0.6, 0.4, 0.31, 0.49, "upper", False, ())]
    return [*every_kind(), more]


@pytest.fixture(scope="module")
def page(records) -> Tables:
    return Tables(html.render(document(records)))


def test_the_sample_run_has_four_failed_gates_in_three_audits(records):
    assert [(r.nodeid, g.metric) for r, g in failed_gates(records)] == [
        ("audits/test_fraud.py::test_smote_recall", "precision"), ("audits/test_dp.py::test_dp_accuracy", "accuracy"),
        ("audits/test_fraud.py::test_two_missed", "recall"), ("audits/test_fraud.py::test_two_missed", "precision")]


def test_every_failed_gate_has_its_row_in_the_failing_table(records, page):
    rows = page.rows("failing")
    assert len(rows) == len(failed_gates(records))
    for record, gate in failed_gates(records):
        anchor = article_of(page, record.nodeid)
        expected = [record.nodeid, f"<#{anchor}>{record.name}", gate.metric, interval(gate),
                    f"{gate.op} {gate.threshold:.4g}", gate.policy]
        assert expected in rows, (record.nodeid, gate.metric)


def test_every_failed_gate_has_a_fail_row_in_the_all_gates_table(records, page):
    rows = page.rows(header="verdict")
    assert len(rows) == sum(len(r.gates) for r in records)
    for record, gate in failed_gates(records):
        anchor = article_of(page, record.nodeid)
        # the test cell holds the full id, then the short name the compact mode shows
        matching = [row for row in rows if row[1].startswith(f"<#{anchor}>{record.nodeid}")
                    and row[2:6] == [gate.metric, interval(gate), f"{gate.op} {gate.threshold:.4g}", gate.policy]]
        assert len(matching) == 1, (record.nodeid, gate.metric)
        assert matching[0][0].startswith("fail")


def test_passed_gates_are_marked_pass_in_the_all_gates_table(records, page):
    verdicts = [row[0].split()[0] for row in page.rows(header="verdict")]
    assert sorted(verdicts) == sorted("pass" if g.passed else "fail" for r in records for g in r.gates)


def test_every_failed_gate_has_a_fail_row_in_its_audit_card(records, page):
    for record, gate in failed_gates(records):
        rows = page.rows(header="gate", article=article_of(page, record.nodeid))
        assert [f"{gate.metric} {gate.op} {gate.threshold:.4g}", interval(gate), gate.policy, "fail"] in rows


def test_each_audit_card_lists_exactly_its_own_gates(records, page):
    for record in records:
        rows = page.rows(header="gate", article=article_of(page, record.nodeid))
        assert [row[0] for row in rows] == [f"{g.metric} {g.op} {g.threshold}" for g in record.gates]
        assert [row[3] for row in rows] == ["pass" if g.passed else "fail" for g in record.gates]


def test_a_run_with_only_passing_gates_has_no_failing_table():
    page = Tables(html.render(document([robustness_record()])))
    assert page.rows("failing") == []
    assert [row[0].split()[0] for row in page.rows(header="verdict")] == ["pass"]


def test_a_handled_failure_is_out_of_the_failing_table_but_kept_in_all_gates_and_its_card():
    handled = privacy_record()
    handled.handled = True
    page = Tables(html.render(document([handled, imbalance_record()])))
    assert [row[0] for row in page.rows("failing")] == ["audits/test_fraud.py::test_smote_recall"]
    (row,) = [row for row in page.rows(header="verdict") if row[2] == "accuracy"]
    assert row[0].startswith("fail") and "handled" in row[0]
    card = page.rows(header="gate", article=article_of(page, handled.nodeid))
    assert card[0][3] == "fail"
