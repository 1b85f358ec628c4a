"""Regression gates: each audit compared with the same audit of an accepted earlier run.

A fixed threshold catches a model that is bad; a baseline catches a model that got
worse. Each audit of the run is matched to the baseline's audit of the same test
id, audit name and parameters (parameters that are seeds, derived from
``--mlaudit-seed``, are left out of the match). For every metric measured in both,
the change gets an interval:

- **paired** (Newcombe's interval for paired proportions, :func:`stats.paired_difference`)
  when both runs measured the same data (equal data fingerprints), with the same
  run seed, and stored the per-sample outcomes of the metric (:func:`pack_outcomes`);
  a difference of two proportions (the membership advantage TPR − FPR) combines the
  paired intervals of its two parts by Newcombe's square-and-add rule;
- **independent** otherwise: Newcombe's interval for two independent proportions
  (:func:`stats.independent_difference`) for proportions, else a normal
  approximation from the two intervals, combined side by side by square-and-add
  (MOVER, Zou & Donner 2008: exact for symmetric normal intervals, and it keeps a
  bootstrap interval's asymmetry). On the same test set the two runs' errors are
  positively correlated, so an independent interval is wider than the paired one:
  conservative, never flaky.

The change Δ of a gated metric is oriented so that negative is worse (``after − before``
for an ``at_least`` gate, ``before − after`` for ``at_most``). With tolerance T, the
regression policy mirrors the gate policies: ``upper`` (default) fails only on a
significant regression, Δhigh < −T; ``estimate`` fails when Δ < −T; ``lower`` fails
when Δlow < −T (conservative). Metrics without a gate are compared and listed, never
failed. This module is a lower layer: it reads records and documents, imports only
records and stats (numpy inside the functions).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from .records import SCHEMA, AuditRecord, Estimate, json_tree
from .stats import PROPORTION_METHODS, POLICIES, independent_difference, paired_difference

REGRESSION_POLICIES = POLICIES
DEFAULT_REGRESSION_POLICY = "upper"
ENCODING = "packbits-base64"
# Per-sample outcomes are stored up to this many samples per metric: 12.5 KB of bits,
# about 17 KB of base64 in the JSON. Above it nothing is stored (the entry says so) and
# comparisons against the run use the independent method.
MAX_STORED_SAMPLES = 100_000



# ---------------------------------------------------------------------------
# Per-sample outcomes, packed
# ---------------------------------------------------------------------------


def pack_outcomes(hits, minus=None, *, bound: int = MAX_STORED_SAMPLES) -> dict[str, Any]:
    """The record entry for one metric's per-sample outcomes (0/1 per sample), bits packed as base64.

    ``minus`` is given when the metric is mean(hits) − mean(minus) over two different
    sets of samples (the membership advantage: members guessed − non-members guessed).
    Above ``bound`` samples in all, only the counts are kept and ``omitted`` says why.
    """
    parts = {"": _booleans(hits, "outcomes")}
    if minus is not None:
        parts["minus_"] = _booleans(minus, "minus")
    total = sum(part.size for part in parts.values())
    entry: dict[str, Any] = {"encoding": ENCODING, "bound": bound}
    for prefix, part in parts.items():
        entry[f"{prefix}n"] = int(part.size)
        entry[f"{prefix}k"] = int(part.sum())
    if total > bound:
        entry.update(encoding=None, bytes=0,
                     omitted=f"{total} samples exceed the bound of {bound}: per-sample outcomes not stored, "
                             "comparisons use the independent method")
        return entry
    import numpy as np

    for prefix, part in parts.items():
        entry[f"{prefix}bits"] = base64.b64encode(np.packbits(part).tobytes()).decode("ascii")
    entry["bytes"] = sum(len(entry[f"{prefix}bits"]) for prefix in parts)
    return entry


def _booleans(values, name: str):
    import numpy as np

    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array with one outcome per sample, got shape {array.shape}")
    if array.dtype != bool:
        if not np.isin(array, (0, 1)).all():
            raise ValueError(f"{name} must hold booleans or 0/1 values")
        array = array.astype(bool)
    return array


def unpack_outcomes(entry: dict[str, Any], prefix: str = ""):
    """The boolean array stored by :func:`pack_outcomes` (``prefix="minus_"`` for the subtracted part), or None."""
    import numpy as np

    bits = entry.get(f"{prefix}bits")
    n = entry.get(f"{prefix}n")
    if entry.get("encoding") != ENCODING or not isinstance(bits, str) or not isinstance(n, int):
        return None
    try:
        raw = np.frombuffer(base64.b64decode(bits, validate=True), dtype=np.uint8)
    except ValueError:
        return None
    if raw.size != (n + 7) // 8:
        return None
    return np.unpackbits(raw, count=n).astype(bool)


def stored_value(entry: dict[str, Any]) -> tuple[float, int]:
    """The metric value and n the outcomes stand for: k/n (minus k'/n') and n (+ n')."""
    value = entry["k"] / entry["n"]
    if "minus_n" in entry:
        return value - entry["minus_k"] / entry["minus_n"], entry["n"] + entry["minus_n"]
    return value, entry["n"]


# ---------------------------------------------------------------------------
# The baseline and the matching of audits
# ---------------------------------------------------------------------------


def _is_seed(key: str) -> bool:
    return key.lower().endswith("seed")


def match_key(nodeid: str, name: str, params: dict[str, Any]) -> str:
    """What identifies an audit across runs: test id, audit name, parameters but seeds."""
    kept = {key: value for key, value in json_tree(params, "params").items() if not _is_seed(str(key))}
    return json.dumps([nodeid, name, kept], sort_keys=True, default=str)


def keyed(records: Iterable[AuditRecord]) -> dict[tuple[str, int], AuditRecord]:
    """Records by (match key, occurrence): a test repeating an identical audit gets them in order."""
    found: dict[tuple[str, int], AuditRecord] = {}
    seen: dict[str, int] = {}
    for record in records:
        key = match_key(record.nodeid, record.name, record.params)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        found[(key, occurrence)] = record
    return found


@dataclass(frozen=True)
class Baseline:
    """An accepted earlier run: where it came from, its settings, its audits by match key."""

    path: str
    created: str | None
    commit: str | None
    seed: int | None
    confidence: float | None
    audits: dict[tuple[str, int], AuditRecord] = field(repr=False)

    @classmethod
    def from_document(cls, document: dict[str, Any], path: str = "") -> Baseline:
        """From a JSON report document (validated by the reader: ``report.json.load``)."""
        if not isinstance(document, dict) or document.get("schema") != SCHEMA or not isinstance(document.get("audits"), list):
            found = document.get("schema") if isinstance(document, dict) else type(document).__name__
            raise ValueError(f"{path or 'the baseline'} is not a pytest-mlaudit report: expected schema {SCHEMA!r}, "
                             f"found {found!r}")
        environment = document.get("environment") or {}
        records = [AuditRecord.from_dict({"name": audit.get("category", "audit"), "category": "audit", **audit})
                   for audit in document["audits"]]
        return cls(path=str(path), created=environment.get("created"), commit=environment.get("git_commit"),
                   seed=environment.get("seed"), confidence=environment.get("confidence"), audits=keyed(records))

    @classmethod
    def from_records(cls, records: Sequence[AuditRecord], path: str = "", *, seed: int | None = None,
                     confidence: float | None = None) -> Baseline:
        return cls(path=path, created=None, commit=None, seed=seed, confidence=confidence, audits=keyed(records))

    def mismatches(self, seed: int, confidence: float) -> list[str]:
        """Warnings for a baseline of another seed or confidence: what the comparison does about them."""
        warnings = []
        if self.seed is not None and self.seed != seed:
            warnings.append(f"the baseline {self.path} was run with seed {self.seed}, this run with seed {seed}: "
                            "samples are split and attacked from the seed, so no per-sample pairing; "
                            "every change is compared as independent (wider intervals)")
        if self.confidence is not None and not math.isclose(self.confidence, confidence):
            warnings.append(f"the baseline {self.path} has {self.confidence:.0%} intervals, this run {confidence:.0%}: "
                            f"changes are computed at {confidence:.0%} from each run's counts or intervals")
        return warnings


# ---------------------------------------------------------------------------
# The change of one metric
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One metric of one audit, before and after, with the change and its verdict.

    ``change`` is oriented so that negative is worse when ``direction`` is known
    (``">="``: higher is better, ``"<="``: lower is better); for a metric without a
    gate (``direction`` empty) it is ``after − before``. ``method`` says how its
    interval was made; ``note`` why it is not paired, when per-sample outcomes were
    stored but could not be used.
    """

    nodeid: str
    audit: str
    metric: str
    before: Estimate
    after: Estimate
    change: Estimate
    method: str
    direction: str
    gated: bool
    verdict: str
    note: str = ""

    @property
    def paired(self) -> bool:
        return self.method.startswith("paired")

    @property
    def regressed(self) -> bool:
        return self.verdict == "regressed"

    def message(self, tolerance: float) -> str:
        """``robust_accuracy fell from 0.621 [0.59, 0.65] to 0.553 [0.52, 0.58]: −0.068 [−0.09, −0.05], ...``."""
        moved = "fell" if self.after.value < self.before.value else ("rose" if self.after.value > self.before.value
                                                                       else "went")
        change = self.change
        text = (f"{self.metric} {moved} from {_short(self.before)} to {_short(self.after)}: "
                f"{_signed(change.value, 3)} [{_signed(change.low, 2)}, {_signed(change.high, 2)}]")
        kind = "paired" if self.paired else "independent"
        if self.regressed:
            return f"{text}, beyond tolerance {tolerance:g} ({kind})"
        return f"{text}, {self.verdict} ({kind})"

    def to_dict(self, tolerance: float) -> dict[str, Any]:
        return {"nodeid": self.nodeid, "audit": self.audit, "metric": self.metric,
                "before": self.before.to_dict(), "after": self.after.to_dict(), "change": self.change.to_dict(),
                "method": self.method, "direction": self.direction, "gated": self.gated, "verdict": self.verdict,
                "note": self.note, "message": self.message(tolerance)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        return cls(data["nodeid"], data["audit"], data["metric"], Estimate.from_dict(data["before"]),
                   Estimate.from_dict(data["after"]), Estimate.from_dict(data["change"]), data["method"],
                   data.get("direction", ""), bool(data.get("gated")), data["verdict"], data.get("note", ""))


def _short(estimate: Estimate) -> str:
    return f"{_signed(estimate.value, 3)} [{_signed(estimate.low, 2)}, {_signed(estimate.high, 2)}]"


def _signed(value: float, digits: int) -> str:
    """``value`` rounded, with a true minus sign and no negative zero."""
    text = f"{value:.{digits}f}"
    if text.lstrip("-").strip("0.") == "":
        text = text.lstrip("-")
    return text.replace("-", "\u2212")


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def _counts(estimate: Estimate) -> int | None:
    """The number of successes of a proportion estimate, or None when it is not one."""
    if estimate.method not in PROPORTION_METHODS or estimate.n <= 0:
        return None
    successes = estimate.value * estimate.n
    return round(successes) if abs(successes - round(successes)) < 1e-6 else None


def interval_difference(after: Estimate, before: Estimate, confidence: float) -> Estimate:
    """after − before of two independent estimates, from their intervals (normal approximation, MOVER).

    Each side's half-widths are rescaled to ``confidence`` by the ratio of normal
    quantiles and combined by square-and-add: ``low = Δ − sqrt((a − a_low)² + (b_high − b)²)``
    and ``high = Δ + sqrt((a_high − a)² + (b − b_low)²)``. For symmetric intervals this is
    the normal interval of a difference, ``Δ ± z sqrt(se_a² + se_b²)``.
    """
    z = _z(confidence)
    scale_after, scale_before = z / _z(after.confidence), z / _z(before.confidence)
    delta = after.value - before.value
    low = delta - math.hypot((after.value - after.low) * scale_after, (before.high - before.value) * scale_before)
    high = delta + math.hypot((after.high - after.value) * scale_after, (before.value - before.low) * scale_before)
    return Estimate(delta, low, high, after.n + before.n, "normal approximation from the two intervals (MOVER)",
                    confidence)


def paired_outcome_difference(after_hits, before_hits, confidence: float) -> Estimate:
    """mean(after) − mean(before) of 0/1 outcomes of the same samples: Newcombe's paired interval."""
    import numpy as np

    after_hits, before_hits = np.asarray(after_hits, bool), np.asarray(before_hits, bool)
    both = int(np.count_nonzero(after_hits & before_hits))
    only_after = int(np.count_nonzero(after_hits & ~before_hits))
    only_before = int(np.count_nonzero(~after_hits & before_hits))
    neither = after_hits.size - both - only_after - only_before
    return paired_difference(both, only_after, only_before, neither, confidence)


def _square_and_add(first: Estimate, second: Estimate, method: str) -> Estimate:
    """first − second of two independent differences, by square-and-add of their intervals."""
    delta = first.value - second.value
    low = delta - math.hypot(first.value - first.low, second.high - second.value)
    high = delta + math.hypot(first.high - first.value, second.value - second.low)
    return Estimate(delta, min(low, delta), max(high, delta), first.n + second.n, method, first.confidence)


def raw_change(before_record: AuditRecord, after_record: AuditRecord, metric: str, *, confidence: float,
               same_seed: bool) -> tuple[Estimate, str, str]:
    """after − before of ``metric`` with its interval, the method's name, and why it is not paired (or "")."""
    before, after = before_record.metrics[metric], after_record.metrics[metric]
    note = ""
    stored = [record.samples.get(metric) for record in (before_record, after_record)]
    if all(isinstance(entry, dict) for entry in stored):
        omitted = next((entry.get("omitted") for entry in stored if entry.get("omitted")), None)
        if omitted:
            note = omitted
        elif not same_seed:
            note = "runs of different seeds: not paired"
        elif not before_record.data or before_record.data != after_record.data:
            note = "the data fingerprints differ: not paired"
        else:
            change = _paired(stored[1], stored[0], confidence)
            if change is not None:
                return change, change.method, ""
            note = "per-sample outcomes of different sample counts: not paired"
    elif any(isinstance(entry, dict) for entry in stored):
        note = "per-sample outcomes stored in one run only: not paired"
    successes = (_counts(after), _counts(before))
    if None not in successes:
        change = independent_difference(successes[0], after.n, successes[1], before.n, confidence)
        return change, "independent (Newcombe, two proportions)", note
    change = interval_difference(after, before, confidence)
    return change, "independent (normal approximation from the two intervals, MOVER)", note


def _paired(after_entry: dict[str, Any], before_entry: dict[str, Any], confidence: float) -> Estimate | None:
    after_hits, before_hits = unpack_outcomes(after_entry), unpack_outcomes(before_entry)
    if after_hits is None or before_hits is None or after_hits.size != before_hits.size:
        return None
    change = paired_outcome_difference(after_hits, before_hits, confidence)
    if "minus_n" not in after_entry and "minus_n" not in before_entry:
        return Estimate(change.value, change.low, change.high, change.n, "paired (Newcombe)", confidence)
    after_minus, before_minus = unpack_outcomes(after_entry, "minus_"), unpack_outcomes(before_entry, "minus_")
    if after_minus is None or before_minus is None or after_minus.size != before_minus.size:
        return None
    minus_change = paired_outcome_difference(after_minus, before_minus, confidence)
    return _square_and_add(change, minus_change, "paired (Newcombe per part, square-and-add of the two parts)")


def oriented(change: Estimate, direction: str) -> Estimate:
    """The change with negative meaning worse: as it is for ``>=``, negated for ``<=``."""
    if direction != "<=":
        return change
    return Estimate(-change.value, -change.high, -change.low, change.n, change.method, change.confidence)


def regressed(change: Estimate, tolerance: float, policy: str) -> bool:
    """Whether an oriented change is a regression beyond ``tolerance`` under a regression policy.

    ``upper``: Δhigh < −T (significant); ``estimate``: Δ < −T; ``lower``: Δlow < −T.
    """
    if policy not in REGRESSION_POLICIES:
        raise ValueError(f"regression policy must be one of {', '.join(REGRESSION_POLICIES)}, got {policy!r}")
    end = {"upper": change.high, "estimate": change.value, "lower": change.low}[policy]
    return end < -tolerance


def _direction(metric: str, *records: AuditRecord) -> tuple[str, bool]:
    """The gate's op on ``metric`` in this run, else in the baseline; and whether this run gates it."""
    for position, record in enumerate(records):
        for gate in record.gates:
            if gate.metric == metric:
                return gate.op, position == 0
    return "", False


def compare_records(before: AuditRecord, after: AuditRecord, *, tolerance: float = 0.0,
                    policy: str = DEFAULT_REGRESSION_POLICY, confidence: float = 0.95,
                    same_seed: bool = True) -> list[Change]:
    """The change of every metric measured in both records (``after`` is this run's)."""
    changes = []
    for metric in after.metrics:
        if metric not in before.metrics:
            continue
        change, method, note = raw_change(before, after, metric, confidence=confidence, same_seed=same_seed)
        direction, gated = _direction(metric, after, before)
        change = oriented(change, direction)
        if not direction:
            verdict = "not gated"
        elif regressed(change, tolerance, policy):
            verdict = "regressed" if gated else "not gated"
        else:
            verdict = "improved" if change.low > 0 else "within tolerance"
        changes.append(Change(after.nodeid, after.name, metric, before.metrics[metric], after.metrics[metric],
                              change, method, direction, gated, verdict, note))
    return changes


# ---------------------------------------------------------------------------
# A whole run against its baseline
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """A run against its baseline: every change, the regressions, new and vanished audits, warnings."""

    baseline: Baseline
    tolerance: float
    policy: str
    changes: tuple[Change, ...]
    new: tuple[tuple[str, str], ...]  # (test id, audit name) of audits the baseline does not have
    vanished: tuple[tuple[str, str], ...]  # baseline audits of tests this run ran, not measured again
    not_run: int  # baseline audits of tests this run did not collect (another shard, -k)
    warnings: tuple[str, ...]

    @property
    def regressions(self) -> list[Change]:
        return [change for change in self.changes if change.regressed]

    @property
    def matched(self) -> int:
        return len({(change.nodeid, change.audit) for change in self.changes})

    def to_dict(self) -> dict[str, Any]:
        """The JSON report's ``baseline`` block."""
        baseline = self.baseline
        return {
            "path": baseline.path, "created": baseline.created, "commit": baseline.commit, "seed": baseline.seed,
            "confidence": baseline.confidence, "tolerance": self.tolerance, "policy": self.policy,
            "regressions": len(self.regressions),
            "changes": [change.to_dict(self.tolerance) for change in self.changes],
            "new": [{"nodeid": nodeid, "audit": name} for nodeid, name in self.new],
            "vanished": [{"nodeid": nodeid, "audit": name} for nodeid, name in self.vanished],
            "not_run": self.not_run,
            "warnings": list(self.warnings),
        }


def compare(baseline: Baseline, records: Sequence[AuditRecord], *, tolerance: float = 0.0,
            policy: str = DEFAULT_REGRESSION_POLICY, seed: int | None = None, confidence: float = 0.95,
            collected: Iterable[str] | None = None) -> Comparison:
    """This run's ``records`` against ``baseline``.

    ``collected`` are the test ids this run collected: a baseline audit of another
    test is counted as not run here (another shard, a ``-k`` selection) rather than
    listed as vanished. None takes every baseline audit as expected (``compare``
    between two whole reports).
    """
    if not (isinstance(tolerance, (int, float)) and not isinstance(tolerance, bool) and math.isfinite(tolerance)
            and tolerance >= 0):
        raise ValueError(f"tolerance must be a non-negative number, got {tolerance!r}")
    if policy not in REGRESSION_POLICIES:
        raise ValueError(f"regression policy must be one of {', '.join(REGRESSION_POLICIES)}, got {policy!r}")
    warnings = baseline.mismatches(seed, confidence) if seed is not None else []
    same_seed = seed is None or baseline.seed is None or baseline.seed == seed
    current = keyed(records)
    changes: list[Change] = []
    new = []
    for key, record in current.items():
        before = baseline.audits.get(key)
        if before is None:
            new.append((record.nodeid, record.name))
            continue
        changes += compare_records(before, record, tolerance=tolerance, policy=policy, confidence=confidence,
                                   same_seed=same_seed)
    collected = None if collected is None else set(collected)
    vanished, not_run = [], 0
    for key, record in baseline.audits.items():
        if key in current:
            continue
        if collected is None or record.nodeid in collected:
            vanished.append((record.nodeid, record.name))
        else:
            not_run += 1
    if records and baseline.audits and not any(key in baseline.audits for key in current):
        warnings.append(f"no audit of this run matches an audit of the baseline {baseline.path} (by test id, audit "
                        "name and parameters): is it the report of this suite?")
    return Comparison(baseline, float(tolerance), policy, tuple(changes), tuple(new), tuple(vanished), not_run,
                      tuple(warnings))


def regression_failures(baseline: Baseline, record: AuditRecord, earlier: Sequence[AuditRecord], *,
                        tolerance: float, policy: str, seed: int, confidence: float) -> list[str]:
    """The messages of ``record``'s gated metrics that regressed against the baseline (empty if none or unmatched).

    ``earlier`` are the records the same test made before it, for the occurrence of
    an audit repeated identically in one test.
    """
    key = match_key(record.nodeid, record.name, record.params)
    occurrence = sum(match_key(r.nodeid, r.name, r.params) == key for r in earlier)
    before = baseline.audits.get((key, occurrence))
    if before is None:
        return []
    same_seed = baseline.seed is None or baseline.seed == seed
    changes = compare_records(before, record, tolerance=tolerance, policy=policy, confidence=confidence,
                              same_seed=same_seed)
    return [f"{record.name}: {change.message(tolerance)} against the baseline {baseline.path}"
            for change in changes if change.regressed]


def compare_runs(before, after, *, tolerance: float = 0.0, policy: str = DEFAULT_REGRESSION_POLICY,
                 confidence: float | None = None) -> Comparison:
    """Compare two runs: each a JSON report document (a dict, as read with ``json.load``) or a list of AuditRecords.

    The public form of ``python -m pytest_mlaudit compare``: every matched metric's
    change with its interval (paired where the data and the per-sample outcomes
    allow), the regressions under ``policy`` and ``tolerance``, new and vanished audits.
    """
    baseline = (Baseline.from_document(before, "before") if isinstance(before, dict)
                else Baseline.from_records(list(before), "before"))
    if isinstance(after, dict):
        records = list(Baseline.from_document(after, "after").audits.values())
        seed = (after.get("environment") or {}).get("seed")
    else:
        records, seed = list(after), baseline.seed
    if confidence is None:
        confidence = (after.get("environment") or {}).get("confidence") if isinstance(after, dict) else None
        confidence = confidence or 0.95
    return compare(baseline, records, tolerance=tolerance, policy=policy, seed=seed, confidence=confidence)
