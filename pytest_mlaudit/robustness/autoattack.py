"""AutoAttack (Croce & Hein, ICML 2020): a fixed ensemble of attacks, the per-sample worst case.

``version="standard"`` runs APGD-CE, then APGD-T (targeted DLR, 9 target classes),
then FAB-T (native, :mod:`.fab`; 9 target classes), then Square (5,000 queries; native
in L-inf, ART's in L2), each only on the samples every earlier attack left correctly
classified; a sample is robust only if it withstands them all.
``version="rand"`` (randomized models) runs APGD-CE and APGD-DLR with Expectation
over Transformation (each gradient averaged over ``eot_iter`` forward passes).

What runs depends on the model and data, and is recorded in the audit:
- a binary classifier has no DLR loss (it needs 3 classes) and no wrong class to
  rank: APGD-T and APGD-DLR become APGD-CE with ``BINARY_RESTARTS`` random restarts,
  and FAB-T becomes FAB towards the one other class (the untargeted FAB);
- with 3 classes the targeted DLR loss (it needs 4) becomes targeted cross-entropy;
- Square perturbs image patches: on non-image inputs it does not run.

The audits (``mla.robustness``, ``assert_robust_accuracy``) run the stages
themselves, batch by batch, so the report shows how many samples each broke and the
robust accuracy after each; ``generate`` runs them in the same order for any other use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..extras import Table
from ..records import Estimate
from ..stats import proportion
from ..validation import positive_int
from .apgd import APGD
from .art_attacks import Square
from .fab import FAB
from .geometry import budget, norm_label, norm_name, seeded_generator
from .protocol import run_attack
from .square import SquareLinf

VERSIONS = ("standard", "rand")
BINARY_RESTARTS = 5


@dataclass(frozen=True)
class Stage:
    """One attack of the ensemble, with the reason when it replaces the paper's attack."""

    name: str
    attack: Any
    note: str = ""


@dataclass(frozen=True)
class AutoAttack:
    """AutoAttack at ``eps`` in ``norm``; ``n_iter`` APGD and FAB iterations, ``square_queries`` Square queries."""

    eps: float
    norm: str = "inf"
    version: str = "standard"
    n_iter: int = 100
    n_target_classes: int = 9
    square_queries: int = 5000
    eot_iter: int = 20

    def __post_init__(self) -> None:
        budget(self.eps, "AutoAttack eps")
        object.__setattr__(self, "norm", norm_name(self.norm))
        if self.version not in VERSIONS:
            raise ValueError(f"AutoAttack version must be one of {VERSIONS}, got {self.version!r}")
        positive_int(self.n_iter, "AutoAttack n_iter")
        positive_int(self.n_target_classes, "AutoAttack n_target_classes")
        positive_int(self.square_queries, "AutoAttack square_queries")
        positive_int(self.eot_iter, "AutoAttack eot_iter")

    def stages(self, n_classes: int, input_shape: tuple[int, ...]) -> list[Stage]:
        """The attacks that run, in order, for a model with ``n_classes`` on samples of ``input_shape``."""
        apgd = dict(eps=self.eps, norm=self.norm, n_iter=self.n_iter)
        binary = n_classes < 3
        binary_note = (f"binary classifier: the DLR and targeted losses are undefined, so APGD-CE with "
                       f"{BINARY_RESTARTS} random restarts runs instead")
        if self.version == "rand":
            eot = dict(apgd, eot_iter=self.eot_iter)
            second = (Stage("APGD-CE (restarts)", APGD(**eot, restarts=BINARY_RESTARTS), binary_note) if binary
                      else Stage("APGD-DLR", APGD(**eot, loss="dlr")))
            return [Stage("APGD-CE", APGD(**eot)), second]
        stages = [Stage("APGD-CE", APGD(**apgd))]
        if binary:
            stages.append(Stage("APGD-CE (restarts)", APGD(**apgd, restarts=BINARY_RESTARTS), binary_note))
        elif n_classes == 3:
            stages.append(Stage("APGD-T", APGD(**apgd, loss="ce", targeted=True, n_target_classes=2),
                                "3 classes: the targeted DLR loss needs 4, so targeted cross-entropy runs instead"))
        else:
            stages.append(Stage("APGD-T", APGD(**apgd, loss="dlr", targeted=True,
                                               n_target_classes=min(self.n_target_classes, n_classes - 1))))
        if self.eps > 0:  # at eps 0 no example differs from its original: FAB has nothing to search
            fab = FAB(eps=self.eps, norm=self.norm, n_iter=self.n_iter,
                      n_target_classes=min(self.n_target_classes, n_classes - 1))
            stages.append(Stage("FAB", fab, "binary classifier: no wrong class to rank, so FAB runs towards the "
                                            "one other class (the untargeted FAB)") if binary else Stage("FAB-T", fab))
        if len(input_shape) == 3:
            square = (SquareLinf(eps=self.eps, max_iter=self.square_queries) if self.norm == "inf"
                      else Square(eps=self.eps, norm=self.norm, max_iter=self.square_queries))
            stages.append(Stage("Square", square))
        return stages

    def left_out(self, input_shape: tuple[int, ...]) -> list[str]:
        """The paper's attacks that do not run here, with the reason."""
        if self.version == "rand":
            return []
        missing = []
        if len(input_shape) != 3:
            missing.append("Square: perturbs image patches; the inputs are not images (channels, height, width)")
        return missing

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any = None) -> Any:
        import torch

        generator = seeded_generator(generator)
        with torch.inference_mode():
            clean_logits = classifier.logits(x)
        best = x.clone()
        remaining = (clean_logits.argmax(1) == y).nonzero().squeeze(1)
        for stage in self.stages(clean_logits.shape[1], tuple(x.shape[1:])):
            if len(remaining) == 0:
                break
            x_adv = run_attack(stage.attack, classifier, x[remaining], y[remaining], clip, generator)
            with torch.inference_mode():
                fooled = classifier.logits(x_adv).argmax(1) != y[remaining]
            best[remaining[fooled]] = x_adv[fooled]
            remaining = remaining[~fooled]
        return best.detach()

    def describe(self) -> dict[str, Any]:
        return {"attack": "AutoAttack", "norm": norm_label(self.norm), "eps": self.eps, "version": self.version,
                "steps": self.n_iter, "n_target_classes": self.n_target_classes,
                **({"square_queries": self.square_queries} if self.version == "standard" else
                   {"eot_iter": self.eot_iter}),
                "targeted": False, "knowledge": "white-box"}


