"""The attack protocol, for any attack object (built-in or another plugin's).

An attack is an object with ``generate(classifier, x, y, clip, generator=None) ->
x_adv``, where ``clip`` is the pair of ``(low, high)`` tensors of the input domain and
``generator`` a seeded ``torch.Generator`` for random starts (the audit passes one
derived from ``--mlaudit-seed``); optionally ``describe() -> dict`` of its parameters
for the report and ``with_eps(eps)`` (or a dataclass field ``eps``) for curves.
These helpers run, describe and re-size such objects without knowing their class.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any


def is_attack(attack: Any) -> bool:
    """Whether ``attack`` has a callable ``generate``."""
    return callable(getattr(attack, "generate", None))


def require_attack(attack: Any, name: str = "attack") -> None:
    """Refuse an object that is not an attack, with the error the audits give."""
    if not is_attack(attack):
        raise TypeError(f"{name} must be an attack object such as FGSM(eps=...), got {attack!r}")


def describe_attack(attack: Any) -> dict[str, Any]:
    """The attack's parameters for the report: its ``describe()``, or its class name."""
    return attack.describe() if callable(getattr(attack, "describe", None)) else {"attack": type(attack).__name__}


def at_eps(attack: Any, eps: float) -> Any:
    """The same attack with another eps (for a robustness curve)."""
    if callable(getattr(attack, "with_eps", None)):
        return attack.with_eps(eps)
    if dataclasses.is_dataclass(attack) and "eps" in {f.name for f in dataclasses.fields(attack)}:
        return dataclasses.replace(attack, eps=eps)
    raise TypeError(f"{type(attack).__name__} has no eps parameter: a robustness curve needs an attack with one")


def run_attack(attack: Any, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any) -> Any:
    """``attack.generate`` with the seeded generator when it takes one; the result checked.

    Attacks that other plugins add may omit the ``generator`` argument. Whatever
    the attack, examples must keep the input's shape and stay inside the domain.
    """
    import torch

    takes_generator = "generator" in inspect.signature(attack.generate).parameters
    args = (classifier, x, y, clip)
    x_adv = attack.generate(*args, generator=generator) if takes_generator else attack.generate(*args)
    if not isinstance(x_adv, torch.Tensor) or x_adv.shape != x.shape:
        raise ValueError(
            f"attack {type(attack).__name__} returned {type(x_adv).__name__} of shape "
            f"{tuple(getattr(x_adv, 'shape', ()))}; expected a tensor of shape {tuple(x.shape)}"
        )
    low, high = clip
    if bool((x_adv < low - 1e-5).any() or (x_adv > high + 1e-5).any()):
        raise ValueError(f"attack {type(attack).__name__} produced examples outside the input domain clip")
    return x_adv.detach()


def target_classes(clean_logits: Any, count: int) -> list[Any]:
    """The classes targeted attacks aim at, as AutoAttack picks them: for each sample, the
    second most likely class on the clean input, then the third, ``count`` of them at most."""
    ranking = clean_logits.argsort(dim=1)
    return [ranking[:, -rank] for rank in range(2, 2 + min(count, clean_logits.shape[1] - 1))]
