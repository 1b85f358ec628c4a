"""Sanity checks of a robustness evaluation (Carlini et al. 2019, "On Evaluating
Adversarial Robustness"): signs that an audit number may not mean what it says.

Each check runs on a bounded subsample (the first correctly classified samples, at
most ``sanity_samples`` of them, seeded) and returns a
:class:`~pytest_mlaudit.records.Check`; a failed check marks the audit suspect in the
report, and ``strict=True`` makes it fail the test. Comparisons between attacks allow
a slack of ``max(1, 5%)`` of the subsample: two attacks of similar strength may each
break a sample the other misses.

Models that return probabilities, or NaN, are not a check but an error: no number
measured through them means anything.
"""

from __future__ import annotations

from typing import Any

from ..records import Check
from .attacks import PGD, RandomNoise
from .protocol import run_attack

ZERO_GRADIENT_LIMIT = 0.10
REFERENCE_STEPS = 10
CHANCE_MARGIN = 0.10
ENSEMBLE_REFERENCE_STEPS = 20


def refuse_probabilities(logits: Any) -> None:
    """Gradient attacks on softmax outputs are masked: refuse models that return probabilities."""
    import torch

    if not bool(torch.isfinite(logits).all()):
        raise ValueError("model returned NaN or infinite logits on X: its outputs cannot be audited")
    if logits.dim() != 2:
        raise ValueError(f"model must return logits of shape (batch, n_classes), got shape {tuple(logits.shape)}")
    if logits.shape[1] < 2:
        raise ValueError(f"model must return one logit per class (at least 2), got {logits.shape[1]}")
    sums = logits.sum(dim=1)
    if bool((logits >= 0).all() and (logits <= 1).all() and torch.allclose(sums, torch.ones_like(sums), atol=1e-4)):
        raise ValueError(
            "model returns probabilities (outputs in [0, 1] summing to 1); audits need logits. "
            "Remove the final softmax: attacks through a softmax see vanishing gradients."
        )


def deterministic_forward(classifier: Any, x: Any) -> Check:
    import torch

    with torch.no_grad():
        first, second = classifier.logits(x), classifier.logits(x)
    same = bool(torch.allclose(first, second, rtol=1e-5, atol=1e-5))
    detail = "two forward passes agree" if same else (
        f"two forward passes differ by up to {float((first - second).abs().max()):.3g}: "
        "randomness in the model (dropout left on, stochastic layers) can mask gradients"
    )
    return Check("deterministic forward pass", same, detail)


def nonzero_gradients(classifier: Any, x: Any, y: Any) -> Check:
    grad = classifier.loss_gradient(x, y)
    zero = (grad.flatten(1).abs().sum(dim=1) == 0).float().mean().item()
    passed = zero <= ZERO_GRADIENT_LIMIT
    return Check(
        "non-zero input gradients",
        passed,
        f"{zero:.1%} of {len(x)} samples have an all-zero input gradient (limit {ZERO_GRADIENT_LIMIT:.0%})",
    )


def evaluation_checks(classifier: Any, attack: dict[str, Any], x: Any, y: Any, attack_robust: Any,
                      clip: tuple[Any, Any], generator: Any) -> list[Check]:
    """The checks of one audit on a subsample ``x, y`` of correctly classified samples.

    ``attack`` is the audit attack's description, ``attack_robust`` which of the
    subsample's samples withstood it.
    """
    checks = [deterministic_forward(classifier, x)]
    eps, norm = attack.get("eps"), {"Linf": "inf", "L2": "2"}.get(attack.get("norm"))
    knowledge = attack.get("knowledge")
    if classifier.differentiable:
        checks.append(nonzero_gradients(classifier, x, y))
        checks.append(near_chance_at_large_eps(classifier, x, y, clip, norm or "inf", generator))
    if eps is None or norm is None:
        return checks
    survivors = int(attack_robust.sum())
    if classifier.differentiable and knowledge == "white-box" and "steps" in attack:
        checks.append(iterative_beats_one_step(classifier, attack, x, y, survivors, clip, generator, eps, norm))
    if knowledge != "random":
        checks.append(attack_beats_noise(classifier, x, y, survivors, clip, generator, eps, norm))
    if classifier.differentiable and attack.get("attack") == "AutoAttack":
        checks.append(ensemble_beats_pgd(classifier, x, y, survivors, clip, generator, eps, norm))
    if classifier.differentiable and knowledge in ("black-box", "transfer"):
        checks.append(white_box_beats_black_box(classifier, x, y, survivors, clip, generator, eps, norm))
    return checks


def _slack(n: int) -> int:
    return max(1, round(0.05 * n))


def _survivors(attack: Any, classifier: Any, x: Any, y: Any, clip: tuple[Any, Any], generator: Any) -> int:
    import torch

    x_adv = run_attack(attack, classifier, x, y, clip, generator)
    with torch.no_grad():
        return int((classifier.logits(x_adv).argmax(1) == y).sum())


