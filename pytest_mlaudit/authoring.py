"""The public way to write an audit: ``with mla.audit(...) as a:`` and run settings.

Every audit, built-in or a user's, is a block::

    with mla.audit("calibration", "expected calibration error", model=model, data=(X, y)) as a:
        a.gate("ece", at_most=0.05)             # validated now, evaluated when the block ends
        a.metric("ece", mla.bootstrap(...))
        a.check("enough samples per bin", passed, detail)

On leaving the block the record is completed (outcome, duration), handed to the
running test if there is one (inside pytest) and to the ``pytest_mlaudit_record``
hook; then a missed gate raises ``AssertionError`` naming the value, its interval,
the threshold and the policy. An exception inside the block is recorded as an
``error`` audit before it propagates, so a crashing audit still shows in the report.
Outside pytest the block measures and returns; :func:`settings` sets the seed,
confidence and policy there.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .records import AuditRecord, Check, Estimate, Gate, UnrecordableValue
from .regression import MAX_STORED_SAMPLES, pack_outcomes, regression_failures, stored_value
from .session import (Settings, current_settings, current_test, derive_seed, override_settings, parse_shard,
                      plugin_hook)
from .stats import POLICIES, gate_passes


@dataclasses.dataclass(frozen=True)
class Threshold:
    """A validated ``at_least=`` / ``at_most=`` argument: ``op`` is ``">="`` or ``"<="``."""

    op: str
    value: float

    @property
    def keyword(self) -> str:
        return "at_least" if self.op == ">=" else "at_most"


def threshold(at_least: float | None, at_most: float | None, bounds: tuple[float, float] | None = None) -> Threshold:
    """Check an assertion's threshold arguments: exactly one, a finite number, inside ``bounds`` if given."""
    if (at_least is None) == (at_most is None):
        raise TypeError("give exactly one threshold: at_least=... or at_most=...")
    name, value = ("at_least", at_least) if at_least is not None else ("at_most", at_most)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if math.isnan(value):
        raise ValueError(f"{name} is NaN: give the threshold as a number in the metric's range")
    if not math.isfinite(value):
        raise ValueError(f"{name}={value!r} is not finite: give the threshold as a number in the metric's range")
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"{name}={value!r} is outside the metric's range [{bounds[0]}, {bounds[1]}]")
    return Threshold(">=" if at_least is not None else "<=", float(value))


def policy_or_default(policy: str | None) -> str:
    """``policy`` checked, or the run's default (``--mlaudit-policy``) when None."""
    if policy is None:
        return current_settings().policy
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    return policy


