"""A bad input inside an assertion of any audit family: an error audit with its message, and reports intact.

One project holds a failing assertion per family (robustness, imbalance, fairness,
privacy) and a passing audit after them; the run must record each failure as an
``error`` audit of its family carrying the validation message, keep the passing
audit, and write both reports (the HTML showing each message, escaped).
"""

import json

import sklearn.linear_model  # noqa: F401  loaded here once: pytester's in-process runs cannot re-import numpy.fft
from markupsafe import escape

FAMILY_TESTS = """
    import numpy as np
    import pytest
    import pytest_mlaudit as mla
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X_tab = rng.normal(size=(120, 3))
    y_tab = (X_tab[:, 0] > 0).astype(int)
    fitted = LogisticRegression().fit(X_tab, y_tab)

    def test_robustness_family(mlaudit, model, data):
        X, y = data
        mlaudit.assert_robust_accuracy(model, X * 10, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0), at_least=0.5)

    def test_imbalance_family(mlaudit):
        X_test = X_tab.copy()
        X_test[3, 1] = np.nan
        mlaudit.assert_minority_recall(fitted, X_test=X_test, y_test=y_tab, prefit=True, at_least=0.5)

    def test_fairness_family(mlaudit):
        mlaudit.assert_disparate_impact(fitted, X_tab, y_tab, sensitive_features=["<a>", "b"] * 10, at_least=0.8)

    def test_privacy_family(mlaudit):
        mlaudit.assert_membership_advantage(fitted, X_tab[:60], y_tab[:60], X_tab[60:], y_tab[60:61], at_most=0.3)

    @pytest.mark.mlaudit(requirement="<img src=x onerror=alert(1)>")
    def test_fine_after_them(mlaudit, model, data):
        X, y = data
        mlaudit.assert_robust_accuracy(model, X, y, attack=mla.FGSM(eps=0.05), clip=(0.0, 1.0), at_least=0.5)
"""

EXPECTED = {
    "test_robustness_family": ("robustness", "outside the declared domain"),
    "test_imbalance_family": ("imbalance", "X_test contains 1 NaN or infinite values"),
    "test_fairness_family": ("fairness", "sensitive_features has 20 rows but X has 120 samples"),
    "test_privacy_family": ("privacy", "y_holdout has 1 labels but X_holdout has 60 samples"),
}


def test_each_family_records_its_bad_input_as_an_error_and_both_reports_are_written(audit_project):
    audit_project.makepyfile(FAMILY_TESTS)
    result = audit_project.runpytest("--mlaudit-json=out.json", "--mlaudit-report=out.html")
    result.assert_outcomes(passed=1, failed=4)
    audits = {audit["nodeid"].split("::")[1]: audit for audit in
              json.loads((audit_project.path / "out.json").read_text())["audits"]}
    assert set(audits) == {*EXPECTED, "test_fine_after_them"}
    assert audits["test_fine_after_them"]["outcome"] == "passed"
    html = (audit_project.path / "out.html").read_text()
    for test, (category, fragment) in EXPECTED.items():
        audit = audits[test]
        assert (audit["category"], audit["outcome"], audit["gates"]) == (category, "error", [])
        assert fragment in audit["error"]
        assert str(escape(audit["error"].splitlines()[0])) in html


def test_a_requirement_tag_is_escaped_in_the_html(audit_project):
    """Requirement ids come from users' markers: they reach the gate table and the requirement mapping as text."""
    audit_project.makepyfile(FAMILY_TESTS)
    audit_project.runpytest("-k", "fine_after", "--mlaudit-report=out.html").assert_outcomes(passed=1, deselected=4)
    html = (audit_project.path / "out.html").read_text()
    assert "<img" not in html
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") >= 2
