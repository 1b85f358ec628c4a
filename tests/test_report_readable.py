"""Parameter values, thresholds and intervals in the HTML report read as text a reviewer understands."""

import re

from pytest_mlaudit.report import html
from pytest_mlaudit.report.json import build_document

from report_samples import ENVIRONMENT, robustness_record


def text(markup) -> str:
    return re.sub(r"<[^>]+>", "", str(markup))


def test_an_estimator_shows_as_its_class_and_changed_parameters():
    description = {"name": "LogisticRegression", "kind": "sklearn", "params": {"C": 1.0, "max_iter": 1000, "tol": 0.0001},
                   "changed_params": ["max_iter"]}
    shown = html._param(description, "baseline")
    assert text(shown) == "LogisticRegression(max_iter=1000) (sklearn)"
    assert 'title="every parameter: C=1, max_iter=1000, tol=0.0001"' in str(shown)


def test_an_estimator_recorded_before_changed_parameters_existed_shows_the_ones_set():
    description = {"name": "SVC", "kind": "sklearn", "params": {"C": 2.0, "gamma": None}}
    assert text(html._param(description)) == "SVC(C=2) (sklearn)"


def test_none_is_a_dash_whose_tooltip_says_what_it_means():
    assert str(html._param(None, "resampler")) == (
        '<span class="none" title="no resampler: the model was fitted on the training split as it is">–</span>')
    assert 'title="not set"' in str(html._param(None, "something_else"))


def test_a_budget_is_a_small_table():
    budget = {"accountant": "diffprivlib.BudgetAccountant", "per_model": [{"epsilon": 1.0, "delta": 0.0}]}
    shown = str(html._param(budget, "budget"))
    assert shown.startswith('<table class="kv"><tr><th>accountant</th><td>diffprivlib.BudgetAccountant</td></tr>')
    assert "<tr><th>epsilon</th><th>delta</th></tr><tr><td>1</td><td>0</td></tr>" in shown
    assert "{" not in shown


def test_lists_and_flags_read_as_text():
    assert text(html._param([0.05, 0.1, 0.2])) == "0.05, 0.1, 0.2"
    assert text(html._param(True)) == "yes" and text(html._param(False)) == "no"
    assert 'title="an empty list"' in str(html._param([]))
    long = html._param(list(range(30)))
    assert text(long).endswith(", … (30 values)")


def test_a_table_cell_without_a_value_is_a_dash():
    assert str(html._cell(None)) == '<span class="none" title="not applicable to this row">–</span>'
    assert html._cell(0.5) == "0.5"


def test_thresholds_are_formatted():
    assert html._threshold(0.45666666666666667) == "0.4567"
    assert html._threshold(8 / 255) == "0.03137"
    assert html._threshold(1) == "1"


def test_the_report_prints_formatted_thresholds():
    record = robustness_record()
    record.gates[0] = type(record.gates[0])(**{**record.gates[0].__dict__, "threshold": 0.45666666666666667})
    page = html.render(build_document([record], dict(ENVIRONMENT)))
    assert "0.45666666666666667" not in page and "&gt;= 0.4567" in page


def test_a_quantile_whose_lower_end_is_the_floor_is_explained():
    metric = {"value": 0.9089, "low": 0.0, "high": 0.9778, "n": 20, "method": "order statistics q=0.05",
              "confidence": 0.95}
    note = html._interval_note(metric)
    assert "no order statistic of 20 runs is a 95% lower bound for the 0.05 quantile" in note
    assert "probability 64%" in note and "72 runs or more" in note
    assert html._interval_note({**metric, "n": 100, "low": 0.8}) .startswith("distribution-free interval")
    assert html._interval_note({"method": "wilson"}) == ""


def test_a_test_id_breaks_only_after_slashes_and_double_colons_and_before_its_parameters():
    shown = str(html._nodeid("audits/test_bias.py::test_recall[generated-SMOTE]"))
    assert shown == ('<code class="nodeid" title="audits/test_bias.py::test_recall[generated-SMOTE]">'
                     '<span class="seg">audits/</span><wbr><span class="seg">test_bias.py::</span><wbr>'
                     '<span class="seg">test_recall</span><wbr><span class="seg">[generated-SMOTE]</span></code>')