@dataclass(frozen=True)
class StageOutcome:
    """What one attack of the ensemble did: the samples it broke, and robust accuracy after it."""

    name: str
    broken: int
    attacked: int
    robust_accuracy: Estimate
    note: str = ""


def staged(attack: Any, classifier: Any, x: Any) -> tuple[list[Stage], list[str]]:
    """The stages an ensemble attack runs on samples like ``x`` (``[]`` for a single attack), and what it leaves out."""
    import torch

    if not callable(getattr(attack, "stages", None)):
        return [], []
    sample = torch.as_tensor(x[:1], dtype=torch.float32, device=classifier.device)
    with torch.no_grad(), classifier.audit_mode():
        n_classes = classifier.logits(sample).shape[1]
    shape = tuple(x.shape[1:])
    left_out = attack.left_out(shape) if callable(getattr(attack, "left_out", None)) else []
    return attack.stages(n_classes, shape), left_out


def metric_name(stage_name: str) -> str:
    """The metric of robust accuracy after a stage: ``robust_accuracy_after_apgd_ce`` for ``APGD-CE``."""
    return "robust_accuracy_after_" + re.sub(r"[^a-z0-9]+", "_", stage_name.lower()).strip("_")


def stage_outcomes(stages: list[Stage], clean_correct: Any, outcomes: list[Any], confidence: float) -> list[StageOutcome]:
    """Per stage, from the cumulative per-sample outcomes: samples broken, samples attacked, robust accuracy after."""
    n = int(clean_correct.size)
    before = clean_correct
    result = []
    for stage, robust in zip(stages, outcomes):
        attacked, survived = int(before.sum()), int(robust.sum())
        result.append(StageOutcome(stage.name, attacked - survived, attacked, proportion(survived, n, confidence),
                                   stage.note))
        before = robust
    return result


def stages_table(outcomes: list[StageOutcome], clean_accuracy: Estimate) -> Table:
    """The per-attack breakdown for the report."""
    rows = [["clean", "", "", _estimate_cell(clean_accuracy), ""]]
    rows += [[o.name, o.attacked, o.broken, _estimate_cell(o.robust_accuracy), o.note] for o in outcomes]
    return Table(title="AutoAttack: per-attack breakdown (each attack runs on the samples still robust)",
                 columns=["attack", "samples attacked", "samples broken", "robust accuracy after", "note"], rows=rows)


def _estimate_cell(estimate: Estimate) -> str:
    return f"{estimate.value:.3f} [{estimate.low:.3f}, {estimate.high:.3f}]"