def requirement_list(requirement: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """A ``requirement=`` argument (one tag or a list of tags) as a list."""
    if requirement is None:
        return []
    if isinstance(requirement, str):
        return [requirement]
    if isinstance(requirement, (list, tuple)) and all(isinstance(r, str) for r in requirement):
        return list(requirement)
    raise TypeError(f"requirement must be a string or a list of strings, got {requirement!r}")


def describe_miss(audit_name: str, gate: Gate, estimate: Estimate) -> str:
    """The message of a missed gate: value, interval, threshold and policy."""
    keyword = "at_least" if gate.op == ">=" else "at_most"
    return (
        f"{audit_name}: {gate.metric} = {estimate.value:.4f} "
        f"({estimate.confidence:.0%} CI [{estimate.low:.4f}, {estimate.high:.4f}], n={estimate.n}, {estimate.method}) "
        f"misses {keyword}={gate.threshold:g} under policy '{gate.policy}'"
    )


@dataclasses.dataclass(frozen=True)
class _PendingGate:
    metric: str
    threshold: Threshold
    policy: str
    requirements: tuple[str, ...]


class Audit:
    """The audit under way inside ``with mla.audit(...) as a``: what it measured, checked and requires."""

    def __init__(self, record: AuditRecord, shard: tuple[int, int] | None = None):
        self._record = record
        self._gates: list[_PendingGate] = []
        self._failures: list[str] = []
        self._declared_shard = shard
        if shard is not None:
            record.params["shard"] = {"index": shard[0], "count": shard[1], "rows": "given"}

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def settings(self) -> Settings:
        """The run settings in force: ``--mlaudit-seed``, confidence, policy, device, data dir."""
        return current_settings()

    @property
    def params(self) -> dict[str, Any]:
        """The threat model and settings shown in the report; add to it like a dict."""
        return self._record.params

    @property
    def data(self) -> dict[str, Any]:
        """The data description shown in the report (what :meth:`describe_data` fills); edit it like a dict."""
        return self._record.data

    @property
    def metrics(self) -> dict[str, Estimate]:
        """The metrics recorded so far (a copy)."""
        return dict(self._record.metrics)

    def seed(self, name: str) -> int:
        """A seed for the random procedure ``name`` of this audit, derived from ``--mlaudit-seed`` and the test."""
        test = current_test()
        if test is not None:
            return test.seed_for(f"{self._record.name}/{name}")
        return derive_seed(self.settings.seed, self._record.name, name)

    def shard_rows(self, *arrays: Any) -> tuple[Any, ...]:
        """This audit's shard of the rows of ``arrays`` (numpy arrays of one length), recorded in ``params["shard"]``.

        Under ``--mlaudit-shard i/k`` (or ``mla.settings(shard=(i, k))``) the rows are cut
        into k contiguous blocks and block i is returned; the record keeps i, k, the block's
        rows and a fingerprint of all the rows, so that ``python -m pytest_mlaudit report``
        can check that merged shards are complete and disjoint and pool their counts. An
        audit that declared ``shard=`` was given its shard already: the arrays are returned
        as they are. Without a shard, all rows.
        """
        if not arrays:
            return arrays
        from .validation import fingerprint

        block = self.shard_block(len(arrays[0]), lambda: fingerprint(*arrays)["sha256"])
        if block is None:
            return arrays
        return tuple(array[block[0]:block[1]] for array in arrays)

    def shard_block(self, n_rows: int, of_data: Callable[[], str]) -> tuple[int, int] | None:
        """The rows ``(start, stop)`` of this audit's shard of ``n_rows`` rows, recorded as :meth:`shard_rows` does.

        For data :meth:`shard_rows` cannot hash as arrays (a DataFrame, labels as text):
        ``of_data()`` gives the fingerprint of all the rows, called only under a shard.
        None when the audit runs on all the rows (no shard, or ``shard=`` declared).
        """
        if self._declared_shard is not None or self.settings.shard is None:
            return None
        index, count = self.settings.shard
        start, stop = (index - 1) * n_rows // count, index * n_rows // count
        if stop == start:
            raise ValueError(f"shard {index}/{count} of {n_rows} rows is empty: use fewer shards than rows")
        self._record.params["shard"] = {"index": index, "count": count, "rows": [start, stop], "of_rows": n_rows,
                                        "of_data": of_data()}
        return start, stop

    def describe_model(self, model: Any) -> dict[str, Any]:
        """Record what the model is (kind, class, parameters, size, fingerprint) for the report's model card.

        A dict is taken as a description already made (JSON-native values), e.g. the
        ``describe()`` of a model adapter, which also says how the audit sees the model
        (normalization inside it, gradients or black-box). Returns the description
        (a copy), e.g. to name a second model by its ``"fingerprint"`` in ``params``.
        """
        from .adapters import describe_model

        self._record.model = dict(model) if isinstance(model, dict) else describe_model(model)
        return dict(self._record.model)

    def describe_data(self, data: Any, name: str | None = None) -> None:
        """Record a fingerprint of the data (shape, dtype, hash): an array, ``(X, y)``, or ``{name: X or (X, y)}``."""
        from .validation import fingerprint

        if isinstance(data, dict):
            for key, value in data.items():
                self.describe_data(value, str(key))
            return
        arrays = data if isinstance(data, tuple) else (data,)
        described = fingerprint(*arrays)
        if name is None:
            self._record.data.update(described)
        else:
            self._record.data[name] = described

    def metric(self, name: str, estimate: Estimate) -> Estimate:
        """Record a measured metric (a value with its interval); returns it."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"metric name must be a non-empty string, got {name!r}")
        if not isinstance(estimate, Estimate):
            raise TypeError(f"metric {name!r} must be an mla.Estimate (see mla.proportion, mla.bootstrap), "
                            f"got {type(estimate).__name__}")
        self._record.metrics[name] = estimate
        return estimate

    def outcomes(self, metric: str, hits, *, minus=None) -> None:
        """Store the per-sample outcomes (one boolean per sample) behind the proportion ``metric``.

        They let a later run compare with this one sample by sample (a paired interval
        on the change, narrower than an independent one; see ``--mlaudit-baseline``).
        ``minus`` is given when the metric is a difference of two proportions over
        different samples, mean(hits) − mean(minus) (e.g. members guessed − non-members
        guessed). Bits are packed as base64 in the record's ``samples``, up to
        ``MAX_STORED_SAMPLES`` samples (100,000: about 17 KB); above that only the
        counts are kept and the entry says so. When the block ends, the outcomes must
        agree with the metric recorded under the same name (its value and n).
        """
        if not isinstance(metric, str) or not metric:
            raise TypeError(f"outcomes: metric name must be a non-empty string, got {metric!r}")
        self._record.samples[metric] = pack_outcomes(hits, minus, bound=MAX_STORED_SAMPLES)

    def check(self, name: str, passed: bool, detail: str = "") -> Check:
        """Record a sanity check of the evaluation itself; a failed one marks the audit SUSPECT."""
        check = Check(name=name, passed=bool(passed), detail=detail)
        self._record.checks.append(check)
        return check

    def gate(self, metric: str, *, at_least: float | None = None, at_most: float | None = None,
             policy: str | None = None, requirement: str | list[str] | None = None,
             bounds: tuple[float, float] | None = None) -> None:
        """Require ``metric`` to be at least / at most a threshold, under a gate policy.

        The arguments are checked now (a bad threshold fails before anything is
        measured); the gate is evaluated when the block ends, so it may be declared
        before its metric is recorded. ``bounds`` is the metric's range, for checking
        the threshold; ``policy=None`` takes the run's default.
        """
        self._gates.append(_PendingGate(metric, threshold(at_least, at_most, bounds), policy_or_default(policy),
                                        tuple(requirement_list(requirement))))

    def fail(self, message: str) -> None:
        """Make the audit fail when the block ends, with ``message``, for a requirement that is not a gate.

        E.g. a sanity check made mandatory (``strict=True``): record it with
        :meth:`check`, and call this when it failed. The block runs to its end (the
        record keeps everything measured); then the audit fails as on a missed gate.
        """
        if not isinstance(message, str) or not message:
            raise TypeError(f"fail() takes a non-empty message, got {message!r}")
        self._failures.append(message)

    def extra(self, item: Any) -> None:
        """Add a structured result for the report's charts and tables (a builder of :mod:`pytest_mlaudit.extras`)."""
        item.add_to(self._record.extras)

    def _check_outcomes(self) -> None:
        """Stored per-sample outcomes must stand for their metric: same value, same n."""
        for metric, entry in self._record.samples.items():
            estimate = self._record.metrics.get(metric)
            if estimate is None:
                raise KeyError(f"per-sample outcomes of {metric!r}, but the audit recorded no such metric")
            value, n = stored_value(entry)
            if n != estimate.n or not math.isclose(value, estimate.value, abs_tol=1e-9):
                raise ValueError(f"the per-sample outcomes of {metric!r} give {value:.6g} over {n} samples, "
                                 f"but the metric is {estimate.value:.6g} with n={estimate.n}")

    def _regressions(self) -> list[str]:
        """Messages of the gated metrics that regressed against ``--mlaudit-baseline`` (when it fails tests)."""
        settings = self.settings
        test = current_test()
        if settings.baseline is None or not settings.fail_on_regression or test is None:
            return []
        record = dataclasses.replace(self._record, nodeid=test.nodeid)
        try:
            return regression_failures(settings.baseline, record, test.records,
                                       tolerance=settings.regression_tolerance, policy=settings.regression_policy,
                                       seed=settings.seed, confidence=settings.confidence)
        except UnrecordableValue:
            return []  # the record becomes an error audit naming the field when it is delivered

    def _flag_degenerate_intervals(self) -> None:
        """A failed check for metrics whose interval has zero width (e.g. the AUC of a constant-score model).

        No finite sample makes a measured quantity certain: an interval ``[v, v]`` means
        the statistic could not vary (constant scores, identical runs, a resampling with
        one outcome), and the audit is marked suspect rather than shown as exact.
        """
        degenerate = [name for name, estimate in self._record.metrics.items()
                      if estimate.low == estimate.high and estimate.n > 0]
        if degenerate:
            shown = ", ".join(f"{name} = {self._record.metrics[name].value:.4g} "
                              f"({self._record.metrics[name].method}, n={self._record.metrics[name].n})"
                              for name in degenerate)
            self.check("intervals have non-zero width", False,
                       f"zero-width interval: {shown}; the statistic could not vary on this data (constant scores "
                       f"or predictions, identical runs), so the interval does not measure its uncertainty")

    def _evaluate_gates(self) -> list[str]:
        misses = []
        for pending in self._gates:
            estimate = self._record.metrics.get(pending.metric)
            if estimate is None:
                raise KeyError(f"a gate on {pending.metric!r}, but the audit recorded no such metric; "
                               f"recorded: {', '.join(self._record.metrics) or 'none'}")
            gate = Gate(metric=pending.metric, op=pending.threshold.op, threshold=pending.threshold.value,
                        value=estimate.value, low=estimate.low, high=estimate.high, policy=pending.policy,
                        passed=gate_passes(estimate, pending.threshold.op, pending.threshold.value, pending.policy),
                        requirements=pending.requirements)
            self._record.gates.append(gate)
            for requirement in gate.requirements:
                if requirement not in self._record.requirements:
                    self._record.requirements.append(requirement)
            if not gate.passed:
                misses.append(describe_miss(self._record.name, gate, estimate))
        return self._failures + misses


def _deliver(record: AuditRecord) -> None:
    test = current_test()
    if test is not None:
        test.add(record)
    hook = plugin_hook()
    if hook is not None:
        hook.pytest_mlaudit_record(record=record)


def _raised_by_audit(exc: BaseException) -> None:
    """Mark an exception as an audit's own, so the plugin can tell it from a failure outside the audits."""
    test = current_test()
    if test is not None:
        test.raised(exc)


@contextmanager
def audit(category: str, name: str, *, model: Any = None, data: Any = None, params: dict[str, Any] | None = None,
          requirement: str | list[str] | None = None, shard: tuple[int, int] | str | None = None) -> Iterator[Audit]:
    """Run one audit: build its record, deliver it to the report, then enforce its gates.

    ``category`` groups audits in the report and in the requirement mapping
    (robustness, imbalance, fairness, privacy, or a family of your own); ``name``
    says what is measured. ``model`` and ``data`` are described in the record;
    ``requirement`` tags every gate of the audit for the compliance mapping.
    ``shard=(i, k)`` (or ``"i/k"``, i from 1 to k) declares that ``data`` is the i-th of
    k disjoint shards, measured in k jobs whose JSON reports
    ``python -m pytest_mlaudit report`` merges by pooling the metrics' counts.
    """
    __tracebackhide__ = True
    for argument, value in (("category", category), ("name", name)):
        if not isinstance(value, str) or not value:
            raise TypeError(f"mla.audit: {argument} must be a non-empty string, got {value!r}")
    try:
        declared_shard = None if shard is None else parse_shard(shard)
    except ValueError as exc:
        raise ValueError(f"mla.audit: {exc}") from None
    record = AuditRecord(nodeid="", category=category, name=name, params=dict(params or {}))
    record.requirements.extend(requirement_list(requirement))
    handle = Audit(record, declared_shard)
    start = time.perf_counter()
    try:
        if model is not None:
            handle.describe_model(model)
        if data is not None:
            handle.describe_data(data)
        yield handle
        handle._check_outcomes()
        handle._flag_degenerate_intervals()
        misses = handle._evaluate_gates() + handle._regressions()
    except Exception as exc:
        record.outcome = "error"
        record.error = f"{type(exc).__name__}: {exc}"
        record.duration_s = time.perf_counter() - start
        _deliver(record)
        _raised_by_audit(exc)
        raise
    record.outcome = "failed" if misses else "passed"
    record.duration_s = time.perf_counter() - start
    record = record.made_jsonable()
    _deliver(record)
    if record.outcome == "error":  # a value with no JSON form: the record names the field
        failure = UnrecordableValue(record.error)
        _raised_by_audit(failure)
        raise failure
    if misses:
        failure = AssertionError("\n".join(misses))
        _raised_by_audit(failure)
        raise failure


@contextmanager
def settings(**overrides: Any) -> Iterator[Settings]:
    """Run settings for the audits in the block: ``with mla.settings(seed=1, confidence=0.99):``.

    Takes the fields of :class:`~pytest_mlaudit.session.Settings` (seed, confidence,
    policy, device, data_dir); what is not given keeps its current value (inside
    pytest, the run's options).
    """
    allowed = ("seed", "confidence", "policy", "device", "data_dir", "shard")
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise TypeError(f"mla.settings: unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    try:
        chosen = dataclasses.replace(current_settings(), **overrides)
    except ValueError as exc:
        raise ValueError(f"mla.settings: {exc}") from None
    with override_settings(chosen):
        yield chosen
