"""The geometry every attack shares: norms, budgets, the eps-ball, steepest-ascent steps.

Both the native attacks (:mod:`.attacks`) and the ART-backed ones
(:mod:`.art_attacks`) import from here and from nowhere else in the family's attack
code, so neither imports the other. Norms are spelled ``"inf"`` (L-inf) or ``"2"``
(L2) inside the package and ``"Linf"`` / ``"L2"`` in the report. torch is imported
inside the functions (an optional extra).
"""

from __future__ import annotations

import math
from typing import Any

from ..validation import positive_number

NORMS = {"inf": "inf", "linf": "inf", "2": "2", "l2": "2"}
FLOAT32_MAX = 3.4028234663852886e38


def norm_name(norm: Any) -> str:
    """``"inf"`` or ``"2"`` from the usual spellings (``np.inf``, ``"Linf"``, ``2``, ``"L2"``)."""
    key = "inf" if isinstance(norm, float) and math.isinf(norm) else str(norm).lower()
    try:
        return NORMS[key]
    except KeyError:
        raise ValueError(f"norm must be 'inf' (L-inf) or 2 (L2), got {norm!r}") from None


def norm_label(norm: str) -> str:
    """The report's spelling of a norm: ``"Linf"`` or ``"L2"``."""
    return "Linf" if norm == "inf" else "L2"


def budget(value: Any, name: str) -> float:
    """An attack size (eps, step size): a finite number >= 0 that float32 tensors can hold."""
    value = positive_number(value, name)
    if value > FLOAT32_MAX:
        raise ValueError(f"{name} must be at most {FLOAT32_MAX:.3g} (attacks compute in float32), got {value!r}")
    return value


def random_in_ball(x: Any, eps: float, norm: str, generator: Any) -> Any:
    """Uniform random points of the eps-ball (L-inf cube or L2 ball), one per sample, drawn on the CPU."""
    import torch

    if norm == "inf":
        noise = (torch.rand(x.shape, generator=generator) * 2 - 1) * eps
    else:
        flat = torch.randn((len(x), x[0].numel()), generator=generator)
        flat = flat / flat.norm(dim=1, keepdim=True).clamp_min(1e-12)
        radius = torch.rand((len(x), 1), generator=generator) ** (1.0 / flat.shape[1])
        noise = (flat * radius * eps).reshape(x.shape)
    return noise.to(device=x.device, dtype=x.dtype)


def direction(grad: Any, norm: str) -> Any:
    """The steepest-ascent direction of unit norm: sign (L-inf) or grad / ||grad||_2 (L2)."""
    if norm == "inf":
        return grad.sign()
    lengths = grad.flatten(1).norm(dim=1).view(-1, *[1] * (grad.dim() - 1))
    return grad / lengths.where(lengths > 0, lengths.new_ones(()))


def project(delta: Any, eps: float, norm: str) -> Any:
    """``delta`` projected onto the eps-ball."""
    import torch

    if norm == "inf":
        return torch.clamp(delta, -eps, eps)
    lengths = delta.flatten(1).norm(dim=1).view(-1, *[1] * (delta.dim() - 1))
    scale = torch.where(lengths > eps, eps / lengths.clamp_min(1e-12), lengths.new_ones(()))
    return delta * scale


def perturbation_size(delta: Any, norm: str) -> Any:
    """Per sample, the size of ``delta`` in ``norm`` (max |.| for L-inf, the Euclidean length for L2)."""
    flat = delta.flatten(1)
    return flat.abs().amax(dim=1) if norm == "inf" else flat.norm(dim=1)


def first_misclassified(classifier: Any, x: Any, y: Any, draws: int, draw: Any) -> Any:
    """Per sample, the first of up to ``draws`` random candidates ``draw(x)`` that the model
    misclassifies; ``x`` itself where none does."""
    import torch

    result = x.clone()
    remaining = torch.arange(len(x), device=x.device)
    for _ in range(draws):
        if len(remaining) == 0:
            break
        candidate = draw(x[remaining])
        with torch.no_grad():
            wrong = classifier.logits(candidate).argmax(1) != y[remaining]
        result[remaining[wrong]] = candidate[wrong]
        remaining = remaining[~wrong]
    return result


def seeded_generator(generator: Any = None) -> Any:
    """The attack's random generator: the audit's, or one seeded 0 when an attack is called on its own."""
    import torch

    return torch.Generator().manual_seed(0) if generator is None else generator
