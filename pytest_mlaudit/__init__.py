"""pytest-mlaudit: audit assertions for ML models, run as pytest tests.

The public API is re-exported here lazily: ``import pytest_mlaudit`` (which pytest
does in every run through the plugin) loads none of torch, scikit-learn, ART or
xgboost; each name's module is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it, one block per audit family
_EXPORTS = {
    # records
    "Estimate": ".records",
    "Gate": ".records",
    "Check": ".records",
    "AuditRecord": ".records",

    # robustness
    "FGSM": ".robustness.attacks",
    "make_attack": ".robustness.attacks",
    "robustness": ".robustness.audit",
    "assert_robust_accuracy": ".robustness.audit",
    "RobustnessResult": ".robustness.audit",

    # imbalance and fairness
    "imbalance": ".class_imbalance",
    "assert_minority_recall": ".class_imbalance",
    "assert_minority_precision": ".class_imbalance",
    "assert_balanced_accuracy": ".class_imbalance",
    "compare_resamplers": ".class_imbalance",
    "ImbalanceResult": ".class_imbalance",
    "ResamplerComparison": ".class_imbalance",
    "LeakageError": ".class_imbalance",

    # privacy

}

# The audit functions (the lower-case exports) are what the `mlaudit` fixture exposes.
AUDIT_FUNCTIONS = tuple(sorted(name for name in _EXPORTS if name[0].islower()))

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'pytest_mlaudit' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
