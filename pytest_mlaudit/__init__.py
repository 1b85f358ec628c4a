"""pytest-mlaudit: audit assertions for ML models, run as pytest tests.

The public API is re-exported here lazily: ``import pytest_mlaudit`` (which pytest
does in every run through the plugin) loads none of torch, scikit-learn, ART or
xgboost; each name's module is imported on first use.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
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
    "PGD": ".robustness.attacks",
    "BIM": ".robustness.attacks",
    "RandomNoise": ".robustness.attacks",
    "Transfer": ".robustness.attacks",
    "CarliniWagnerL2": ".robustness.art_attacks",
    "DeepFool": ".robustness.art_attacks",
    "HopSkipJump": ".robustness.art_attacks",
    "Square": ".robustness.art_attacks",
    "make_attack": ".robustness.attacks",
    "robustness": ".robustness.audit",
    "assert_robust_accuracy": ".robustness.audit",
    "feature_range": ".robustness.audit",
    "RobustnessResult": ".robustness.audit",
    "robustness_curve": ".robustness.curves",
    "assert_robustness_curve": ".robustness.curves",
    "RobustnessCurve": ".robustness.curves",

    # imbalance and fairness

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


class _Package(ModuleType):
    """Importing a subpackage binds it on its parent; where it shares a name with an
    export (the ``robustness`` package and the ``robustness`` function), the export wins."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
