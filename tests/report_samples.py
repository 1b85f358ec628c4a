"""Audit records made by hand for the report tests: every kind of extras, and hostile strings.

The hostile strings go where users control text: test ids, model names, parameter
keys and values, check details, chart labels, table cells, published sources.
"""

from __future__ import annotations

from pytest_mlaudit.records import AuditRecord, Check, Estimate, Gate
from pytest_mlaudit.report.json import build_document

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = (SCRIPT, IMG)

ENVIRONMENT = {
    "created": "2026-01-01T00:00:00+00:00", "python": "3.11.7", "platform": "Linux-test", "machine": "x86_64",
    "cpu_count": 2, "packages": {"pytest": "8.4.0", "torch": "2.13.0", "fairlearn": None}, "git_commit": "abc123",
    "seed": 0, "confidence": 0.95, "policy": "estimate", "device": "cpu", "data_dir": None,
}


def estimate(value: float, n: int = 500, width: float = 0.03) -> Estimate:
    return Estimate(value, max(0.0, value - width), min(1.0, value + width), n)


def gate(metric: str, value: float, op: str, threshold: float, passed: bool, requirements=()) -> Gate:
    return Gate(metric, op, threshold, value, max(0.0, value - 0.03), min(1.0, value + 0.03), "estimate", passed,
                tuple(requirements))


def curves_extras(label: str = "FGSM") -> dict:
    eps = [0.0, 0.01, 0.02, 0.05, 0.1]
    accuracy = [0.97, 0.9, 0.8, 0.5, 0.2]
    return {"title": "Robust accuracy over eps", "x_label": "eps", "y_label": "accuracy", "series": [
        {"label": label, "x": eps, "y": accuracy, "low": [a - 0.03 for a in accuracy], "high": [a + 0.02 for a in accuracy]},
    ]}


def robustness_record(nodeid: str = "audits/test_cnn.py::test_fgsm", model_name: str = "PaperCNN") -> AuditRecord:
    return AuditRecord(
        nodeid=nodeid, category="robustness", name="robust accuracy under FGSM (eps=0.02, Linf)",
        model={"name": model_name, "kind": "torch", "parameters": 2606986, "trainable_parameters": 2606986,
               "architecture": "Sequential(\n  (0): Conv2d(1, 64, kernel_size=(3, 3))\n)", "fingerprint": "5691b146de5b8dc9",
               "training": {"epochs": 5, "optimizer": "Adam", "adversarial_training": "FGSM eps=0.02"}},
        params={"attack": "FGSM", "norm": "Linf", "eps": 0.02, "steps": 1, "clip": [0.0, 1.0], "batch_size": 256},
        data={"sha256": "981eabb376455bdc", "n": 540, "shape": [540, 1, 8, 8], "dtype": "float32",
              "source": "scikit-learn digits", "class_counts": {"0": 270, "1": 270}},
        metrics={"clean_accuracy": estimate(0.98), "robust_accuracy": estimate(0.95)},
        gates=[gate("robust_accuracy", 0.95, ">=", 0.9, True, ["EU-AI-Act-Art15"])],
        checks=[Check("deterministic forward pass", True, "two passes agree"),
                Check("non-zero input gradients", False, "gradients vanish: masking suspected")],
        extras={"curves": [curves_extras()],
                "published": [{"metric": "robust_accuracy", "ours": 0.95, "published": 0.91,
                               "source": "Robust and Fair AI, Table 2", "note": "CIFAR-10 in the paper"}]},
        requirements=["EU-AI-Act-Art15"], duration_s=1.5, location=("audits/test_cnn.py", 10),
    )


def imbalance_record() -> AuditRecord:
    return AuditRecord(
        nodeid="audits/test_fraud.py::test_smote_recall", category="imbalance", name="minority recall with SMOTE",
        model={"name": "Pipeline", "kind": "imblearn", "steps": ["smote: SMOTE", "xgb: XGBClassifier"],
               "params": {"smote": {"k_neighbors": 5}, "xgb": {"n_estimators": 100, "max_depth": 4}}},
        params={"sampler": "SMOTE", "positive_label": 1},
        data={"sha256": "aa11bb22cc33dd44", "n": 2000, "shape": [2000, 30], "dtype": "float64",
              "class_counts": {"0": 1950, "1": 50}},
        metrics={"recall": estimate(0.88, 50, 0.08), "precision": estimate(0.4, 110, 0.09)},
        gates=[gate("recall", 0.88, ">=", 0.85, True), gate("precision", 0.4, ">=", 0.5, False)],
        outcome="failed",
        extras={
            "confusion_matrix": {"labels": ["legit", "fraud"], "matrix": [[1884, 66], [6, 44]]},
            "points": [{"title": "Precision against recall per sampler", "x_label": "recall", "y_label": "precision",
                        "points": [{"label": "none", "x": 0.7, "y": 0.9}, {"label": "SMOTE", "x": 0.88, "y": 0.4},
                                   {"label": "undersampling", "x": 0.93, "y": 0.04, "x_low": 0.85, "x_high": 0.97,
                                    "y_low": 0.03, "y_high": 0.05}]}],
            "tables": [{"title": "Samplers compared", "columns": ["sampler", "recall", "precision"],
                        "rows": [["none", 0.7, 0.9], ["SMOTE", 0.88, 0.4], [SCRIPT, 0.93, 0.04]]}],
        },
        duration_s=0.7, location=("audits/test_fraud.py", 5),
    )


