"""pytest-mlaudit: audit assertions for ML models, run as pytest tests.

This is the public API. pytest imports it in every run through the plugin, so every
module imported here is light: the audit modules import torch, scikit-learn, ART
and xgboost inside their functions, when an audit runs.

An audit family's main function may share its module's name (``robustness`` is
both the function and the subpackage): the function is bound here after the
subpackage is loaded, so ``pytest_mlaudit.robustness`` is the function.
"""

from __future__ import annotations

from .records import AuditRecord, Check, Estimate, Gate

# robustness
from .robustness.art_attacks import CarliniWagnerL2, DeepFool, HopSkipJump, Square
from .robustness.attacks import BIM, FGSM, PGD, RandomNoise, Transfer, make_attack
from .robustness.audit import RobustnessResult, assert_robust_accuracy, feature_range, robustness
from .robustness.curves import RobustnessCurve, assert_robustness_curve, robustness_curve

# imbalance and fairness
from .class_imbalance import (
    ImbalanceResult, LeakageError, ResamplerComparison,
    assert_balanced_accuracy, assert_minority_precision, assert_minority_recall, compare_resamplers, imbalance,
)
from .group_fairness import (
    FairnessResult, GroupFairness, GroupMetrics, MitigationComparison,
    assert_demographic_parity, assert_disparate_impact, assert_equalized_odds, compare_mitigation, fairness,
)

# privacy
from .privacy.membership import MembershipResult, assert_membership_advantage, membership_inference
from .privacy.training import PrivacyLeakError
from .privacy.utility import DPPoint, DPUtilityResult, assert_dp_accuracy_floor, dp_utility

__version__ = "0.1.0"

__all__ = [
    "AuditRecord", "Check", "Estimate", "Gate",
    # robustness
    "FGSM", "PGD", "BIM", "RandomNoise", "Transfer", "CarliniWagnerL2", "DeepFool", "HopSkipJump", "Square",
    "RobustnessResult", "RobustnessCurve",
    "robustness", "assert_robust_accuracy", "robustness_curve", "assert_robustness_curve", "make_attack",
    "feature_range",
    # imbalance and fairness
    "ImbalanceResult", "LeakageError", "ResamplerComparison",
    "imbalance", "assert_minority_recall", "assert_minority_precision", "assert_balanced_accuracy", "compare_resamplers",
    "FairnessResult", "GroupFairness", "GroupMetrics", "MitigationComparison",
    "fairness", "assert_demographic_parity", "assert_equalized_odds", "assert_disparate_impact", "compare_mitigation",
    # privacy
    "DPPoint", "DPUtilityResult", "MembershipResult", "PrivacyLeakError",
    "dp_utility", "assert_dp_accuracy_floor", "membership_inference", "assert_membership_advantage",
]

# The audit functions (the lower-case names) are what the `mlaudit` fixture exposes.
AUDIT_FUNCTIONS = tuple(name for name in __all__ if name[0].islower())
