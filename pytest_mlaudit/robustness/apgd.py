"""Auto-PGD (Croce & Hein, ICML 2020), written natively in PyTorch.

APGD is PGD without a step size to tune: it starts at ``2 * eps``, moves with
momentum 0.75, and at checkpoints ``w_j = ceil(p_j * n_iter)`` (``p_0 = 0``,
``p_1 = 0.22``, ``p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)``) halves the step
of every sample whose loss rose in fewer than 75% of the steps since the last
checkpoint, or whose step was not halved there and whose best loss did not improve;
such a sample restarts from its best point. Losses: cross-entropy (``"ce"``) or the
difference of logits ratio (``"dlr"``, invariant to the logits' scale, so robust to a
saturated softmax). Targeted, it attacks towards each of the ``n_target_classes``
highest-ranked wrong classes in turn (APGD-T).

Native rather than ART's ``AutoProjectedGradientDescent``, for the same reasons as
:mod:`.attacks`: the batch stays on the device, and a sample stops being attacked as
soon as it is misclassified (robust accuracy counts only whether it ever is). The
tests compare its robust accuracy with ART's on the same model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..validation import flag, positive_int
from .geometry import budget, direction, norm_label, norm_name, project, random_in_ball, seeded_generator
from .protocol import target_classes

MOMENTUM = 0.75
RHO = 0.75
LOSSES = ("ce", "dlr")


def checkpoints(n_iter: int) -> list[int]:
    """The iterations at which APGD may halve its step: ``ceil(p_j * n_iter)`` for the paper's ``p_j``."""
    points, previous, current = [], 0.0, 0.22
    while current <= 1:
        points.append(math.ceil(round(current * n_iter, 9)))  # round: 0.57 * 100 is 57.000000000000007
        previous, current = current, current + max(current - previous - 0.03, 0.06)
    return sorted(set(point for point in points if 0 < point <= n_iter))


def margin_loss(logits: Any, y: Any, loss: str, target: Any = None) -> Any:
    """Per sample, the loss APGD maximizes (CE or DLR; targeted when ``target`` is given)."""
    import torch
    import torch.nn.functional as F

    if loss == "ce":
        return -F.cross_entropy(logits, target, reduction="none") if target is not None else \
            F.cross_entropy(logits, y, reduction="none")
    ranked = logits.sort(dim=1, descending=True).values
    true = logits.gather(1, y[:, None]).squeeze(1)
    if target is not None:
        scale = ranked[:, 0] - (ranked[:, 2] + ranked[:, 3]) / 2 + 1e-12
        return -(true - logits.gather(1, target[:, None]).squeeze(1)) / scale
    others = logits.masked_fill(F.one_hot(y, logits.shape[1]).bool(), -torch.inf).amax(dim=1)
    return -(true - others) / (ranked[:, 0] - ranked[:, 2] + 1e-12)


def loss_and_gradient(classifier: Any, x: Any, y: Any, loss: str, target: Any = None, eot_iter: int = 1,
                      gradient: bool = True):
    """Logits, per-sample loss and its input gradient, averaged over ``eot_iter`` passes (EOT for random models).

    With ``gradient=False`` the passes are forward only and the gradient is ``None``
    (APGD's last point needs its logits and loss, not a step from it).
    """
    import torch

    x = x.detach().requires_grad_(gradient)
    logits_sum = loss_sum = grad_sum = None
    for _ in range(eot_iter):
        with torch.enable_grad() if gradient else torch.inference_mode():
            logits = classifier.logits(x)
            per_sample = margin_loss(logits, y, loss, target)
            grad = torch.autograd.grad(per_sample.sum(), x)[0] if gradient else None
        logits, per_sample = logits.detach(), per_sample.detach()
        if logits_sum is None:
            logits_sum, loss_sum, grad_sum = logits, per_sample, grad
        else:
            logits_sum, loss_sum = logits_sum + logits, loss_sum + per_sample
            grad_sum = grad_sum + grad if gradient else None
    return logits_sum / eot_iter, loss_sum / eot_iter, None if grad_sum is None else grad_sum / eot_iter


