"""docs/metrics.md against the code: every metric an audit records is documented, every documented metric is recorded.

Each family's audits run on small data; the names they record are matched against
the names in the reference's tables (``<eps>``, ``<feature>``... standing for any value).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import pytest_mlaudit as mla

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"
PLACEHOLDERS = {
    "<eps>": r"[0-9.e+-]+", "<epsilon>": r"[0-9.e+-]+", "<feature>": r"[^\[\]]+",
    "<resampler>": r"[^/]+", "<arm>": r"(?:unmitigated|mitigated)",
}
FAMILIES = ("Robustness", "Imbalance", "Fairness", "Privacy")


def documented() -> dict[str, re.Pattern]:
    """Every metric name in the first column of the families' tables, as a pattern."""
    names: dict[str, re.Pattern] = {}
    family = None
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            family = next((name for name in FAMILIES if line[3:].startswith(name)), None)
        if family and line.startswith("| `"):
            for name in re.findall(r"`([^`]+)`", line.split(" | ")[0]):
                pattern = re.escape(name)
                for placeholder, regex in PLACEHOLDERS.items():
                    pattern = pattern.replace(re.escape(placeholder), regex)
                names[name] = re.compile(pattern + r"\Z")
    return names


def recorded_by_every_family() -> set[str]:
    """The metric names of every family's audits, run on small data."""
    pytest.importorskip("torch")
    pytest.importorskip("imblearn")
    pytest.importorskip("fairlearn")
    from sklearn.linear_model import LogisticRegression

    names: set[str] = set()
    with mla.settings(seed=3):
        names |= _robustness()
        rng = np.random.default_rng(0)
        X = rng.normal(size=(600, 3))
        y = (X[:, 0] + 0.5 * rng.normal(size=600) > 1.3).astype(int)
        train, test = slice(0, 400), slice(400, 600)
        names |= _metrics_of(lambda: mla.imbalance(LogisticRegression(), X[train], y[train], X[test], y[test],
                                                   n_resamples=30))
        names |= _metrics_of(lambda: mla.compare_resamplers(LogisticRegression(), X[train], y[train], X[test], y[test],
                                                            n_resamples=30))
        names |= _fairness(X, y, train, test)
        names |= _privacy(X, y, train, test)
    return names


def _robustness() -> set[str]:
    import torch

    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    X = np.random.default_rng(1).uniform(size=(40, 4)).astype(np.float32)
    y = model(torch.as_tensor(X)).argmax(1).numpy()
    names: set[str] = set()
    for audit in (lambda: mla.robustness(model, X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0), sanity_samples=0),
                  lambda: mla.robustness_curve(model, X, y, attack=mla.FGSM(eps=0.1), eps=[0.05, 0.1], clip=(0.0, 1.0),
                                               sanity_samples=0)):
        names |= _metrics_of(audit)
    return names


def _fairness(X, y, train, test) -> set[str]:
    from sklearn.linear_model import LogisticRegression

    group = np.where(X[:, 1] > 0, "A", "B")
    band = np.where(X[:, 2] > 0, "old", "young")
    import pandas as pd

    sensitive = pd.DataFrame({"group": group, "band": band})
    model = LogisticRegression().fit(X[train], y[train])
    names = _metrics_of(lambda: mla.fairness(model, X[test], y[test], sensitive_features=sensitive.iloc[test],
                                             n_bootstrap=30))
    names |= _metrics_of(lambda: mla.compare_mitigation(
        LogisticRegression(), X[train], y[train], X[test], y[test], sensitive_features_train=sensitive.iloc[train],
        sensitive_features_test=sensitive.iloc[test], n_bootstrap=30))
    return names


def _privacy(X, y, train, test) -> set[str]:
    from dp_models import OutputPerturbed
    from sklearn.linear_model import LogisticRegression

    names = _metrics_of(lambda: mla.dp_utility(lambda epsilon, seed: OutputPerturbed(epsilon=epsilon, random_state=seed),
                                               X[train], y[train], X[test], y[test], epsilons=[1.0], seeds=3,
                                               baseline=LogisticRegression()))
    model = LogisticRegression().fit(X[train], y[train])
    names |= _metrics_of(lambda: mla.membership_inference(model, X[train], y[train], X[test], y[test]))
    return names


def _metrics_of(run) -> set[str]:
    """The metric names the audits in ``run`` recorded, caught through the record hook's outside-pytest path."""
    from pytest_mlaudit import authoring

    seen: list = []
    original = authoring._deliver
    authoring._deliver = lambda record: (seen.append(record), original(record))
    try:
        run()
    finally:
        authoring._deliver = original
    return {name for record in seen for name in record.metrics}


@pytest.fixture(scope="module")
def recorded() -> set[str]:
    return recorded_by_every_family()


def test_every_recorded_metric_is_documented(recorded):
    patterns = documented()
    missing = sorted(name for name in recorded if not any(p.match(name) for p in patterns.values()))
    assert missing == []


def test_every_documented_metric_is_recorded_by_some_audit(recorded):
    unused = sorted(name for name, pattern in documented().items() if not any(pattern.match(n) for n in recorded))
    assert unused == []


def test_the_reference_documents_the_exported_exceptions():
    text = REFERENCE.read_text(encoding="utf-8")
    exported = [name for name in dir(mla) if name.endswith("Error")]
    assert exported and all(f"`mla.{name}`" in text for name in exported)


def test_the_readme_links_the_reference():
    readme = (REFERENCE.parent.parent / "README.md").read_text(encoding="utf-8")
    assert "docs/metrics.md" in readme
