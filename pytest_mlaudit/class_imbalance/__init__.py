"""Imbalance audits: minority-class metrics with intervals, resampler comparison, leakage guards."""

from .audit import (ImbalanceResult, ResamplerComparison, assert_balanced_accuracy, assert_minority_precision,
                    assert_minority_recall, compare_resamplers, imbalance)
from .leakage import LeakageError

__all__ = ["ImbalanceResult", "LeakageError", "ResamplerComparison", "assert_balanced_accuracy",
           "assert_minority_precision", "assert_minority_recall", "compare_resamplers", "imbalance"]
