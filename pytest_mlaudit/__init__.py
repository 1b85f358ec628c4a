"""pytest-mlaudit: audit assertions for ML models, run as pytest tests.

This is the public API. pytest loads this package in every run where the plugin is
installed, so the names below are resolved lazily (PEP 562): ``mla.FGSM`` imports
the robustness audits the first time it is looked up, and a pytest run that audits
nothing imports none of them. The audit modules in turn import torch,
scikit-learn, ART and xgboost inside their functions, when an audit runs.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

# public name -> the module (relative to this package) that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("AuditRecord", "Check", "Estimate", "Gate"), "records"),
    # the authoring API: how every audit, built-in or a user's, is written
    **dict.fromkeys(("Audit", "audit", "settings"), "authoring"),
    # what a plugin's pytest_mlaudit_families hook returns, and the report section a family may add
    "AuditFamily": "families",
    "ReportSection": "report",
    **dict.fromkeys(("bootstrap", "independent_difference", "paired_difference", "proportion"), "stats"),
    # regression gates: compare two runs (the public form of ``python -m pytest_mlaudit compare``)
    **dict.fromkeys(("Comparison", "compare_runs"), "regression"),
    # progress lines on pytest's terminal, for code that trains models inside a run (fixtures)
    "terminal_writer": "progress",
    "MissingExtraError": "dependencies",
    # the model adapter contract, for attacks and adapters of other plugins and for adversarial training
    **dict.fromkeys(("Classifier", "as_classifier"), "adapters"),
    # robustness (evasion)
    **dict.fromkeys(("DeepFool", "HopSkipJump", "Square"), "robustness.art_attacks"),
    "CarliniWagnerL2": "robustness.cw",
    **dict.fromkeys(("BIM", "FGSM", "PGD", "RandomNoise", "Transfer"), "robustness.attacks"),
    "APGD": "robustness.apgd",
    "AutoAttack": "robustness.autoattack",
    "make_attack": "robustness.registry",
    **dict.fromkeys(("TreeVerificationResult", "assert_verified_accuracy", "verify_trees"), "robustness.trees"),
    **dict.fromkeys(("CertifiedResult", "assert_certified_accuracy", "certified_accuracy"), "robustness.smoothing"),
    **dict.fromkeys(("RobustnessResult", "assert_robust_accuracy", "feature_range", "robustness", "sample_outcomes"),
                    "robustness.audit"),
    **dict.fromkeys(("RobustnessCurve", "assert_robustness_curve", "robustness_curve"), "robustness.curves"),
    # imbalance
    **dict.fromkeys(("ImbalanceResult", "ResamplerComparison", "assert_balanced_accuracy", "assert_minority_precision",
                     "assert_minority_recall", "assert_roc_auc", "compare_resamplers", "imbalance"), "imbalance.audit"),
    "LeakageError": "imbalance.leakage",
    # fairness
    **dict.fromkeys(("FairnessResult", "GroupFairness", "GroupMetrics", "MitigationComparison"), "fairness.results"),
    **dict.fromkeys(("assert_demographic_parity", "assert_disparate_impact", "assert_equalized_odds", "fairness"),
                    "fairness.audit"),
    "compare_mitigation": "fairness.mitigation",
    # privacy
    **dict.fromkeys(("AttackFigures", "MembershipResult", "assert_membership_advantage", "assert_membership_tpr",
                     "membership_inference"), "privacy.membership"),
    "PrivacyLeakError": "privacy.training",
    "DPSGDClassifier": "privacy.dp_sgd",
    **dict.fromkeys(("DPClaimAudit", "assert_dp_claim", "audit_dp_training"), "privacy.dp_audit"),
    **dict.fromkeys(("DPPoint", "DPUtilityResult", "assert_dp_accuracy_floor", "dp_utility"), "privacy.utility"),
    # the survey's other threats: poisoning, model extraction, attribute inference, universal perturbations
    **dict.fromkeys(("BackdoorPoint", "BackdoorResult", "assert_backdoor_success", "backdoor"), "poisoning.backdoor"),
    **dict.fromkeys(("LabelFlipCurve", "LabelFlipPoint", "assert_label_flip_accuracy", "label_flip_curve"),
                    "poisoning.label_flip"),
    **dict.fromkeys(("ExtractionPoint", "ExtractionResult", "assert_extraction_fidelity", "model_extraction"),
                    "extraction.audit"),
    **dict.fromkeys(("AttributeInferenceResult", "assert_attribute_inference_advantage", "attribute_inference"),
                    "inference.attribute"),
    **dict.fromkeys(("UniversalPerturbationResult", "assert_universal_fooling_rate", "universal_perturbation"),
                    "robustness.universal"),
    # search: counterexamples in perturbation spaces (mla.spaces), metamorphic invariants, weak subgroups
    "spaces": "search",
    **dict.fromkeys(("Counterexample", "CounterexampleResult", "FeatureChange", "InvariantResult",
                     "assert_invariant", "assert_no_counterexample", "invariant", "search_counterexamples"),
                    "search.counterexamples"),
    **dict.fromkeys(("Slice", "WeakSubgroupResult", "assert_no_weak_subgroup", "weak_subgroups"), "search.subgroups"),
}

__all__ = list(_EXPORTS)

# The `mlaudit` fixture exposes every public function; the audit functions are those but the
# helpers for writing audits and fixtures.
FUNCTIONS = tuple(name for name in __all__ if name[0].islower())
HELPERS = ("as_classifier", "audit", "bootstrap", "compare_runs", "independent_difference", "paired_difference",
           "proportion", "settings", "spaces", "terminal_writer")
AUDIT_FUNCTIONS = tuple(name for name in FUNCTIONS if name not in HELPERS)


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


class _PublicModule(types.ModuleType):
    """This package, whose public names win over its subpackages of the same name.

    The families are packages named as their categories (``pytest_mlaudit.robustness``)
    and their audit functions carry the same names (``mla.robustness(...)``). Importing
    a subpackage makes Python set it as an attribute of this package; that is refused
    for a public name, so ``mla.robustness`` is always the function.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PublicModule
