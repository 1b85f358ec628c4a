"""Verified robustness of tree ensembles (XGBoost, scikit-learn forests and boosting), beside an attack.

ART's ``RobustnessVerificationTreeModelsCliqueMethod`` (Chen et al., NeurIPS 2019)
bounds, per sample, the worst score the ensemble can reach inside the L-inf ball of
radius ``eps``: a sample it verifies is robust at ``eps`` for certain, so the
verified accuracy is a *lower* bound on robust accuracy (sound, not complete: a
sample it cannot verify may still be robust). A decision-based attack
(HopSkipJump) gives the *upper* bound; the report shows the bracket
``verified <= robust <= attacked`` and gates the verified bound.

Two things are adapted for ART, and checked:
- ART verifies inputs in [0, 1] only: the data, the ensemble's split thresholds and
  ``eps`` are mapped by one affine map ``(v - shift) / scale`` shared by all features,
  which maps the L-inf ball of radius ``eps`` to that of radius ``eps / scale``;
- ART sums the trees' leaves without XGBoost's base score (since XGBoost 2.0
  estimated from the data): it joins as a tree of one leaf. The check "verification
  at eps 0 agrees with the model" confirms that ART's scores predict as the model does.

A scikit-learn pipeline whose last step is the ensemble is verified in the space of
that step (after the preceding transformers: ``eps`` in standardized units after a
``StandardScaler``), and attacked there too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import validation
from ..adapters import describe_model
from ..authoring import Audit, audit
from ..dependencies import load, require
from ..extras import Table
from ..progress import Task
from ..records import Estimate
from ..stats import proportion
from .art_attacks import HopSkipJump
from .audit import sample_outcomes
from .protocol import describe_attack, require_attack

EPS_ZERO = 1e-9
# a cheaper HopSkipJump than the attack's defaults: every query is a predict call of the ensemble
DEFAULT_HOPSKIPJUMP = {"max_iter": 10, "max_eval": 200, "init_eval": 20, "init_size": 50}  # "eps 0" for the agreement check: a ball that crosses no threshold


@dataclass(frozen=True)
class TreeVerificationResult:
    """The bracket at ``eps``: verified (lower bound) <= robust accuracy <= attacked (upper bound)."""

    eps: float
    clean_accuracy: Estimate
    verified_accuracy: Estimate
    attacked_accuracy: Estimate | None
    n: int
    verified: tuple[bool, ...]  # per sample


def verify_trees(model, X, y, *, eps: float, clip=None, attack: Any = "hopskipjump", max_clique: int = 2,
                 max_level: int = 2, requirement=None) -> TreeVerificationResult:
    """Verified robust accuracy of a tree ensemble at L-inf ``eps``, beside an attack's upper bound.

    ``clip=(low, high)`` is the attack's input domain in the ensemble's space
    (default: the range of ``X`` there); ``attack`` an attack object, ``"hopskipjump"``
    (the default, ``HopSkipJump(eps, norm="inf")`` with ``DEFAULT_HOPSKIPJUMP``) or None for no upper bound.
    ``max_clique`` and ``max_level`` trade the tightness of ART's bound for time.
    """
    with audit("robustness", f"verified robustness of a tree ensemble (eps={eps:g}, Linf)",
               requirement=requirement) as a:
        return _verify(a, model, X, y, eps, clip, attack, max_clique, max_level)


def assert_verified_accuracy(model, X, y, *, eps: float, at_least: float | None = None, at_most: float | None = None,
                             policy: str | None = None, clip=None, attack: Any = "hopskipjump", max_clique: int = 2,
                             max_level: int = 2, requirement=None) -> TreeVerificationResult:
    """Verify as :func:`verify_trees` does, gate ``verified_accuracy`` (the lower bound), fail on a miss."""
    with audit("robustness", f"verified accuracy of a tree ensemble (eps={eps:g}, Linf)",
               requirement=requirement) as a:
        a.gate("verified_accuracy", at_least=at_least, at_most=at_most, policy=policy, bounds=(0.0, 1.0))
        return _verify(a, model, X, y, eps, clip, attack, max_clique, max_level)


def ensemble_and_inputs(model: Any, X: Any) -> tuple[Any, Any, list[str]]:
    """The tree ensemble, ``X`` in its input space, and the names of the pipeline steps before it."""
    steps = getattr(model, "steps", None)
    if steps is None:
        return model, X, []
    for _, step in steps[:-1]:
        if not hasattr(step, "transform"):
            raise TypeError(f"model is a pipeline whose step {type(step).__name__} does not transform (a resampler "
                            f"or a model): pass the fitted ensemble and its inputs instead")
        X = step.transform(X)
    return steps[-1][1], np.asarray(X, dtype=np.float64), [name for name, _ in steps[:-1]]


def art_trees(ensemble: Any, n_features: int) -> tuple[Any, int]:
    """ART's trees of ``ensemble`` and its class count (XGBoost or a scikit-learn tree ensemble)."""
    load("art", "robustness", "tree verification")
    from art.estimators.classification import XGBoostClassifier
    from art.estimators.classification.scikitlearn import (ScikitlearnDecisionTreeClassifier,
                                                           ScikitlearnExtraTreesClassifier,
                                                           ScikitlearnGradientBoostingClassifier,
                                                           ScikitlearnRandomForestClassifier)

    kind = type(ensemble).__name__
    wrappers = {"RandomForestClassifier": ScikitlearnRandomForestClassifier,
                "ExtraTreesClassifier": ScikitlearnExtraTreesClassifier,
                "GradientBoostingClassifier": ScikitlearnGradientBoostingClassifier,
                "DecisionTreeClassifier": ScikitlearnDecisionTreeClassifier}
    n_classes = len(getattr(ensemble, "classes_", []))
    if kind == "XGBClassifier":
        wrapped = XGBoostClassifier(model=ensemble, nb_features=n_features, nb_classes=n_classes)
    elif kind in wrappers:
        wrapped = wrappers[kind](model=ensemble)
    else:
        raise TypeError(f"model must be a fitted XGBClassifier or scikit-learn tree ensemble "
                        f"({', '.join(sorted(wrappers))}), or a pipeline ending in one; got {kind}")
    return wrapped.get_trees(), n_classes


