"""Charts are drawn where each record is made (on the xdist worker) and carried to the controller on the test report.

The controller only assembles the page; a record that arrives without drawn charts
(a crashed worker's journal, a JSON document read back) is drawn by the report.
"""

import json
import re

import pytest

from pytest_mlaudit.report import charts, html
from pytest_mlaudit.report.json import build_document

from report_samples import ENVIRONMENT, robustness_record

AUDIT_WITH_A_CURVE = """
    import pytest_mlaudit as mla
    from pytest_mlaudit import extras

    def test_curve():
        with mla.audit("custom", "a curve") as a:
            a.metric("score", mla.proportion(8, 10))
            a.extra(extras.Curve("score over x", x_label="x", y_label="score",
                                 series=[extras.Series("model", x=[1.0, 2.0], y=[0.8, 0.7])]))
"""


def chart_ids(page: str) -> list[str]:
    return re.findall(r'<svg class="chart" id="([^"]+)"', page)


def test_the_report_uses_the_charts_drawn_with_the_record():
    record = robustness_record()
    drawn = charts.drawn_where_recorded(record.extras, record.nodeid, record.index)
    page = html.render(build_document([record], dict(ENVIRONMENT)), drawn={(record.nodeid, record.index): drawn})
    prefix = drawn[0]["svg"].split('id="', 1)[1].split('"', 1)[0]
    assert chart_ids(page) == [prefix] and re.fullmatch(r"c[0-9a-f]{10}-0", prefix)


def test_a_record_without_drawn_charts_is_drawn_by_the_report():
    record = robustness_record()
    page = html.render(build_document([record], dict(ENVIRONMENT)))
    assert chart_ids(page) == ["chart1-0"]


def test_drawn_charts_of_two_records_never_share_ids():
    first, second = robustness_record("a.py::test_one"), robustness_record("a.py::test_two")
    ids = [chart["svg"].split('id="', 1)[1].split('"', 1)[0]
           for record in (first, second) for chart in charts.drawn_where_recorded(record.extras, record.nodeid, 0)]
    assert len(set(ids)) == 2


@pytest.mark.slow
def test_under_xdist_the_workers_draw_and_the_json_carries_no_svg(pytester):
    pytester.makepyfile(AUDIT_WITH_A_CURVE)
    result = pytester.runpytest_subprocess("-n", "2", "--mlaudit-report=audit.html", "--mlaudit-json=audit.json")
    result.assert_outcomes(passed=1)
    page = (pytester.path / "audit.html").read_text()
    assert len(chart_ids(page)) == 1 and chart_ids(page)[0].startswith("c")  # drawn on the worker, not "chart1-0"
    document = (pytester.path / "audit.json").read_text()
    assert "<svg" not in document
    assert json.loads(document)["audits"][0]["extras"]["curves"][0]["title"] == "score over x"


def test_re_rendering_the_json_draws_the_charts(pytester):
    pytester.makepyfile(AUDIT_WITH_A_CURVE)
    pytester.runpytest("--mlaudit-json=audit.json").assert_outcomes(passed=1)
    from pytest_mlaudit.report.json import load

    page = html.render(load(pytester.path / "audit.json"))
    assert chart_ids(page) == ["chart1-0"]
