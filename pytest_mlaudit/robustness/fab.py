"""FAB-T, the targeted Fast Adaptive Boundary attack (Croce & Hein, ICML 2020), natively in PyTorch.

FAB searches for the smallest perturbation that changes the decision. Towards a
target class ``t`` it repeats, from the current point ``x_k`` (the original ``x`` at
first):

1. linearise the gap ``logit_t - logit_y`` at ``x_k``: its zero set is a hyperplane,
   the model's decision boundary between ``y`` and ``t`` to first order;
2. project both ``x_k`` and ``x`` onto that hyperplane intersected with the input
   domain, in the attack's norm: steps ``d_k`` and ``d_0``;
3. move to ``(1 - a) (x_k + eta d_k) + a (x + eta d_0)``, clipped to the domain, where
   ``a = min(|d_k| / (|d_k| + |d_0|), alpha_max)`` biases the step towards the
   original point and ``eta`` overshoots the hyperplane a little;
4. if the new point is misclassified, keep it when it is the closest so far and pull
   it back towards ``x`` by the factor ``beta``, to search nearer the original.

A final search then shrinks the best example along the segment from ``x``: a few
steps of regula falsi on the logit gap, always keeping a misclassified end. FAB-T
runs towards each of the ``n_target_classes`` classes the model ranks highest after
the true one (AutoAttack's standard configuration: 9 targets, 100 iterations, 1 run
per target, ``alpha_max`` 0.1, ``eta`` 1.05, ``beta`` 0.9). A targeted run needs one
backward pass per iteration where the untargeted FAB needs one per class.

Native because ART has no FAB. Two departures from the reference implementation,
neither changing which samples are broken: the projection handles any box (per
feature bounds of tabular data, not only [0, 1]); and, as AutoAttack counts an
example only if it is misclassified and within ``eps`` of the original (checked
explicitly here too), a sample stops being attacked once it has such an example
(``early_exit=False`` keeps minimising its norm instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..validation import flag, positive_int, positive_number
from .geometry import budget, norm_label, norm_name, perturbation_size, seeded_generator
from .protocol import target_classes

ALPHA_MAX = 0.1
ETA = 1.05
BETA = 0.9
FINAL_SEARCH_STEPS = 3
SMALLEST_STEP = 1e-8  # the floor on |d_k| and |d_0| in the bias towards the original
TARGET_BATCH_ROWS = 1024  # rows of the batched runs towards several targets, when the batch is smaller


def logit_gap_and_gradient(classifier: Any, x: Any, y: Any, target: Any) -> tuple[Any, Any]:
    """Per sample ``logit_target - logit_y`` (negative while ``y`` wins over the target) and its input gradient."""
    import torch

    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = classifier.logits(x)
        gap = logits.gather(1, target[:, None]).squeeze(1) - logits.gather(1, y[:, None]).squeeze(1)
        (grad,) = torch.autograd.grad(gap.sum(), x)
    return gap.detach(), grad


def project_onto_hyperplane(point: Any, w: Any, b: Any, low: Any, high: Any, norm: str) -> Any:
    """Per row, the smallest step ``d`` (in ``norm``) with ``w . (point + d) = b`` and ``low <= point + d <= high``.

    Rows are samples, flattened: ``point``, ``w``, ``low`` and ``high`` of shape
    (rows, features), ``b`` of shape (rows,). Where the box does not reach the
    hyperplane, the step that comes closest: every coordinate as far as the box lets it go.

    With the signs chosen so that ``w . d`` must rise by ``r >= 0``, the optimal step
    moves coordinate ``i`` towards ``sign(w_i)`` by ``min(tau * m_i, room_i)``, where
    ``room_i`` is the distance to the box in that direction and ``m_i`` is 1 in L-inf
    (all coordinates move alike until the box stops them) or ``|w_i|`` in L2 (the step
    is ``tau * w`` clipped to the box, from the KKT conditions). The gain
    ``h(tau) = sum_i |w_i| min(tau * m_i, room_i)`` is piecewise linear and
    non-decreasing with breakpoints ``room_i / m_i``; sorting them finds the segment
    where ``h(tau) = r`` and solves it there.
    """
    import torch

    residual = b - (w * point).sum(1)
    flip = torch.where(residual < 0, -1.0, 1.0).to(w.dtype)
    w, residual = w * flip[:, None], residual * flip
    room = torch.where(w > 0, high - point, point - low).clamp_min(0)
    magnitude = w.abs()
    rate = (magnitude > 0).to(w.dtype) if norm == "inf" else magnitude
    moving = rate > 0
    breakpoints = torch.where(moving, room / torch.where(moving, rate, 1.0), 0.0)
    slopes = magnitude * rate
    order = breakpoints.argsort(dim=1)
    breakpoints, slopes = breakpoints.gather(1, order), slopes.gather(1, order)
    gain_saturated = (slopes * breakpoints).cumsum(1)               # from the coordinates stopped by the box
    slope_free = slopes.sum(1, keepdim=True) - slopes.cumsum(1)     # of the coordinates still moving
    gain_at_breakpoints = (gain_saturated + breakpoints * slope_free).cummax(1).values
    segment = torch.searchsorted(gain_at_breakpoints, residual[:, None].contiguous()).squeeze(1)
    reachable = segment < breakpoints.shape[1]
    segment = segment.clamp_max(breakpoints.shape[1] - 1)
    zero = torch.zeros_like(residual[:, None])
    gain_before = torch.cat([zero, gain_saturated], 1).gather(1, segment[:, None]).squeeze(1)
    slope_before = torch.cat([slopes.sum(1, keepdim=True), slope_free], 1).gather(1, segment[:, None]).squeeze(1)
    start = torch.cat([zero, breakpoints], 1).gather(1, segment[:, None]).squeeze(1)
    end = breakpoints.gather(1, segment[:, None]).squeeze(1)
    tau = torch.where(slope_before > 0, (residual - gain_before) / torch.where(slope_before > 0, slope_before, 1.0),
                      end)
    tau = torch.where(reachable, torch.minimum(torch.maximum(tau, start), end), breakpoints[:, -1])
    return torch.sign(w) * torch.minimum(tau[:, None] * rate, room)


@dataclass(frozen=True)
class FAB:
    """FAB-T at ``eps`` in ``norm``: ``n_iter`` iterations towards each of ``n_target_classes`` classes.

    ``restarts`` runs per target class, the first from the original point, the others
    from random points at distance ``eps / 2`` (drawn from the audit's seeded
    generator); ``alpha_max``, ``eta`` and ``beta`` are the paper's; the final search
    takes ``final_search_steps`` forward passes. A sample counts as broken only by a
    misclassified example within ``eps``; the others are returned unchanged.
    """

    eps: float
    norm: str = "inf"
    n_iter: int = 100
    restarts: int = 1
    n_target_classes: int = 9
    alpha_max: float = ALPHA_MAX
    eta: float = ETA
    beta: float = BETA
    final_search_steps: int = FINAL_SEARCH_STEPS
    early_exit: bool = True

    def __post_init__(self) -> None:
        positive_number(self.eps, "FAB eps", allow_zero=False)
        budget(self.eps, "FAB eps")
        object.__setattr__(self, "norm", norm_name(self.norm))
        positive_int(self.n_iter, "FAB n_iter")
        positive_int(self.restarts, "FAB restarts")
        positive_int(self.n_target_classes, "FAB n_target_classes")
        if not 0 < positive_number(self.alpha_max, "FAB alpha_max") <= 1:
            raise ValueError(f"FAB alpha_max must be in (0, 1], got {self.alpha_max!r}")
        if positive_number(self.eta, "FAB eta") < 1:
            raise ValueError(f"FAB eta (the overshoot) must be at least 1, got {self.eta!r}")
        if not 0 < positive_number(self.beta, "FAB beta") < 1:
            raise ValueError(f"FAB beta (the pull back towards the original) must be in (0, 1), got {self.beta!r}")
        positive_int(self.final_search_steps, "FAB final_search_steps", allow_zero=True)
        flag(self.early_exit, "FAB early_exit")

    def generate(self, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any = None) -> Any:
        import torch

        generator = seeded_generator(generator)
        with torch.no_grad():
            clean_logits = classifier.logits(x)
        n_classes = clean_logits.shape[1]
        if n_classes < 2:
            raise ValueError(f"FAB needs a model with at least 2 classes, the model has {n_classes}")
        targets = target_classes(clean_logits, self.n_target_classes)
        low, high = (torch.broadcast_to(torch.as_tensor(bound, dtype=x.dtype, device=x.device), x.shape)
                     for bound in clip)
        result = x.clone()
        remaining = (clean_logits.argmax(1) == y).nonzero().squeeze(1)
        for restart in range(self.restarts):
            first = 0
            while first < len(targets):
                if len(remaining) == 0:
                    return result.detach()
                # The runs from the unperturbed point towards several targets go in one batch: after
                # APGD few samples remain, and one batch of (targets x samples) costs far less than
                # a batch per target. Rows stay below max(len(x), TARGET_BATCH_ROWS).
                count = max(1, min(len(targets) - first, max(len(x), TARGET_BATCH_ROWS) // len(remaining)))
                if restart > 0:
                    count = 1  # random starts are drawn one target at a time
                chosen = targets[first:first + count]
                first += count
                xs, ys = x[remaining].repeat(count, *[1] * (x.dim() - 1)), y[remaining].repeat(count)
                box = tuple(bound[remaining].repeat(count, *[1] * (x.dim() - 1)) for bound in (low, high))
                start = xs if restart == 0 else self._random_start(xs, box, generator)
                x_adv = self._run(classifier, xs, ys, torch.cat([target[remaining] for target in chosen]), box, start)
                with torch.no_grad():
                    wrong = classifier.logits(x_adv).argmax(1) != ys
                broken = (wrong & (perturbation_size(x_adv - xs, self.norm) <= self.eps)).view(count, -1)
                # each sample keeps the example of the first target that broke it, as a sequential run would
                taken = torch.zeros(len(remaining), dtype=torch.bool, device=x.device)
                for position in range(count):
                    newly = broken[position] & ~taken
                    result[remaining[newly]] = x_adv.view(count, len(remaining), *x.shape[1:])[position][newly]
                    taken |= newly
                remaining = remaining[~taken]
        return result.detach()

    def _random_start(self, x: Any, box: tuple[Any, Any], generator: Any) -> Any:
        """Random points at distance ``eps / 2`` from ``x`` in the attack's norm, clipped to the domain."""
        import torch

        if self.norm == "inf":
            noise = torch.rand(x.shape, generator=generator) * 2 - 1
        else:
            noise = torch.randn(x.shape, generator=generator)
        noise = noise.to(device=x.device, dtype=x.dtype)
        lengths = perturbation_size(noise, self.norm).clamp_min(1e-12).view(-1, *[1] * (x.dim() - 1))
        return torch.clamp(x + self.eps / 2 * noise / lengths, *box)

    def _run(self, classifier: Any, x: Any, y: Any, target: Any, box: tuple[Any, Any], start: Any) -> Any:
        """One run towards ``target`` from ``start``: per sample the closest misclassified point found, else ``x``."""
        import torch

        n = len(x)
        best, best_size = x.clone(), torch.full((n,), torch.inf, device=x.device, dtype=x.dtype)
        # per-sample state of the samples still attacked; "idx" maps them to their positions in x
        s = {"idx": torch.arange(n, device=x.device), "x": x, "y": y, "target": target, "low": box[0],
             "high": box[1], "current": start.clone()}
        for _ in range(self.n_iter):
            if len(s["idx"]) == 0:
                break
            gap, grad = logit_gap_and_gradient(classifier, s["current"], s["y"], s["target"])
            current, original = s["current"].flatten(1), s["x"].flatten(1)
            w = grad.flatten(1)
            offset = (w * current).sum(1) - gap  # the linearised gap is zero where w . z = offset
            low, high = s["low"].flatten(1), s["high"].flatten(1)
            steps = project_onto_hyperplane(torch.cat([current, original]), torch.cat([w, w]),
                                            torch.cat([offset, offset]), torch.cat([low, low]),
                                            torch.cat([high, high]), self.norm)
            from_current, from_original = steps[:len(current)], steps[len(current):]
            size_current = perturbation_size(from_current, self.norm).clamp_min(SMALLEST_STEP)
            size_original = perturbation_size(from_original, self.norm).clamp_min(SMALLEST_STEP)
            bias = (size_current / (size_current + size_original)).clamp(0, self.alpha_max)[:, None]
            moved = (current + self.eta * from_current) * (1 - bias) + (original + self.eta * from_original) * bias
            s["current"] = torch.minimum(torch.maximum(moved, low), high).view_as(s["x"])
            with torch.no_grad():
                wrong = classifier.logits(s["current"]).argmax(1) != s["y"]
            size = perturbation_size(s["current"] - s["x"], self.norm)
            closer = wrong & (size < best_size[s["idx"]])
            best[s["idx"][closer]] = s["current"][closer]
            best_size[s["idx"][closer]] = size[closer]
            s["current"][wrong] = s["x"][wrong] + self.beta * (s["current"][wrong] - s["x"][wrong])
            done = best_size[s["idx"]] <= self.eps
            if self.early_exit and bool(done.any()):
                s = {key: value[~done] for key, value in s.items()}
        found = torch.isfinite(best_size)
        if bool(found.any()) and self.final_search_steps:
            best[found] = self._final_search(classifier, x[found], y[found], best[found])
        return best

    def _final_search(self, classifier: Any, x: Any, y: Any, x_adv: Any) -> Any:
        """``x_adv`` moved towards ``x`` along their segment while it stays misclassified (regula falsi on the gap)."""
        import torch

        def logits_of(points):
            with torch.no_grad():
                return classifier.logits(points)

        inside, outside = x.clone(), x_adv.clone()
        logits_inside, logits_outside = logits_of(inside), logits_of(outside)
        label_outside = logits_outside.argmax(1)
        shape = (-1, *[1] * (x.dim() - 1))
        for _ in range(self.final_search_steps):
            gap_inside = (logits_inside.gather(1, y[:, None]) - logits_inside.gather(1, label_outside[:, None]))
            gap_outside = (logits_outside.gather(1, label_outside[:, None]) - logits_outside.gather(1, y[:, None]))
            fraction = (gap_inside / (gap_inside + gap_outside + 1e-12)).squeeze(1)
            fraction = torch.where((fraction >= 0) & (fraction <= 1), fraction, torch.ones_like(fraction))
            point = inside + fraction.view(shape) * (outside - inside)
            logits_point = logits_of(point)
            label_point = logits_point.argmax(1)
            correct = label_point == y
            inside[correct], logits_inside[correct] = point[correct], logits_point[correct]
            wrong = ~correct
            outside[wrong], logits_outside[wrong], label_outside[wrong] = (point[wrong], logits_point[wrong],
                                                                         label_point[wrong])
        return outside

    def describe(self) -> dict[str, Any]:
        return {"attack": "FAB-T", "norm": norm_label(self.norm), "eps": self.eps, "steps": self.n_iter,
                "restarts": self.restarts, "n_target_classes": self.n_target_classes, "alpha_max": self.alpha_max,
                "eta": self.eta, "beta": self.beta, "final_search_steps": self.final_search_steps,
                "targeted": True, "knowledge": "white-box", "implementation": "native"}
