"""Robustness (evasion) audits: attacks, sanity checks and the audit functions."""

from .attacks import FGSM, make_attack
from .audit import RobustnessResult, assert_robust_accuracy, robustness

__all__ = ["FGSM", "RobustnessResult", "assert_robust_accuracy", "make_attack", "robustness"]
