"""Robustness curves: robust accuracy, with its interval, at each of several eps.

The attack is given once, at any eps; the curve runs it at each eps in increasing
order. A sample broken at one eps is not attacked again at a larger one (the example
found lies inside the larger ball too), so each point is the accuracy under the
attack at that eps *and every smaller eps of the sweep*, and the curve never rises.
An FGSM sweep costs one gradient pass plus one forward pass per eps; PGD attacks
only the samples still classified correctly. The record carries the curve under
``extras["curves"]`` for the report's chart, and one metric per eps,
``robust_accuracy@eps=<eps>``, for gates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_mlaudit.dependencies import require

from ..records import Check, Estimate, SanityChecked
from ..recording import AuditCall, audit_call, resolve_policy, threshold_spec
from ..stats import proportion
from .attacks import at_eps, budget, describe_attack
from .audit import SANITY_SAMPLES, attack_generator, attack_outcomes, prepare, run_checks


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
    return f"robust_accuracy@eps={eps:g}"


def robustness_curve(model, X, y, *, attack, eps, clip, batch_size: int = 256, device: str | None = None,
                     normalization=None, requirement=None, sanity_samples: int = SANITY_SAMPLES,
                     strict: bool = False) -> RobustnessCurve:
    """Robust accuracy of ``model`` under ``attack`` at each value of ``eps``.

    ``attack`` is an attack object (its own eps is replaced by each value of
    ``eps``); the other arguments are those of :func:`~.audit.robustness`. The
    sanity checks run at the largest eps.
    """
    with audit_call("robustness", "robustness curve", requirement=requirement) as call:
        return _measure_curve(call, model, X, y, attack, eps, clip, batch_size, device, normalization,
                              sanity_samples, strict)


def assert_robustness_curve(model, X, y, *, attack, eps, clip, at_least=None, at_most=None, policy: str | None = None,
                            batch_size: int = 256, device: str | None = None, normalization=None, requirement=None,
                            sanity_samples: int = SANITY_SAMPLES, strict: bool = False) -> RobustnessCurve:
    """Measure as :func:`robustness_curve` does and gate robust accuracy at every eps.

    ``at_least`` / ``at_most`` is one threshold for all eps, or a sequence with one
    threshold per eps (in the order of ``eps``), e.g. a required curve.
    """
    eps_values = _eps_values(eps)
    thresholds = _thresholds(at_least, at_most, len(eps_values))
    policy = resolve_policy(policy)
    with audit_call("robustness", "robustness curve", requirement=requirement) as call:
        curve = _measure_curve(call, model, X, y, attack, eps, clip, batch_size, device, normalization,
                               sanity_samples, strict)
        for value, (op, threshold) in sorted(zip(eps_values, thresholds)):
            call.gate(metric_name(value), op, threshold, policy, requirement)
    return curve


def _eps_values(eps: Any) -> list[float]:
    if isinstance(eps, (str, bytes)) or not hasattr(eps, "__iter__"):
        raise TypeError(f"eps must be a sequence of budgets, e.g. [0.01, 0.03, 0.1], got {eps!r}")
    values = [budget(value, "each eps") for value in eps]
    if not values:
        raise ValueError("eps is empty: give at least one budget")
    if len(set(values)) != len(values):
        raise ValueError(f"eps has repeated values: {values}")
    return values


def _thresholds(at_least: Any, at_most: Any, count: int) -> list[tuple[str, float]]:
    given = at_least if at_least is not None else at_most
    if (at_least is None) == (at_most is None) or not hasattr(given, "__iter__") or isinstance(given, (str, bytes)):
        return [threshold_spec(at_least, at_most)] * count
    given = list(given)
    if len(given) != count:
        raise ValueError(f"{'at_least' if at_least is not None else 'at_most'} has {len(given)} thresholds "
                         f"for {count} eps values")
    return [threshold_spec(value, None) if at_least is not None else threshold_spec(None, value) for value in given]


def _measure_curve(call: AuditCall, model, X, y, attack, eps, clip, batch_size, device, normalization,
                   sanity_samples, strict) -> RobustnessCurve:
    require("torch", "robustness")
    if not callable(getattr(attack, "generate", None)):
        raise TypeError(f"attack must be an attack object such as FGSM(eps=...), got {attack!r}")
    eps_values = sorted(_eps_values(eps))
    attacks = [at_eps(attack, value) for value in eps_values]
    params = {key: value for key, value in describe_attack(attacks[-1]).items() if key not in ("eps", "step_size")}
    params["eps"] = eps_values
    call.record.name = f"{call.record.name} under {params.get('attack', 'attack')} ({params.get('norm', 'Linf')})"
    audited = prepare(call, model, X, y, clip, batch_size, device, normalization, params, sanity_samples, strict)
    clean_correct, robust = attack_outcomes(audited, attacks, attack_generator(call), f"{call.record.name} at {len(attacks)} eps")
    checks = run_checks(call, audited, attacks[-1], clean_correct, robust[-1], sanity_samples, strict)

    confidence, n = call.settings.confidence, len(clean_correct)
    clean = call.metric("clean_accuracy", proportion(int(clean_correct.sum()), n, confidence))
    points = tuple(call.metric(metric_name(value), proportion(int(outcome.sum()), n, confidence))
                   for value, outcome in zip(eps_values, robust))
    call.record.extras["curves"] = [{
        "title": f"Robust accuracy under {params.get('attack', 'attack')}",
        "x_label": f"eps ({params.get('norm', 'Linf')})",
        "y_label": "robust accuracy",
        "series": [{"label": str(params.get("attack", "attack")), "x": eps_values,
                    "y": [p.value for p in points], "low": [p.low for p in points], "high": [p.high for p in points]}],
    }]
    return RobustnessCurve(tuple(eps_values), clean, points, n, params, checks)
