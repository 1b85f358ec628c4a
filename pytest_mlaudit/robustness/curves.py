"""Robustness curves: robust accuracy, with its interval, at each of several eps.

The attack is given once, at any eps; the curve runs it at each eps in increasing
order. A sample broken at one eps is not attacked again at a larger one (the example
found lies inside the larger ball too), so each point is the accuracy under the
attack at that eps *and every smaller eps of the sweep*, and the curve never rises.
An FGSM sweep costs one gradient pass plus one forward pass per eps; PGD attacks
only the samples still classified correctly. The record carries the curve as an
:class:`~pytest_mlaudit.extras.Curve` (``extras["curves"]``) for the report's chart,
and one metric per eps, ``robust_accuracy@eps=<eps>``, for gates.

As in :mod:`.audit`, each public function is one ``with audit(...) as a:`` block;
:func:`assert_robustness_curve` declares one gate per eps first, then measures with
the same :func:`_measure_curve` as :func:`robustness_curve`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..authoring import Audit, audit
from ..dependencies import require
from ..extras import Curve, Series
from ..records import Check, Estimate, SanityChecked
from ..stats import proportion
from .audit import SANITY_SAMPLES, attack_generator, attack_outcomes, prepare, run_checks
from .geometry import budget
from .protocol import at_eps, describe_attack, is_attack, require_attack


@dataclass(frozen=True)
class RobustnessCurve(SanityChecked):
    """Robust accuracy at each eps of a sweep."""

    eps: tuple[float, ...]
    clean_accuracy: Estimate
    robust_accuracy: tuple[Estimate, ...]
    n: int
    attack: dict[str, Any]
    checks: tuple[Check, ...] = field(default_factory=tuple)


def metric_name(eps: float) -> str:
    """The metric of one point of the curve: ``robust_accuracy@eps=0.03``."""
    return f"robust_accuracy@eps={eps:g}"


def robustness_curve(model, X, y, *, attack, eps, clip, batch_size: int = 256, device: str | None = None,
                     normalization=None, requirement=None, sanity_samples: int = SANITY_SAMPLES,
                     strict: bool = False) -> RobustnessCurve:
    """Robust accuracy of ``model`` under ``attack`` at each value of ``eps``.

    ``attack`` is an attack object (its own eps is replaced by each value of
    ``eps``); the other arguments are those of :func:`~.audit.robustness`. The
    sanity checks run at the largest eps.
    """
    with audit("robustness", curve_name(attack), requirement=requirement) as a:
        return _measure_curve(a, model, X, y, attack, eps, clip, batch_size, device, normalization,
                              sanity_samples, strict)


def assert_robustness_curve(model, X, y, *, attack, eps, clip, at_least=None, at_most=None, policy: str | None = None,
                            batch_size: int = 256, device: str | None = None, normalization=None, requirement=None,
                            sanity_samples: int = SANITY_SAMPLES, strict: bool = False) -> RobustnessCurve:
    """Measure as :func:`robustness_curve` does and gate robust accuracy at every eps.

    ``at_least`` / ``at_most`` is one threshold for all eps, or a sequence with one
    threshold per eps (in the order of ``eps``), e.g. a required curve.
    """
    with audit("robustness", curve_name(attack), requirement=requirement) as a:
        eps_values = _eps_values(eps)
        for value, threshold in sorted(zip(eps_values, _thresholds(at_least, at_most, len(eps_values)))):
            a.gate(metric_name(value), **threshold, policy=policy, requirement=requirement, bounds=(0.0, 1.0))
        return _measure_curve(a, model, X, y, attack, eps, clip, batch_size, device, normalization,
                              sanity_samples, strict)


def curve_name(attack: Any) -> str:
    """``robustness curve under PGD (Linf)``: the attack and its norm, without an eps."""
    if not is_attack(attack):
        return "robustness curve"
    params = describe_attack(attack)
    return f"robustness curve under {params.get('attack', 'attack')} ({params.get('norm', 'Linf')})"


def _eps_values(eps: Any) -> list[float]:
    if isinstance(eps, (str, bytes)) or not hasattr(eps, "__iter__"):
        raise TypeError(f"eps must be a sequence of budgets, e.g. [0.01, 0.03, 0.1], got {eps!r}")
    values = [budget(value, "each eps") for value in eps]
    if not values:
        raise ValueError("eps is empty: give at least one budget")
    if len(set(values)) != len(values):
        raise ValueError(f"eps has repeated values: {values}")
    return values


def _thresholds(at_least: Any, at_most: Any, count: int) -> list[dict[str, Any]]:
    """One ``{"at_least": t}`` or ``{"at_most": t}`` per eps, from one threshold or a sequence of them."""
    given = at_least if at_least is not None else at_most
    if (at_least is None) == (at_most is None) or not hasattr(given, "__iter__") or isinstance(given, (str, bytes)):
        return [{"at_least": at_least, "at_most": at_most}] * count
    keyword = "at_least" if at_least is not None else "at_most"
    given = list(given)
    if len(given) != count:
        raise ValueError(f"{keyword} has {len(given)} thresholds for {count} eps values")
    return [{keyword: value} for value in given]


def _measure_curve(a: Audit, model, X, y, attack, eps, clip, batch_size, device, normalization,
                   sanity_samples, strict) -> RobustnessCurve:
    """Run the sweep and record the clean accuracy, one metric per eps and the curve into ``a``."""
    require("torch", "robustness")
    require_attack(attack)
    eps_values = sorted(_eps_values(eps))
    attacks = [at_eps(attack, value) for value in eps_values]
    params = {key: value for key, value in describe_attack(attacks[-1]).items() if key not in ("eps", "step_size")}
    params["eps"] = eps_values
    audited = prepare(a, model, X, y, clip, batch_size, device, normalization, params, sanity_samples, strict)
    clean_correct, robust = attack_outcomes(audited, attacks, attack_generator(a), f"{a.name} at {len(attacks)} eps")
    checks = run_checks(a, audited, attacks[-1], clean_correct, robust[-1], sanity_samples, strict)

    confidence, n = a.settings.confidence, len(clean_correct)
    clean = a.metric("clean_accuracy", proportion(int(clean_correct.sum()), n, confidence))
    points = tuple(a.metric(metric_name(value), proportion(int(outcome.sum()), n, confidence))
                   for value, outcome in zip(eps_values, robust))
    attack_name = str(params.get("attack", "attack"))
    a.extra(Curve(f"Robust accuracy under {attack_name}", x_label=f"eps ({params.get('norm', 'Linf')})",
                  y_label="robust accuracy",
                  series=[Series(attack_name, x=eps_values, y=[p.value for p in points], low=[p.low for p in points],
                                 high=[p.high for p in points])]))
    return RobustnessCurve(tuple(eps_values), clean, points, n, params, checks)
