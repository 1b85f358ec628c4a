"""Evasion attacks, written natively in PyTorch.

Deliberately not ART's implementations at run time: a native attack works on the
batch already on the device, without numpy round trips, and lets a sweep over eps
reuse one gradient. ART stays the reference: the tests check that these examples
equal ART's on the same model and data.

An attack is a frozen dataclass of its parameters with
``generate(classifier, x, y, clip) -> x_adv``, where ``clip`` is the pair of
``(low, high)`` tensors of the input domain, and ``describe() -> dict``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..validation import positive_number


@dataclass(frozen=True)
class FGSM:
    """Fast Gradient Sign Method (Goodfellow et al. 2015), untargeted, L-inf.

    ``x_adv = clip(x + eps * sign(grad_x loss(x, y)))``, with the true labels.
    """

    eps: float

    def __post_init__(self) -> None:
        positive_number(self.eps, "FGSM eps")

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any]) -> Any:
        return self.step(x, classifier.loss_gradient(x, y), clip)

    def step(self, x: Any, grad: Any, clip: tuple[Any, Any]) -> Any:
        """The FGSM example for a known gradient: the direction does not depend on eps."""
        import torch

        low, high = clip
        return torch.clamp(x + self.eps * grad.sign(), low, high).detach()

    def describe(self) -> dict[str, Any]:
        return {"attack": "FGSM", "norm": "Linf", "eps": self.eps, "steps": 1, "targeted": False, "knowledge": "white-box"}


def builtin_attacks() -> dict[str, type]:
    return {"fgsm": FGSM}


def make_attack(name: str, **params: Any) -> Any:
    """Build an attack by name, from the built-ins or those other plugins add."""
    from ..session import plugin_hook

    registry = dict(builtin_attacks())
    hook = plugin_hook()
    if hook is not None:
        for provided in hook.pytest_mlaudit_attacks():
            registry.update({key.lower(): value for key, value in (provided or {}).items()})
    try:
        attack_class = registry[name.lower()]
    except KeyError:
        raise ValueError(f"unknown attack {name!r}; known attacks: {', '.join(sorted(registry))}") from None
    return attack_class(**params)