def _pgd(eps: float, norm: str, steps: int):
    return PGD(eps=eps, norm=norm, steps=steps, step_size=eps if steps == 1 else 2.5 * eps / steps,
               random_start=False, early_stop=steps > 1)


def iterative_beats_one_step(classifier, attack, x, y, survivors, clip, generator, eps, norm) -> Check:
    """An iterative attack breaks at least what a single gradient step breaks."""
    n = len(x)
    if attack["steps"] == 1:
        iterative = _survivors(_pgd(eps, norm, REFERENCE_STEPS), classifier, x, y, clip, generator)
        one_step, label = survivors, f"PGD-{REFERENCE_STEPS} (reference)"
    else:
        iterative, label = survivors, f"{attack.get('attack')} (audited)"
        one_step = _survivors(_pgd(eps, norm, 1), classifier, x, y, clip, generator)
    passed = iterative <= one_step + _slack(n)
    return Check("iterative attack at least as strong as one-step", passed,
                 f"on {n} samples at eps={eps:g}: {iterative} survive {label}, {one_step} survive one step"
                 + ("" if passed else "; a one-step attack beating an iterative one suggests masked gradients"))


def near_chance_at_large_eps(classifier, x, y, clip, norm, generator) -> Check:
    """With a budget that spans the whole domain, accuracy must fall to chance or below."""
    import torch

    low, high = (torch.broadcast_to(bound, x.shape[1:]) for bound in clip)
    width = high - low
    eps = float(width.max()) if norm == "inf" else float(width.norm())
    survivors = _survivors(_pgd(eps, norm, REFERENCE_STEPS), classifier, x, y, clip, generator)
    with torch.no_grad():
        n_classes = classifier.logits(x[:1]).shape[1]
    limit = 1.0 / n_classes + CHANCE_MARGIN
    accuracy = survivors / len(x)
    passed = accuracy <= limit
    return Check("accuracy near chance at very large eps", passed,
                 f"PGD-{REFERENCE_STEPS} at eps={eps:.3g} ({'Linf' if norm == 'inf' else 'L2'}, the whole domain) "
                 f"leaves {accuracy:.1%} of {len(x)} samples correct (limit {limit:.1%})"
                 + ("" if passed else "; an unbounded attack that fails points to masked gradients"))


def attack_beats_noise(classifier, x, y, survivors, clip, generator, eps, norm) -> Check:
    """The attack breaks at least what random noise of the same size breaks."""
    noise = _survivors(RandomNoise(eps=eps, norm=norm, draws=4), classifier, x, y, clip, generator)
    passed = survivors <= noise + _slack(len(x))
    return Check("random noise weaker than the attack", passed,
                 f"on {len(x)} samples at eps={eps:g}: {survivors} survive the attack, {noise} survive random noise")


def white_box_beats_black_box(classifier, x, y, survivors, clip, generator, eps, norm) -> Check:
    """Where gradients exist, a white-box attack is at least as strong as a black-box or transfer one."""
    white = _survivors(_pgd(eps, norm, REFERENCE_STEPS), classifier, x, y, clip, generator)
    passed = white <= survivors + _slack(len(x))
    return Check("white-box at least as strong as black-box", passed,
                 f"on {len(x)} samples at eps={eps:g}: {white} survive white-box PGD-{REFERENCE_STEPS}, "
                 f"{survivors} survive the black-box attack")


def ensemble_beats_pgd(classifier, x, y, survivors, clip, generator, eps, norm) -> Check:
    """AutoAttack, the worst case of several attacks, leaves no more samples correct than PGD-20 alone."""
    pgd = _survivors(_pgd(eps, norm, ENSEMBLE_REFERENCE_STEPS), classifier, x, y, clip, generator)
    passed = survivors <= pgd + _slack(len(x))
    return Check("AutoAttack at least as strong as PGD-20", passed,
                 f"on {len(x)} samples at eps={eps:g}: {survivors} survive AutoAttack, "
                 f"{pgd} survive PGD-{ENSEMBLE_REFERENCE_STEPS}")


def black_box_adds_little(stages: list[tuple[str, bool, int, int]]) -> Check:
    """In an ensemble, a black-box attack that breaks many samples the white-box ones missed points to
    masked gradients (AutoAttack's own check on Square). ``stages``: (name, black_box, attacked, broken)."""
    white = [name for name, black_box, _, _ in stages if not black_box]
    found = [(name, attacked, broken) for name, black_box, attacked, broken in stages if black_box]
    if not found:
        return Check("black-box attack adds little after white-box", True,
                     "no black-box attack ran after " + ", ".join(white))
    passed = all(broken <= _slack(attacked) for _, attacked, broken in found)
    detail = "; ".join(f"{name} broke {broken} of the {attacked} samples {' and '.join(white)} left correct"
                       for name, attacked, broken in found)
    return Check("black-box attack adds little after white-box", passed,
                 detail + ("" if passed else ": gradient-based attacks missing them suggests masked gradients"))