def xgboost_base_margin(ensemble: Any, X: Any, trees: list[Any]) -> float:
    """The constant XGBoost adds to the sum of leaves (binary): model margin minus ART's leaf sum, on ``X[0]``."""
    margin = float(ensemble.predict(X[:1], output_margin=True)[0])
    leaves = sum(leaf.value for tree in trees for leaf in tree.leaf_nodes
                 if all(iv.lower_bound <= X[0, f] < iv.upper_bound for f, iv in leaf.box.intervals.items()))
    return margin - leaves


class ScaledTrees:
    """The ensemble's trees as ART's verifier reads them (``get_trees``, ``nb_classes``), thresholds mapped
    by ``(v - shift) / scale``, with an optional constant leaf (XGBoost's base score)."""

    def __init__(self, trees: list[Any], n_classes: int, shift: float, scale: float, bias: float = 0.0):
        from art.metrics.verification_decisions_trees import Box, Interval, LeafNode, Tree

        self.nb_classes = n_classes
        self._trees = []
        for tree in trees:
            leaves = []
            for leaf in tree.leaf_nodes:
                box = Box(intervals={f: Interval((iv.lower_bound - shift) / scale, (iv.upper_bound - shift) / scale)
                                     for f, iv in leaf.box.intervals.items()})
                leaves.append(LeafNode(tree_id=leaf.tree_id, class_label=leaf.class_label, node_id=leaf.node_id,
                                       box=box, value=leaf.value))
            self._trees.append(Tree(class_id=tree.class_id, leaf_nodes=leaves))
        if bias:
            self._trees.append(Tree(class_id=-1, leaf_nodes=[LeafNode(tree_id=len(trees), class_label=-1, node_id=0,
                                                                      box=Box(), value=bias)]))

    def get_trees(self) -> list[Any]:
        return self._trees


def verified_per_sample(verifier: Any, X01: Any, y: Any, eps01: float, max_clique: int, max_level: int,
                        label: str) -> Any:
    """Per sample, whether ART's clique method verifies it robust (and correct) at ``eps01``."""
    verified = np.zeros(len(X01), dtype=bool)
    with Task(f"{label}, {len(X01):,} samples: sample", len(X01)) as task:
        for i in range(len(X01)):
            _, error = verifier.verify(X01[i:i + 1], y[i:i + 1], eps_init=eps01, norm=np.inf, nb_search_steps=1,
                                       max_clique=max_clique, max_level=max_level)
            verified[i] = error == 0.0
            task.advance()
    return verified