@dataclass(frozen=True)
class APGD:
    """Auto-PGD, untargeted (APGD-CE, APGD-DLR) or targeted (APGD-T), L-inf or L2.

    ``restarts`` runs again from new random starts on the samples not yet fooled; a
    targeted attack runs ``restarts`` times per target class. ``eot_iter`` averages
    each gradient over that many forward passes (Expectation over Transformation,
    for randomized models; 1 otherwise).
    """

    eps: float
    norm: str = "inf"
    loss: str = "ce"
    targeted: bool = False
    n_iter: int = 100
    restarts: int = 1
    n_target_classes: int = 9
    eot_iter: int = 1

    def __post_init__(self) -> None:
        budget(self.eps, "APGD eps")
        object.__setattr__(self, "norm", norm_name(self.norm))
        if self.loss not in LOSSES:
            raise ValueError(f"APGD loss must be one of {LOSSES}, got {self.loss!r}")
        flag(self.targeted, "APGD targeted")
        positive_int(self.n_iter, "APGD n_iter")
        positive_int(self.restarts, "APGD restarts")
        positive_int(self.n_target_classes, "APGD n_target_classes")
        positive_int(self.eot_iter, "APGD eot_iter")

    @property
    def name(self) -> str:
        return "APGD-T" if self.targeted else f"APGD-{self.loss.upper()}"

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any = None) -> Any:
        import torch

        generator = seeded_generator(generator)
        with torch.no_grad():
            clean_logits = classifier.logits(x)
        n_classes = clean_logits.shape[1]
        self._check_classes(n_classes)
        if self.targeted:
            targets = target_classes(clean_logits, self.n_target_classes)
        else:
            targets = [None]
        best = x.clone()
        remaining = (clean_logits.argmax(1) == y).nonzero().squeeze(1)
        for target in targets:
            for _ in range(self.restarts):
                if len(remaining) == 0:
                    return best.detach()
                chosen = None if target is None else target[remaining]
                x_adv, fooled = self._attack(classifier, x[remaining], y[remaining], chosen, clip, generator)
                best[remaining[fooled]] = x_adv[fooled]
                remaining = remaining[~fooled]
        return best.detach()

    def _check_classes(self, n_classes: int) -> None:
        needed = 4 if self.targeted and self.loss == "dlr" else 3 if self.loss == "dlr" or self.targeted else 2
        if n_classes < needed:
            kind = "targeted DLR" if self.targeted and self.loss == "dlr" else "targeted" if self.targeted else "DLR"
            raise ValueError(
                f"{self.name}: the {kind} loss needs at least {needed} classes, the model has {n_classes}. "
                f"For a binary classifier use APGD(loss='ce', targeted=False) (AutoAttack does so itself)"
            )

    def _attack(self, classifier: Any, x: Any, y: Any, target: Any, clip: tuple[Any, Any], generator: Any):
        """One run from a random start: per sample the first misclassified point (else the best), and whether fooled."""
        import torch

        low, high = clip
        shape = (-1,) + (1,) * (x.dim() - 1)
        out = x.clone()
        fooled = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        x_adv = torch.clamp(x + random_in_ball(x, self.eps, self.norm, generator), low, high)
        logits, loss, grad = loss_and_gradient(classifier, x_adv, y, self.loss, target, self.eot_iter)
        # per-sample state of the samples still attacked; "idx" maps them to their positions in x
        s = {"idx": torch.arange(len(x), device=x.device), "x": x, "y": y, "target": target, "x_adv": x_adv,
             "x_prev": x_adv.clone(), "grad": grad, "loss": loss, "x_best": x_adv.clone(), "grad_best": grad.clone(),
             "loss_best": loss.clone(), "step": torch.full((len(x),), 2.0 * self.eps, device=x.device),
             "increases": torch.zeros(len(x), device=x.device),
             "reduced_last": torch.zeros(len(x), dtype=torch.bool, device=x.device), "loss_best_last": loss.clone()}
        marks, last_mark = set(checkpoints(self.n_iter)), 0
        for i in range(self.n_iter + 1):
            wrong = logits.argmax(1) != s["y"]
            if bool(wrong.any()):
                out[s["idx"][wrong]] = s["x_adv"][wrong]
                fooled[s["idx"][wrong]] = True
                s = {key: None if value is None else value[~wrong] for key, value in s.items()}
            if i == self.n_iter or len(s["idx"]) == 0:
                break
            if i in marks:
                halve = (s["increases"] < RHO * (i - last_mark)) | (
                    ~s["reduced_last"] & (s["loss_best"] <= s["loss_best_last"]))
                s["step"][halve] /= 2
                s["x_adv"][halve], s["grad"][halve] = s["x_best"][halve], s["grad_best"][halve]
                s["reduced_last"], s["loss_best_last"] = halve, s["loss_best"].clone()
                s["increases"].zero_()
                last_mark = i
            momentum = MOMENTUM if i > 0 else 1.0
            x_adv, x_prev = s["x_adv"], s["x_prev"]
            with torch.no_grad():
                z = self._project(s["x"], x_adv + s["step"].view(shape) * direction(s["grad"], self.norm), low, high)
                moved = x_adv + momentum * (z - x_adv) + (1 - momentum) * (x_adv - x_prev)
                s["x_prev"], s["x_adv"] = x_adv, self._project(s["x"], moved, low, high)
            last = i == self.n_iter - 1  # no step is taken from the last point: its gradient is not needed
            logits, loss, s["grad"] = loss_and_gradient(classifier, s["x_adv"], s["y"], self.loss, s["target"],
                                                        self.eot_iter, gradient=not last)
            s["increases"] += (loss > s["loss"]).float()
            s["loss"] = loss
            better = loss > s["loss_best"]
            for key, value in (("x_best", s["x_adv"]), ("grad_best", s["grad"]), ("loss_best", loss)):
                if value is not None:
                    s[key][better] = value[better]
        out[s["idx"]] = s["x_best"]
        return out, fooled

    def _project(self, x: Any, point: Any, low: Any, high: Any) -> Any:
        """``point`` projected onto the eps-ball around ``x``, then into the domain (which keeps it in the ball)."""
        import torch

        return torch.clamp(x + project(point - x, self.eps, self.norm), low, high)

    def describe(self) -> dict[str, Any]:
        return {"attack": self.name, "norm": norm_label(self.norm), "eps": self.eps, "loss": self.loss,
                "steps": self.n_iter, "restarts": self.restarts, "targeted": self.targeted,
                **({"n_target_classes": self.n_target_classes} if self.targeted else {}),
                **({"eot_iter": self.eot_iter} if self.eot_iter > 1 else {}),
                "step_size": "2*eps, halved at checkpoints", "momentum": MOMENTUM, "knowledge": "white-box"}
