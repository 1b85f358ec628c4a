"""How an audit function turns its measurement into a record and its gates into a verdict.

Every public audit function runs inside :func:`audit_call`: it adds metrics, checks
and gates to the :class:`AuditCall`; on leaving, the record is completed (outcome,
duration), handed to the current test if there is one, and a missed gate raises
``AssertionError`` naming the measured value, its interval and the threshold. An
exception inside the block is recorded as an ``error`` audit before it propagates,
so a crashing audit still shows in the report.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .records import AuditRecord, Check, Estimate, Gate
from .session import current_settings, current_test, plugin_hook
from .stats import POLICIES, gate_passes


def threshold_spec(at_least: float | None, at_most: float | None, bounds: tuple[float, float] = (0.0, 1.0)) -> tuple[str, float]:
    """Validate an assertion's threshold arguments; returns ``(op, threshold)``."""
    if (at_least is None) == (at_most is None):
        raise TypeError("give exactly one threshold: at_least=... or at_most=...")
    name, threshold = ("at_least", at_least) if at_least is not None else ("at_most", at_most)
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"{name} must be a number, got {threshold!r}")
    if math.isnan(threshold):
        raise ValueError(f"{name} is NaN: give the threshold as a number in the metric's range")
    low, high = bounds
    if not low <= threshold <= high:
        raise ValueError(f"{name}={threshold!r} is outside the metric's range [{low}, {high}]")
    return (">=" if at_least is not None else "<="), float(threshold)


def resolve_policy(policy: str | None) -> str:
    if policy is None:
        return current_settings().policy
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    return policy


def _requirements(requirement: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if requirement is None:
        return []
    if isinstance(requirement, str):
        return [requirement]
    if isinstance(requirement, (list, tuple)) and all(isinstance(r, str) for r in requirement):
        return list(requirement)
    raise TypeError(f"requirement must be a string or a list of strings, got {requirement!r}")


def describe_gate_miss(audit_name: str, gate: Gate, estimate: Estimate) -> str:
    side = "at_least" if gate.op == ">=" else "at_most"
    return (
        f"{audit_name}: {gate.metric} = {estimate.value:.4f} "
        f"({estimate.confidence:.0%} CI [{estimate.low:.4f}, {estimate.high:.4f}], n={estimate.n}, {estimate.method}) "
        f"misses {side}={gate.threshold:g} under policy '{gate.policy}'"
    )


class AuditCall:
    """The record under construction inside :func:`audit_call`."""

    def __init__(self, record: AuditRecord):
        self.record = record
        self.misses: list[str] = []

    @property
    def settings(self):
        return current_settings()

    def seed(self, name: str) -> int:
        """Seed for a random procedure of this audit, derived from ``--mlaudit-seed``."""
        test = current_test()
        if test is not None:
            return test.seed_for(f"{self.record.name}/{name}")
        from .session import derive_seed

        return derive_seed(self.settings.seed, self.record.name, name)

    def metric(self, name: str, estimate: Estimate) -> Estimate:
        self.record.metrics[name] = estimate
        return estimate

    def check(self, name: str, passed: bool, detail: str = "") -> Check:
        check = Check(name=name, passed=bool(passed), detail=detail)
        self.record.checks.append(check)
        return check

    def gate(self, metric: str, op: str, threshold: float, policy: str, requirement=None) -> Gate:
        estimate = self.record.metrics[metric]
        gate = Gate(
            metric=metric,
            op=op,
            threshold=threshold,
            value=estimate.value,
            low=estimate.low,
            high=estimate.high,
            policy=policy,
            passed=gate_passes(estimate, op, threshold, policy),
            requirements=tuple(_requirements(requirement)),
        )
        self.record.gates.append(gate)
        for req in gate.requirements:
            if req not in self.record.requirements:
                self.record.requirements.append(req)
        if not gate.passed:
            self.misses.append(describe_gate_miss(self.record.name, gate, estimate))
        return gate


from .authoring import _deliver, _raised_by_audit  # noqa: E402  transitional: the families move to authoring.audit


@contextmanager
def audit_call(category: str, name: str, *, params: dict[str, Any] | None = None, requirement=None) -> Iterator[AuditCall]:
    """Run one audit: build its record, deliver it, then enforce its gates."""
    __tracebackhide__ = True
    record = AuditRecord(nodeid="", category=category, name=name, params=dict(params or {}))
    record.requirements.extend(_requirements(requirement))
    call = AuditCall(record)
    start = time.perf_counter()
    try:
        yield call
    except Exception as exc:
        record.outcome = "error"
        record.error = f"{type(exc).__name__}: {exc}"
        record.duration_s = time.perf_counter() - start
        _deliver(record)
        _raised_by_audit(exc)
        raise
    record.outcome = "failed" if call.misses else "passed"
    record.duration_s = time.perf_counter() - start
    _deliver(record)
    if call.misses:
        failure = AssertionError("\n".join(call.misses))
        _raised_by_audit(failure)
        raise failure