def _verify(a: Audit, model, X, y, eps, clip, attack, max_clique, max_level) -> TreeVerificationResult:
    require("art", "robustness")
    from art.metrics import RobustnessVerificationTreeModelsCliqueMethod

    X = validation.features(X, "X")
    y = validation.labels(y, X.shape[0], "y")
    eps = validation.positive_number(eps, "eps")
    max_clique = validation.positive_int(max_clique, "max_clique")
    max_level = validation.positive_int(max_level, "max_level")
    ensemble, X_model, before = ensemble_and_inputs(model, X)
    X_model = np.asarray(X_model, dtype=np.float64)
    trees, n_classes = art_trees(ensemble, X_model.shape[1])
    classes = np.asarray(ensemble.classes_)
    validation.check_known_labels(y, classes, "y", "the ensemble's classes")
    y_index = np.searchsorted(classes, y)
    bias = xgboost_base_margin(ensemble, X_model, trees) if type(ensemble).__name__ == "XGBClassifier" \
        and n_classes == 2 else 0.0
    shift, scale = float(X_model.min()), float(max(X_model.max() - X_model.min(), 1e-12))
    X01 = (X_model - shift) / scale
    a.describe_model(describe_model(model))
    a.describe_data((X, y))
    a.params.update({"method": "ART RobustnessVerificationTreeModelsCliqueMethod (Chen et al. 2019)", "norm": "Linf",
                     "eps": eps, "space": f"after {', '.join(before)}" if before else "the model's inputs",
                     "max_clique": max_clique, "max_level": max_level, "n_samples": int(len(X)),
                     "trees": len(trees), "affine_map": {"shift": shift, "scale": scale},
                     "base_margin_leaf": bias})
    verifier = RobustnessVerificationTreeModelsCliqueMethod(ScaledTrees(trees, n_classes, shift, scale, bias),
                                                            verbose=False)
    predicted = np.searchsorted(classes, ensemble.predict(X_model))
    correct = predicted == y_index
    verified = verified_per_sample(verifier, X01, y_index, eps / scale, max_clique, max_level, a.name)
    confidence = a.settings.confidence
    clean = a.metric("clean_accuracy", proportion(int(correct.sum()), len(X), confidence))
    lower = a.metric("verified_accuracy", proportion(int(verified.sum()), len(X), confidence))
    agreement = verified_per_sample(verifier, X01[:32], y_index[:32], EPS_ZERO / scale, max_clique, max_level,
                                    "agreement at eps 0")
    a.check("verification at eps 0 agrees with the model", bool((agreement == correct[:32]).all()),
            f"on {len(agreement)} samples, ART's clique scores at eps~0 verify {int(agreement.sum())} and the "
            f"model classifies {int(correct[:32].sum())} correctly"
            + ("" if (agreement == correct[:32]).all() else ": ART reads the trees differently from the model"))
    upper, rows = None, []
    if attack is not None:
        upper, broken_verified = _attacked(a, ensemble, X_model, y, eps, clip, attack, verified)
        a.check("no verified sample broken by the attack", broken_verified == 0,
                f"{broken_verified} samples verified robust were broken by the attack"
                + ("" if broken_verified == 0 else ": the verification is unsound here"))
        a.check("verified <= attacked", lower.value <= upper.value,
                f"verified {lower.value:.3f} <= attacked {upper.value:.3f}")
    rows = [["verified (lower bound)", _cell(lower)], *([["attacked (upper bound)", _cell(upper)]] if upper else []),
            ["clean", _cell(clean)]]
    a.extra(Table(title=f"Robust accuracy of the tree ensemble at eps={eps:g} (Linf): the bracket",
                  columns=["bound", "accuracy [interval]"], rows=rows))
    return TreeVerificationResult(eps=eps, clean_accuracy=clean, verified_accuracy=lower, attacked_accuracy=upper,
                                  n=int(len(X)), verified=tuple(bool(v) for v in verified))


def _attacked(a: Audit, ensemble, X_model, y, eps, clip, attack, verified) -> tuple[Estimate, int]:
    """Robust accuracy under the attack (the upper bound) and how many verified samples it broke."""
    if attack == "hopskipjump":
        attack = HopSkipJump(eps=eps, norm="inf", **DEFAULT_HOPSKIPJUMP)
    require_attack(attack)
    X32 = X_model.astype(np.float32)
    clip = (X32.min(axis=0), X32.max(axis=0)) if clip is None else clip
    a.params["attack"] = describe_attack(attack)
    _, robust = sample_outcomes(ensemble, X32, y, attack=attack, clip=clip,
                                seed=a.seed("attack"))
    upper = a.metric("attacked_accuracy", proportion(int(robust.sum()), len(y), a.settings.confidence))
    return upper, int(np.count_nonzero(verified & ~robust))


def _cell(estimate: Estimate) -> str:
    return f"{estimate.value:.3f} [{estimate.low:.3f}, {estimate.high:.3f}]"
