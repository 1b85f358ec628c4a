"""pytest-mlaudit: audit assertions for ML models, run as pytest tests.

This is the public API. pytest loads this package in every run where the plugin is
installed, so the names below are resolved lazily (PEP 562): ``mla.FGSM`` imports
the evasion audits the first time it is looked up, and a pytest run that audits
nothing imports none of them. The audit modules in turn import torch,
scikit-learn, ART and xgboost inside their functions, when an audit runs.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> the module (relative to this package) that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("AuditRecord", "Check", "Estimate", "Gate"), "records"),
    "MissingExtraError": "dependencies",
    # robustness (evasion)
    **dict.fromkeys(("CarliniWagnerL2", "DeepFool", "HopSkipJump", "Square"), "evasion.art_attacks"),
    **dict.fromkeys(("BIM", "FGSM", "PGD", "RandomNoise", "Transfer", "make_attack"), "evasion.attacks"),
    **dict.fromkeys(("RobustnessResult", "assert_robust_accuracy", "feature_range", "robustness"), "evasion.audit"),
    **dict.fromkeys(("RobustnessCurve", "assert_robustness_curve", "robustness_curve"), "evasion.curves"),
    # imbalance and fairness
    **dict.fromkeys(("ImbalanceResult", "ResamplerComparison", "assert_balanced_accuracy", "assert_minority_precision",
                     "assert_minority_recall", "compare_resamplers", "imbalance"), "class_imbalance.audit"),
    "LeakageError": "class_imbalance.leakage",
    **dict.fromkeys(("FairnessResult", "GroupFairness", "GroupMetrics", "MitigationComparison",
                     "assert_demographic_parity", "assert_disparate_impact", "assert_equalized_odds",
                     "compare_mitigation", "fairness"), "group_fairness"),
    # privacy
    **dict.fromkeys(("MembershipResult", "assert_membership_advantage", "membership_inference"), "privacy.membership"),
    "PrivacyLeakError": "privacy.training",
    **dict.fromkeys(("DPPoint", "DPUtilityResult", "assert_dp_accuracy_floor", "dp_utility"), "privacy.utility"),
}

__all__ = list(_EXPORTS)

# The audit functions (the lower-case names) are what the `mlaudit` fixture exposes.
AUDIT_FUNCTIONS = tuple(name for name in __all__ if name[0].islower())


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        imported = importlib.import_module(f".{module}", __name__)
    except ModuleNotFoundError as exc:
        # a family module that imports its optional library at module level: name the extra
        from .dependencies import translate

        raise translate(exc) from exc
    value = getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
