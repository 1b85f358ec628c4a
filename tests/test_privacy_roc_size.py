"""Membership audits store a down-sampled ROC curve: a few hundred points, exact at low FPR, small records."""

import json

import numpy as np
import pytest
from report_samples import document
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_curve

import pytest_mlaudit as mla
from pytest_mlaudit.privacy.membership import roc_points
from pytest_mlaudit.report import html

SIZE_BOUND = 200_000  # bytes


@pytest.fixture(scope="module")
def large_audit():
    """A membership audit with 200,000 members and 200,000 holdout rows."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400_000, 3))
    y = (X[:, 0] + rng.normal(size=400_000) > 0).astype(int)
    model = LogisticRegression().fit(X[:200_000], y[:200_000])
    records = []
    with mla.settings(seed=0):
        import pytest_mlaudit.authoring as authoring

        deliver = authoring._deliver
        authoring._deliver = records.append
        try:
            mla.membership_inference(model, X[:200_000], y[:200_000], X[200_000:], y[200_000:])
        finally:
            authoring._deliver = deliver
    return records[0]


def test_json_of_a_200000_row_membership_audit_stays_under_200_kb(large_audit):
    assert len(json.dumps(large_audit.to_dict()).encode()) < SIZE_BOUND


def test_html_of_a_200000_row_membership_audit_stays_under_200_kb(large_audit):
    empty = len(html.render(document([])).encode())
    page = len(html.render(document([large_audit])).encode())
    assert page - empty < SIZE_BOUND


def test_stored_roc_has_a_few_hundred_points(large_audit):
    roc = large_audit.extras["curves"][0]["series"][0]
    assert 200 <= len(roc["x"]) <= 450


def test_roc_points_are_exact_at_every_false_positive_count_up_to_the_lowest_fpr():
    rng = np.random.default_rng(1)
    members, nonmembers = rng.normal(0.3, 1, 50_000), rng.normal(0, 1, 50_000)
    x, y = roc_points(members, nonmembers)
    fpr, tpr, _ = roc_curve(np.r_[np.ones(50_000), np.zeros(50_000)], np.r_[members, nonmembers],
                            drop_intermediate=False)
    for k in range(1, 51):  # 0.1% of 50,000 non-members is 50 false positives
        assert x[k - 1] == k / 50_000
        assert y[k - 1] == tpr[fpr <= k / 50_000].max()
    assert x[-1] == 1.0 and y[-1] == 1.0
    assert len(x) <= 250
