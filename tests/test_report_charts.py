"""The report's charts: inline SVG with text as text, unique ids, no metadata, deterministic."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from report_samples import SCRIPT, curves_extras, imbalance_record

from pytest_mlaudit.report import charts


def test_text_stays_text_not_glyph_paths():
    svg = charts.curves(curves_extras(label="FGSM sweep"), "c1")
    assert "<text" in svg and ">FGSM sweep</text>" in svg
    assert "<use xlink:href=\"#DejaVu" not in svg


def test_svg_has_no_prologue_metadata_or_date():
    svg = charts.curves(curves_extras(), "c1")
    assert svg.startswith('<svg class="chart" id="c1"')
    for absent in ("<?xml", "DOCTYPE", "<metadata", "dc:date", "<style", "http://purl"):
        assert absent not in svg


def test_ids_are_prefixed_with_the_chart_id_and_references_follow():
    svg = charts.curves(curves_extras(), "chart7-0")
    ids = re.findall(r' id="([^"]+)"', svg)
    references = re.findall(r'(?:href="#|url\(#)([^")]+)', svg)
    assert ids and all(i.startswith("chart7-0") for i in ids)
    assert references and set(references) <= set(ids)


def test_two_charts_of_the_same_data_share_no_id():
    first = set(re.findall(r' id="([^"]+)"', charts.curves(curves_extras(), "a")))
    second = set(re.findall(r' id="([^"]+)"', charts.curves(curves_extras(), "b")))
    assert first and not first & second


def test_same_data_gives_the_same_bytes():
    assert charts.curves(curves_extras(), "c") == charts.curves(curves_extras(), "c")


def test_each_extras_kind_draws_its_chart():
    drawn = charts.charts_for(imbalance_record().extras, "x")
    assert [(c.kind, c.error) for c in drawn] == [("points", ""), ("confusion_matrix", "")]
    matrix = drawn[1].svg
    for count in ("1884", "66", "44"):
        assert f">{count}</text>" in matrix


def test_bars_carry_error_bars_and_group_labels():
    svg = charts.bars({"title": "recall", "metric": "recall", "bars": [
        {"label": "female", "value": 0.8, "low": 0.7, "high": 0.9}, {"label": "male", "value": 0.6}]}, "b")
    assert ">female</text>" in svg and ">male</text>" in svg
    assert svg.count("<path") > 4


def test_a_curve_built_with_extras_draws_as_its_json_says():
    from pytest_mlaudit.extras import Curve, Series

    built = {}
    Curve("Robust accuracy under FGSM", x_label="eps (Linf)", y_label="robust accuracy",
          series=[Series("FGSM", x=[0.01, 0.03, 0.1], y=[0.9, 0.6, 0.2], low=[0.85, 0.5, 0.1],
                         high=[0.95, 0.7, 0.3])]).add_to(built)
    [chart] = charts.charts_for(built, "c")
    assert chart.error == "" and ">Robust accuracy under FGSM</text>" in chart.svg


def test_a_curve_without_x_scale_is_drawn_as_a_linear_one():
    old = curves_extras()
    assert "x_scale" not in old
    assert charts.curves(old, "c") == charts.curves({**old, "x_scale": "linear"}, "c")


def test_a_log_x_scale_changes_the_axis():
    spec = curves_extras()
    spec["series"] = [{**series, "x": [1e-3, 1e-2, 0.1, 1.0, 10.0]} for series in spec["series"]]
    assert charts.curves({**spec, "x_scale": "log"}, "c") != charts.curves(spec, "c")


def test_a_log_x_scale_over_non_positive_x_becomes_an_error_note():
    spec = {**curves_extras(), "x_scale": "log"}
    spec["series"] = [{**spec["series"][0], "x": [0.0] + spec["series"][0]["x"][1:]}]
    [chart] = charts.charts_for({"curves": [spec]}, "x")
    assert chart.svg == "" and "a log x axis needs positive x values" in chart.error


def test_an_unknown_x_scale_becomes_an_error_note():
    [chart] = charts.charts_for({"curves": [{**curves_extras(), "x_scale": "symlog"}]}, "x")
    assert chart.svg == "" and "x_scale must be one of linear, log, got 'symlog'" in chart.error


def test_a_bar_built_without_an_interval_draws_without_an_error_bar():
    from pytest_mlaudit.extras import Bar, Bars

    built = {}
    Bars("recall per group", metric="recall", bars=[Bar("female", 0.8, 0.7, 0.9), Bar("male", 0.6)]).add_to(built)
    assert built["bars"][0]["bars"][1]["low"] is None
    [chart] = charts.charts_for(built, "b")
    assert chart.error == "" and ">male</text>" in chart.svg


def test_user_strings_are_escaped_and_never_mathtext():
    svg = charts.curves(curves_extras(label=f"{SCRIPT} costs $5 and $6"), "c")
    assert "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt; costs $5 and $6" in svg


def test_malformed_data_becomes_an_error_note():
    [chart] = charts.charts_for({"confusion_matrix": {"matrix": [[1, 2]]}}, "x")
    assert chart.svg == "" and "must be square" in chart.error


def test_charts_leave_global_matplotlib_settings_alone():
    import matplotlib

    before = matplotlib.rcParams["svg.fonttype"]
    charts.curves(curves_extras(), "c")
    assert matplotlib.rcParams["svg.fonttype"] == before


def test_importing_the_report_imports_no_matplotlib():
    code = ("import sys, pytest_mlaudit.report.html, pytest_mlaudit.report.charts, pytest_mlaudit.__main__; "
            "print('matplotlib' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


@pytest.mark.parametrize("kind", ["curves", "points", "bars", "confusion_matrix"])
def test_one_chart_stays_small(kind):
    extras = {**imbalance_record().extras, "curves": [curves_extras()],
              "bars": [{"title": "t", "metric": "m", "bars": [{"label": "a", "value": 0.5, "low": 0.4, "high": 0.6}]}]}
    [chart] = [c for c in charts.charts_for(extras, "x") if c.kind == kind]
    assert len(chart.svg) < 12_000
