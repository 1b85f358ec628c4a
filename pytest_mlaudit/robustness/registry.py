"""Attacks by name: the built-ins and those other plugins add (``pytest_mlaudit_attacks``).

:func:`make_attack` is how a configuration file or a command line names an attack
(``make_attack("pgd", eps=0.03, steps=40)``). The registry imports both attack
modules; they import neither it nor each other.
"""

from __future__ import annotations

import inspect
from typing import Any

from ..session import plugin_hook
from .apgd import APGD
from .art_attacks import DeepFool, HopSkipJump, Square
from .attacks import BIM, FGSM, PGD, RandomNoise, Transfer
from .autoattack import AutoAttack
from .cw import CarliniWagnerL2


def builtin_attacks() -> dict[str, type]:
    """The attacks this package ships, by their lower-case names."""
    return {
        "fgsm": FGSM,
        "pgd": PGD,
        "bim": BIM,
        "noise": RandomNoise,
        "transfer": Transfer,
        "cw-l2": CarliniWagnerL2,
        "deepfool": DeepFool,
        "hopskipjump": HopSkipJump,
        "square": Square,
        "apgd": APGD,
        "autoattack": AutoAttack,
    }


def registered_attacks() -> dict[str, type]:
    """The built-in attacks and, inside pytest, those the ``pytest_mlaudit_attacks`` hook adds (names lower-cased)."""
    registry = builtin_attacks()
    hook = plugin_hook()
    if hook is not None:
        for provided in hook.pytest_mlaudit_attacks():
            registry.update({key.lower(): value for key, value in (provided or {}).items()})
    return registry


def make_attack(name: str, **params: Any) -> Any:
    """Build an attack by name, from the built-ins or those other plugins add."""
    registry = registered_attacks()
    if not isinstance(name, str):
        raise TypeError(f"name must be an attack name (str), got {name!r}")
    try:
        attack_class = registry[name.lower()]
    except KeyError:
        raise ValueError(f"unknown attack {name!r}; known attacks: {', '.join(sorted(registry))}") from None
    accepted = inspect.signature(attack_class).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    unknown = sorted(set(params) - set(accepted))
    if unknown and not takes_any:
        raise TypeError(f"make_attack({name!r}): unknown parameters {unknown}; "
                        f"{attack_class.__name__} takes {', '.join(accepted)}")
    return attack_class(**params)
