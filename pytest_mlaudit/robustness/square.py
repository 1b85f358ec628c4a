"""The L-inf Square attack (Andriushchenko et al., ECCV 2020), natively in PyTorch, for AutoAttack.

Score-based and gradient-free: from vertical stripes of +-eps, each query changes one
random square patch (all channels to +-eps), and keeps the change for the samples
whose margin ``logit_y - max_{j != y} logit_j`` fell. The patch shrinks on the
paper's schedule (``p_init`` halved at fixed fractions of the query budget), as in
the reference implementation of AutoAttack.

Native rather than ART's ``SquareAttack`` (still :class:`.art_attacks.Square`, and
AutoAttack's Square for L2): ART spends about 50 ms of numpy work per query on the
embedded digits, where the model's forward pass takes 1 ms, and AutoAttack's 5,000
queries made it the slowest stage by far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..validation import positive_int, positive_number
from .geometry import budget, seeded_generator

# fractions of the query budget (in 1/10,000) after which the patch area is halved again
SCHEDULE = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)


def patch_fraction(p_init: float, query: int, n_queries: int) -> float:
    """The fraction of the image a patch covers at ``query`` (the paper's piecewise-constant schedule)."""
    progress = int(query / n_queries * 10000)
    halvings = sum(progress > point for point in SCHEDULE)
    return p_init / 2 ** halvings


def margins(classifier: Any, x: Any, y: Any) -> Any:
    """Per sample ``logit_y - max_{j != y} logit_j``: negative once misclassified."""
    import torch

    with torch.inference_mode():
        logits = classifier.logits(x)
    true = logits.gather(1, y[:, None]).squeeze(1)
    others = logits.scatter(1, y[:, None], -torch.inf).amax(dim=1)
    return true - others


@dataclass(frozen=True)
class SquareLinf:
    """Square attack in L-inf with ``max_iter`` queries per sample, on images (batch, channels, height, width)."""

    eps: float
    max_iter: int = 5000
    p_init: float = 0.8

    def __post_init__(self) -> None:
        budget(self.eps, "SquareLinf eps")
        positive_int(self.max_iter, "SquareLinf max_iter")
        if not 0 < positive_number(self.p_init, "SquareLinf p_init") <= 1:
            raise ValueError(f"SquareLinf p_init must be in (0, 1], got {self.p_init!r}")

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any = None) -> Any:
        import torch

        if x.dim() != 4:
            raise ValueError(f"Square attacks images of shape (batch, channels, height, width); got {tuple(x.shape)}")
        generator = seeded_generator(generator)
        low, high = clip
        n, channels, height, width = x.shape

        def signs(*shape):
            return (torch.randint(0, 2, shape, generator=generator) * 2 - 1).to(x.device, x.dtype)

        best = torch.clamp(x + self.eps * signs(n, channels, 1, width), low, high)
        margin = margins(classifier, best, y)
        for query in range(self.max_iter):
            active = (margin > 0).nonzero().squeeze(1)
            if len(active) == 0:
                break
            p = patch_fraction(self.p_init, query, self.max_iter)
            side = min(max(int(round(math.sqrt(p * height * width))), 1), height, width)
            top = int(torch.randint(0, height - side + 1, (1,), generator=generator))
            left = int(torch.randint(0, width - side + 1, (1,), generator=generator))
            x_active, current = x[active], best[active]
            candidate = current.clone()
            candidate[:, :, top:top + side, left:left + side] = (
                x_active[:, :, top:top + side, left:left + side] + self.eps * signs(1, channels, 1, 1))
            candidate = torch.clamp(torch.min(torch.max(candidate, x_active - self.eps), x_active + self.eps), low, high)
            new_margin = margins(classifier, candidate, y[active])
            improved = new_margin < margin[active]
            best[active[improved]] = candidate[improved]
            margin[active[improved]] = new_margin[improved]
        return best.detach()

    def describe(self) -> dict[str, Any]:
        return {"attack": "Square", "norm": "Linf", "eps": self.eps, "max_iter": self.max_iter, "p_init": self.p_init,
                "targeted": False, "knowledge": "black-box", "implementation": "native (AutoAttack's Square)"}
