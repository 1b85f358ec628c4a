"""Robustness (evasion) audits: attacks, sanity checks, the audit functions and curves."""

from .art_attacks import CarliniWagnerL2, DeepFool, HopSkipJump, Square
from .attacks import BIM, FGSM, PGD, RandomNoise, Transfer, make_attack
from .audit import RobustnessResult, assert_robust_accuracy, feature_range, robustness
from .curves import RobustnessCurve, assert_robustness_curve, robustness_curve

__all__ = [
    "BIM", "FGSM", "PGD", "CarliniWagnerL2", "DeepFool", "HopSkipJump", "RandomNoise", "RobustnessCurve",
    "RobustnessResult", "Square", "Transfer", "assert_robust_accuracy", "assert_robustness_curve", "feature_range",
    "make_attack", "robustness", "robustness_curve",
]
