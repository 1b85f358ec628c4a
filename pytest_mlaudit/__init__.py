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
from .robustness.attacks import FGSM, make_attack
from .robustness.audit import RobustnessResult, assert_robust_accuracy, robustness

# imbalance and fairness

# privacy

__version__ = "0.1.0"

# The audit functions the `mlaudit` fixture exposes, bound to the running test.
AUDIT_FUNCTIONS = (
    "robustness", "assert_robust_accuracy", "make_attack",
)

__all__ = [
    "AuditRecord", "Check", "Estimate", "Gate",
    "FGSM", "RobustnessResult",
    *AUDIT_FUNCTIONS,
]