def fairness_record() -> AuditRecord:
    return AuditRecord(
        nodeid="audits/test_adult.py::test_equal_opportunity", category="fairness", name="equal opportunity",
        model={"name": "LogisticRegression", "kind": "sklearn", "params": {"C": 1.0}},
        params={"sensitive_feature": "sex"},
        metrics={"equal_opportunity_difference": Estimate(0.04, 0.01, 0.07, 800, method="bootstrap")},
        gates=[gate("equal_opportunity_difference", 0.04, "<=", 0.1, True, ["ACME-FAIR-1"])],
        requirements=["ACME-FAIR-1"],
        extras={"bars": [{"title": "Recall per group", "metric": "recall", "bars": [
            {"label": "female", "value": 0.81, "low": 0.76, "high": 0.86},
            {"label": "male", "value": 0.85, "low": 0.82, "high": 0.88}]}]},
        duration_s=0.2, location=("audits/test_adult.py", 3),
    )


def privacy_record() -> AuditRecord:
    return AuditRecord(
        nodeid="audits/test_dp.py::test_dp_accuracy", category="privacy", name="DP accuracy floor",
        model={"name": "LogisticRegression", "kind": "diffprivlib", "params": {"epsilon": 1.0}},
        params={"epsilon": 1.0, "repeats": 10},
        metrics={"accuracy": Estimate(0.78, 0.74, 0.82, 10, method="t")},
        gates=[gate("accuracy", 0.78, ">=", 0.8, False)], outcome="failed",
        extras={"curves": [{"title": "Privacy-utility", "x_label": "epsilon", "y_label": "accuracy", "series": [
            {"label": "DP", "x": [0.1, 1.0, 10.0], "y": [0.5, 0.78, 0.9], "low": [0.4, 0.74, 0.88], "high": [0.6, 0.82, 0.92]},
            {"label": "non-private", "x": [0.1, 1.0, 10.0], "y": [0.95, 0.95, 0.95]}]}]},
        duration_s=2.0, location=("audits/test_dp.py", 7),
    )


def hostile_record() -> AuditRecord:
    """Hostile strings everywhere a user writes text."""
    return AuditRecord(
        nodeid=f"audits/test_x.py::test_evil[{SCRIPT}{IMG}]", category="robustness", name=f"audit {SCRIPT}",
        model={"name": f"Model{SCRIPT}{IMG}", "kind": "torch", "fingerprint": "0000hostile", "architecture": SCRIPT},
        params={"attack": IMG, f"key{SCRIPT}": f"value{IMG}", "eps": 0.1},
        data={"sha256": "ffee", "n": 3, "source": IMG},
        metrics={"robust_accuracy": estimate(0.5)},
        gates=[gate("robust_accuracy", 0.5, ">=", 0.4, True, [f"REQ{IMG}"])],
        checks=[Check(f"check {SCRIPT}", True, IMG)],
        extras={"curves": [curves_extras(label=SCRIPT)],
                "published": [{"metric": "robust_accuracy", "ours": 0.5, "published": 0.6, "source": SCRIPT, "note": IMG}]},
        location=("audits/test_x.py", 1),
    )


def errored_record() -> AuditRecord:
    return AuditRecord(nodeid="audits/test_dp.py::test_crash", category="privacy", name="membership inference",
                       outcome="error", error=f"ValueError: X must be 2-D {SCRIPT}", location=("audits/test_dp.py", 30))


def every_kind() -> list[AuditRecord]:
    return [robustness_record(), imbalance_record(), fairness_record(), privacy_record(), hostile_record(),
            errored_record()]


def document(records: list[AuditRecord] | None = None, mapping=None) -> dict:
    return build_document(every_kind() if records is None else records, dict(ENVIRONMENT), mapping)
