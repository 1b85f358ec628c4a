"""Evasion attacks, written natively in PyTorch.

Deliberately not ART's implementations at run time: a native attack works on the
batch already on the device, without numpy round trips, lets a sweep over eps reuse
one gradient, and stops attacking a sample as soon as it is misclassified. ART stays
the reference: the tests check that these iterates equal ART's on the same model and
data. The attacks ART does better (C&W, DeepFool, HopSkipJump, Square) are run
through ART in :mod:`.art_attacks`; the two modules share only :mod:`.geometry`
(and the attack protocol of :mod:`.protocol`), and :mod:`.registry` names them all.

Each attack is a frozen dataclass of its parameters following the protocol of
:mod:`.protocol`: ``generate(classifier, x, y, clip, generator=None) -> x_adv`` and
``describe() -> dict`` of its parameters for the report.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..adapters import as_classifier, describe_model
from ..validation import flag, positive_int
from .geometry import budget, direction, first_misclassified, norm_label, norm_name, project, random_in_ball, seeded_generator
from .protocol import at_eps, describe_attack, run_attack


@dataclass(frozen=True)
class FGSM:
    """Fast Gradient Sign Method (Goodfellow et al. 2015), untargeted, L-inf.

    ``x_adv = clip(x + eps * sign(grad_x loss(x, y)))``, with the true labels.
    """

    eps: float
    allow_large_eps: bool = False  # an eps wider than the input domain is refused as a units mistake unless True

    def __post_init__(self) -> None:
        budget(self.eps, "FGSM eps")
        flag(self.allow_large_eps, "FGSM allow_large_eps")

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any = None) -> Any:
        return self.step(x, classifier.loss_gradient(x, y), clip)

    def step(self, x: Any, grad: Any, clip: tuple[Any, Any]) -> Any:
        """The FGSM example for a known gradient: the direction does not depend on eps."""
        import torch

        low, high = clip
        return torch.clamp(x + self.eps * grad.sign(), low, high).detach()

    def describe(self) -> dict[str, Any]:
        return {"attack": "FGSM", "norm": "Linf", "eps": self.eps, "steps": 1, "targeted": False, "knowledge": "white-box",
                **({"allow_large_eps": True} if self.allow_large_eps else {})}


@dataclass(frozen=True)
class PGD:
    """Projected Gradient Descent (Madry et al. 2018), untargeted, L-inf or L2.

    Each step moves ``step_size`` along the gradient's sign (L-inf) or its unit
    direction (L2), clips to the domain and projects back onto the eps-ball around
    ``x``, as ART's ``ProjectedGradientDescent`` does. ``random_start`` starts from a
    uniform point of the ball; ``restarts`` runs again from new random starts on the
    samples not yet fooled. With ``early_stop`` (default) a sample stops being
    attacked once it is misclassified, so its example is the first that fools the
    model. ``step_size`` defaults to ``2.5 * eps / steps`` (Madry et al.).
    """

    eps: float
    norm: str = "inf"
    steps: int = 20
    step_size: float | None = None
    random_start: bool = True
    restarts: int = 1
    early_stop: bool = True
    allow_large_eps: bool = False  # as FGSM's

    def __post_init__(self) -> None:
        budget(self.eps, "PGD eps")
        flag(self.allow_large_eps, "PGD allow_large_eps")
        object.__setattr__(self, "norm", norm_name(self.norm))
        positive_int(self.steps, "PGD steps")
        positive_int(self.restarts, "PGD restarts")
        if self.step_size is not None:
            budget(self.step_size, "PGD step_size")
        flag(self.random_start, "PGD random_start")
        flag(self.early_stop, "PGD early_stop")
        if self.restarts > 1 and not self.random_start:
            raise ValueError("PGD restarts > 1 need random_start=True: without it every restart is the same attack")

    @property
    def resolved_step_size(self) -> float:
        return self.step_size if self.step_size is not None else 2.5 * self.eps / self.steps

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any = None) -> Any:
        import torch

        generator = seeded_generator(generator)
        best = x.clone()
        remaining = torch.arange(len(x), device=x.device)
        for restart in range(self.restarts):
            if len(remaining) == 0:
                break
            x_adv = self._attack(classifier, x[remaining], y[remaining], clip, generator)
            with torch.no_grad():
                fooled = classifier.logits(x_adv).argmax(1) != y[remaining]
            if restart == 0:
                best[remaining] = x_adv
            else:
                best[remaining[fooled]] = x_adv[fooled]
            remaining = remaining[~fooled]
        return best.detach()

    def _attack(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any) -> Any:
        import torch

        low, high = clip
        step = self.resolved_step_size
        x_adv = x.clone()
        if self.random_start:
            x_adv = torch.clamp(x + random_in_ball(x, self.eps, self.norm, generator), low, high)
        active = torch.arange(len(x), device=x.device)
        for _ in range(self.steps):
            logits, grad = classifier.logits_and_gradient(x_adv[active], y[active])
            if self.early_stop:
                still_correct = logits.argmax(1) == y[active]
                active, grad = active[still_correct], grad[still_correct]
                if len(active) == 0:
                    break
            moved = torch.clamp(x_adv[active] + step * direction(grad, self.norm), low, high)
            x_adv[active] = x[active] + project(moved - x[active], self.eps, self.norm)
        return x_adv

    def describe(self) -> dict[str, Any]:
        return {"attack": "PGD", "norm": norm_label(self.norm), "eps": self.eps, "steps": self.steps,
                "step_size": self.resolved_step_size, "random_start": self.random_start, "restarts": self.restarts,
                "early_stop": self.early_stop, "targeted": False, "knowledge": "white-box",
                **({"allow_large_eps": True} if self.allow_large_eps else {})}


@dataclass(frozen=True)
class BIM:
    """Basic Iterative Method (Kurakin et al. 2017): L-inf PGD from the clean input.

    As ART's ``BasicIterativeMethod``: no random start, ``steps`` steps of
    ``step_size`` (default ``2.5 * eps / steps``), projected onto the eps-ball.
    """

    eps: float
    steps: int = 10
    step_size: float | None = None
    early_stop: bool = True

    def __post_init__(self) -> None:
        budget(self.eps, "BIM eps")
        positive_int(self.steps, "BIM steps")
        if self.step_size is not None:
            budget(self.step_size, "BIM step_size")
        flag(self.early_stop, "BIM early_stop")

    def as_pgd(self) -> PGD:
        return PGD(eps=self.eps, norm="inf", steps=self.steps, step_size=self.step_size, random_start=False,
                   restarts=1, early_stop=self.early_stop)

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any = None) -> Any:
        return self.as_pgd().generate(classifier, x, y, clip, generator)

    def describe(self) -> dict[str, Any]:
        pgd = self.as_pgd().describe()
        return {"attack": "BIM", **{key: pgd[key] for key in ("norm", "eps", "steps", "step_size", "early_stop")},
                "targeted": False, "knowledge": "white-box"}


@dataclass(frozen=True)
class RandomNoise:
    """The random-noise baseline: uniform noise in the eps-ball, the worst of ``draws`` draws.

    Not an attack but the floor any attack must beat: an attack weaker than noise at
    the same eps points to masked gradients (Carlini et al. 2019).
    """

    eps: float
    norm: str = "inf"
    draws: int = 1

    def __post_init__(self) -> None:
        budget(self.eps, "RandomNoise eps")
        object.__setattr__(self, "norm", norm_name(self.norm))
        positive_int(self.draws, "RandomNoise draws")

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any = None) -> Any:
        import torch

        generator = seeded_generator(generator)
        low, high = clip

        def draw(points):
            return torch.clamp(points + random_in_ball(points, self.eps, self.norm, generator), low, high)

        return first_misclassified(classifier, x, y, self.draws, draw)

    def describe(self) -> dict[str, Any]:
        return {"attack": "RandomNoise", "norm": norm_label(self.norm), "eps": self.eps, "draws": self.draws,
                "knowledge": "random"}


@dataclass(frozen=True)
class Transfer:
    """A transfer attack: ``attack`` crafts examples on ``surrogate``; they are evaluated on the target.

    The threat model of an attacker without access to the target (a black-box
    XGBoost, a deployed API): ``surrogate`` is a differentiable model (torch module
    or logistic regression) trained for the same task, with its own
    ``surrogate_normalization``.
    """

    attack: Any
    surrogate: Any
    surrogate_normalization: Any = None

    def __post_init__(self) -> None:
        if not callable(getattr(self.attack, "generate", None)):
            raise TypeError(f"Transfer attack must be an attack object such as PGD(eps=...), got {self.attack!r}")
        as_classifier(self.surrogate, device="cpu", normalization=self.surrogate_normalization,
                      name="Transfer surrogate")

    @property
    def eps(self) -> float | None:
        return getattr(self.attack, "eps", None)

    def with_eps(self, eps: float) -> Transfer:
        return dataclasses.replace(self, attack=at_eps(self.attack, eps))

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any = None) -> Any:
        surrogate = as_classifier(self.surrogate, device=classifier.device.type, normalization=self.surrogate_normalization)
        with surrogate.audit_mode():
            return run_attack(self.attack, surrogate, x, y, clip, generator)

    def describe(self) -> dict[str, Any]:
        crafted = describe_attack(self.attack)
        surrogate = describe_model(self.surrogate)
        return {**crafted, "attack": f"Transfer[{crafted.get('attack')}]", "knowledge": "transfer",
                "surrogate": {key: surrogate.get(key) for key in ("name", "kind", "fingerprint") if key in surrogate}}
