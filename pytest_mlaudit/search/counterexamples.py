"""Counterexamples found by search, and metamorphic invariants.

:func:`search_counterexamples` asks, for each audited sample, whether some input in a
perturbation space (:mod:`.spaces`) changes the model's prediction. hypothesis does
the search (``hypothesis.find``) and shrinks what it finds towards the simplest change.
Then a deterministic pass makes the change minimal for a reader: each changed feature
is set back to its original value if the prediction still flips without it, and each
remaining numeric change is bisected back towards the original value (on spaces wider than 16 features, where
hypothesis' shrinker costs minutes, this pass shrinks alone), so that the
shown change is a local minimum (no feature can be dropped; none can move back by more
than ``1/1024`` of its change, or one unit for integers, and still flip the prediction,
along the line to its original value). The result is rows a person can read: feature,
before, after, prediction before and after.

Works on any classifier (a torch module, or anything with ``predict``) and on numpy
arrays or pandas DataFrames; hypothesis is imported inside the functions. The search is
seeded from ``--mlaudit-seed`` (``find(random=...)``), bounded by ``max_examples`` per
sample and by ``time_limit`` seconds in all. Its hypothesis database is set to the user's
cache (``$MLAUDIT_CACHE_DIR`` or ``~/.cache/pytest-mlaudit/hypothesis``), never the
project's ``.hypothesis``; hypothesis (6.155) writes no database entry for a search given
an explicit ``random``, so in practice a seeded search leaves nothing on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import extras, validation
from ..authoring import Audit, audit
from ..dependencies import require
from ..progress import Task
from ..records import Check, Estimate, SanityChecked
from ..stats import proportion
from .spaces import space_list
from .table import Table, predict_labels, table

BISECTION_STEPS = 10  # a shown change is minimal to 1/2**10 of its size along the way back
SHOWN = 10
SHRINK_FACTOR = 4  # a sample's model calls, drawing and shrinking, are at most this many times max_examples
# hypothesis' shrinker runs on spaces of at most this many features. On wider ones (images) it spends
# far more time in its own passes than in the model (340 s for 18 digit images of 64 pixels, one
# thread): there the deterministic pass below (drop, then bisect each change) shrinks alone.
HYPOTHESIS_SHRINK_COLUMNS = 16


@dataclass(frozen=True)
class FeatureChange:
    feature: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Counterexample:
    """Sample ``sample`` (its row in X) with ``changes`` applied is predicted ``prediction_after``."""

    sample: int
    changes: tuple[FeatureChange, ...]
    prediction_before: Any
    prediction_after: Any


@dataclass(frozen=True)
class CounterexampleResult(SanityChecked):
    """The rate of audited samples with a counterexample in the space, and the counterexamples, minimal."""

    counterexample_rate: Estimate
    searched: int
    counterexamples: tuple[Counterexample, ...]
    space: tuple[dict[str, Any], ...]
    checks: tuple[Check, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class InvariantResult(SanityChecked):
    """The share of samples on which a metamorphic relation holds, and the first that break it."""

    agreement: Estimate
    violations: tuple[int, ...]
    checks: tuple[Check, ...] = field(default_factory=tuple)


def search_counterexamples(model, X, y=None, *, space, samples: int = 50, max_examples: int = 100, domain=None,
                           feature_names=None, time_limit: float = 60.0, requirement=None) -> CounterexampleResult:
    """Search each of ``samples`` rows of X for an input in ``space`` that changes the model's prediction.

    With ``y``, the rows are drawn among those the model classifies correctly. ``domain``
    is ``(low, high)`` (scalars or per feature; the observed range of X when None).
    """
    with audit("search", "counterexample search", requirement=requirement) as a:
        return _measure_search(a, model, X, y, space, samples, max_examples, domain, feature_names, time_limit)


def assert_no_counterexample(model, X, y=None, *, space, at_most: float | None = None, at_least: float | None = None,
                             policy: str | None = None, samples: int = 50, max_examples: int = 100, domain=None,
                             feature_names=None, time_limit: float = 60.0, requirement=None) -> CounterexampleResult:
    """Search as :func:`search_counterexamples` does and gate ``counterexample_rate`` (``at_most=`` a rate)."""
    with audit("search", "counterexample search", requirement=requirement) as a:
        a.gate("counterexample_rate", at_least=at_least, at_most=at_most, policy=policy, bounds=(0.0, 1.0))
        return _measure_search(a, model, X, y, space, samples, max_examples, domain, feature_names, time_limit)


def invariant(model, X, *, transform: Callable, relation: str | Callable = "same", requirement=None) -> InvariantResult:
    """How often ``relation`` holds between the predictions on X and on ``transform(X)``.

    ``relation``: ``"same"`` (invariance, e.g. to an irrelevant feature), ``"not_lower"``
    / ``"not_higher"`` (monotonicity: "raising income never lowers approval"), or a
    function ``(before, after) -> bool array``.
    """
    with audit("search", "metamorphic invariant", requirement=requirement) as a:
        return _measure_invariant(a, model, X, transform, relation)


def assert_invariant(model, X, *, transform: Callable, relation: str | Callable = "same",
                     at_least: float | None = None, at_most: float | None = None, policy: str | None = None,
                     requirement=None) -> InvariantResult:
    """Measure as :func:`invariant` does and gate ``agreement`` (``at_least=`` a share of samples)."""
    with audit("search", "metamorphic invariant", requirement=requirement) as a:
        a.gate("agreement", at_least=at_least, at_most=at_most, policy=policy, bounds=(0.0, 1.0))
        return _measure_invariant(a, model, X, transform, relation)


def hypothesis_database_dir() -> Path:
    """Where the search keeps hypothesis' example database: the user's cache, never the project."""
    root = os.environ.get("MLAUDIT_CACHE_DIR") or Path.home() / ".cache" / "pytest-mlaudit"
    return Path(root) / "hypothesis"


def _measure_search(a: Audit, model, X, y, space, samples, max_examples, domain, feature_names,
                    time_limit) -> CounterexampleResult:
    require("hypothesis", "search")
    spaces = space_list(space)
    samples = validation.positive_int(samples, "samples")
    max_examples = validation.positive_int(max_examples, "max_examples")
    time_limit = validation.positive_number(time_limit, "time_limit", allow_zero=False)
    rows = table(X, feature_names=feature_names, domain=domain)
    kinds: dict[int, str] = {}
    for s in spaces:
        kinds.update(s.column_kinds(rows))
    predicted = predict_labels(model, rows.X)
    candidates = np.arange(rows.n)
    if y is not None:
        labels = validation.labels(y, rows.n)
        candidates = np.flatnonzero(predicted == labels)
        a.metric("clean_accuracy", proportion(len(candidates), rows.n, a.settings.confidence))
        if len(candidates) == 0:
            raise ValueError("the model classifies no sample of X correctly: there is nothing to search around")
    seed = a.seed("counterexample search")
    chosen = np.sort(np.random.default_rng(seed).choice(candidates, min(samples, len(candidates)), replace=False))
    described = a.describe_model(model)
    a.describe_data({"X": rows.X if y is None else (rows.X, y)} if not _is_frame(rows.X) else {})
    a.params.update({"space": [s.describe() for s in spaces], "samples": len(chosen), "max_examples": max_examples,
                     "time_limit_s": time_limit, "hypothesis shrinking": len(kinds) <= HYPOTHESIS_SHRINK_COLUMNS, "among": "correctly classified" if y is not None else "all rows",
                     "minimality": f"local: no feature can be dropped; bisected to 1/{2 ** BISECTION_STEPS} of each change"})

    found: list[Counterexample] = []
    searched = 0
    single_row_agrees = True
    start = time.perf_counter()
    key_material = json.dumps([seed, described.get("fingerprint", ""), a.params["space"]], sort_keys=True, default=str)
    with Task("counterexample search: sample", total=len(chosen)) as task:
        for i in chosen:
            if time.perf_counter() - start > time_limit:
                break
            before = predicted[i]
            single_row_agrees &= bool(_predict_one(model, rows, int(i), {}) == before)
            changes = _search_one(model, rows, int(i), before, spaces, max_examples, random.Random(f"{seed}/{i}"),
                                  hashlib.sha256(f"{key_material}/{i}".encode()).digest(), start + time_limit,
                                  shrink=len(kinds) <= HYPOTHESIS_SHRINK_COLUMNS)
            searched += 1
            if changes is not None:
                changes = _minimal(model, rows, int(i), before, changes, kinds)
                found.append(Counterexample(int(i), tuple(FeatureChange(rows.columns[j], _plain(rows.values(int(i))[j]),
                                                                        _plain(v)) for j, v in sorted(changes.items())),
                                            _plain(before), _plain(_predict_one(model, rows, int(i), changes))))
            task.advance()
    elapsed = time.perf_counter() - start
    rate = a.metric("counterexample_rate", proportion(len(found), searched, a.settings.confidence))
    checks = (
        a.check("search finished within time_limit", searched == len(chosen) and elapsed <= time_limit,
                f"searched {searched} of {len(chosen)} samples in {elapsed:.1f} s (time_limit {time_limit:g} s)"),
        a.check("one-row predictions agree with batch predictions", single_row_agrees,
                "the search calls the model one row at a time; a model whose prediction of a row depends on its "
                "batch (batch norm in training mode, randomness) makes counterexamples meaningless"),
    )
    if found:
        a.extra(extras.Table(f"Counterexamples (first {min(SHOWN, len(found))} of {len(found)}, minimal changes)",
                             columns=["sample", "feature", "before", "after", "prediction before", "prediction after"],
                             rows=readable_rows(found[:SHOWN])))
    return CounterexampleResult(rate, searched, tuple(found), tuple(a.params["space"]), checks)


def readable_rows(counterexamples) -> list[list[Any]]:
    """One table row per changed feature: sample, feature, before, after, prediction before and after."""
    rows = []
    for c in counterexamples:
        for change in c.changes:
            rows.append([c.sample, change.feature, _shown(change.before), _shown(change.after),
                         _shown(c.prediction_before), _shown(c.prediction_after)])
    return rows


def _search_one(model, rows: Table, i: int, before, spaces, max_examples: int, rng: random.Random, key: bytes,
                deadline: float, shrink: bool):
    """hypothesis' change of sample i that flips its prediction (shrunk when ``shrink``), or None when none was found.

    A sample gets at most ``SHRINK_FACTOR * max_examples`` model calls, and none past
    ``deadline``; past either, every candidate is answered "no flip", so hypothesis'
    shrinker makes no more progress and returns its best so far.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, find, settings
    from hypothesis import strategies as st
    from hypothesis.database import DirectoryBasedExampleDatabase
    from hypothesis.errors import NoSuchExample

    values = rows.values(i)
    strategy = st.tuples(*[s.strategy(rows, values) for s in spaces]).map(_merged)
    answers: dict[tuple, bool] = {}  # hypothesis replays its final example: a past answer must not change

    def flips(changes: dict[int, Any]) -> bool:
        key = tuple(sorted(changes.items()))
        if key in answers:
            return answers[key]
        if not changes or len(answers) >= SHRINK_FACTOR * max_examples or time.perf_counter() > deadline:
            return False
        answers[key] = bool(_predict_one(model, rows, i, changes) != before)
        return answers[key]

    phases = [Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if shrink else [])]
    chosen = settings(max_examples=max_examples, deadline=None, derandomize=False, verbosity=Verbosity.quiet,
                      database=DirectoryBasedExampleDatabase(hypothesis_database_dir()), phases=phases,
                      suppress_health_check=list(HealthCheck))
    try:
        return find(strategy, flips, settings=chosen, random=rng, database_key=key)
    except NoSuchExample:
        return None


def _merged(parts) -> dict[int, Any]:
    merged: dict[int, Any] = {}
    for part in parts:
        merged.update(part)
    return merged


def _minimal(model, rows: Table, i: int, before, changes: dict[int, Any], kinds: dict[int, str]) -> dict[int, Any]:
    """``changes`` made a local minimum: unneeded features dropped, numeric changes bisected back."""
    values = rows.values(i)
    changes = dict(changes)

    def flips(candidate: dict[int, Any]) -> bool:
        return bool(candidate) and _predict_one(model, rows, i, candidate) != before

    for j in sorted(changes):
        without = {k: v for k, v in changes.items() if k != j}
        if flips(without):
            changes = without
    for j in sorted(changes):
        if kinds.get(j, "categorical") == "categorical":
            continue
        origin, target = float(values[j]), float(changes[j])
        if kinds[j] == "integer":
            changes[j] = _bisected_integer(origin, target, lambda value, j=j: flips({**changes, j: value}))
        else:
            changes[j] = _bisected_real(origin, target, lambda value, j=j: flips({**changes, j: value}))
    return changes


def _bisected_real(origin: float, target: float, flips: Callable[[float], bool]) -> float:
    """The value nearest ``origin`` on the way to ``target`` (which flips) that still flips, to 1/2**STEPS."""
    low, high = 0.0, 1.0  # fractions of the way: no flip at low (the origin), flip at high
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        if flips(origin + middle * (target - origin)):
            high = middle
        else:
            low = middle
    return origin + high * (target - origin)


def _bisected_integer(origin: float, target: float, flips: Callable[[float], bool]) -> float:
    """The smallest whole-unit step from ``origin`` towards ``target`` (which flips) that still flips."""
    steps = int(round(target - origin))
    sign = 1 if steps > 0 else -1
    low, high = 0, abs(steps)  # no flip at low steps, flip at high steps
    while high - low > 1:
        middle = (low + high) // 2
        if flips(origin + sign * middle):
            high = middle
        else:
            low = middle
    if high == abs(steps) and not flips(origin + sign * high):
        return target  # the target was clipped to the domain between whole steps: keep it
    value = origin + sign * high
    return int(value) if float(value).is_integer() else value


def _predict_one(model, rows: Table, i: int, changes: dict[int, Any]):
    return predict_labels(model, rows.with_changes(i, changes), "a perturbed sample")[0]


def _is_frame(X) -> bool:
    return hasattr(X, "iloc")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _shown(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.6g}")
    return value if isinstance(value, (int, str, bool)) else str(value)


def _measure_invariant(a: Audit, model, X, transform, relation) -> InvariantResult:
    if not callable(transform):
        raise TypeError(f"transform must be a function X -> transformed X, got {type(transform).__name__}")
    compare = _relation(relation)
    rows = table(X)
    try:
        transformed = transform(rows.X)
    except Exception as exc:
        raise ValueError(f"transform(X) failed: {type(exc).__name__}: {exc}") from exc
    if transformed is None or len(transformed) != rows.n:
        raise ValueError(f"transform(X) must return as many samples as X ({rows.n}), got "
                         f"{'None' if transformed is None else len(transformed)}")
    before = predict_labels(model, rows.X)
    after = predict_labels(model, transformed, "transform(X)")
    holds = np.asarray(compare(before, after), dtype=bool)
    if holds.shape != (rows.n,):
        raise ValueError(f"relation(before, after) must return one True/False per sample ({rows.n}), got shape "
                         f"{holds.shape}")
    a.describe_model(model)
    a.params.update({"transform": getattr(transform, "__name__", type(transform).__name__),
                     "relation": relation if isinstance(relation, str) else getattr(relation, "__name__", "custom")})
    agreement = a.metric("agreement", proportion(int(holds.sum()), rows.n, a.settings.confidence))
    violations = tuple(int(i) for i in np.flatnonzero(~holds))
    check = a.check("transform changed the inputs", not _same_inputs(rows.X, transformed),
                    "a transform that returns X unchanged makes every relation hold trivially")
    if violations:
        a.extra(extras.Table(f"Samples breaking the relation (first {min(SHOWN, len(violations))} of {len(violations)})",
                             columns=["sample", "prediction before", "prediction after"],
                             rows=[[i, _shown(_plain(before[i])), _shown(_plain(after[i]))] for i in violations[:SHOWN]]))
    return InvariantResult(agreement, violations, (check,))


RELATIONS: dict[str, Callable] = {
    "same": lambda before, after: before == after,
    "not_lower": lambda before, after: after >= before,
    "not_higher": lambda before, after: after <= before,
}


def _relation(relation) -> Callable:
    if callable(relation):
        return relation
    if relation in RELATIONS:
        return RELATIONS[relation]
    raise ValueError(f"relation must be one of {', '.join(RELATIONS)} or a function (before, after) -> bool array, "
                     f"got {relation!r}")


def _same_inputs(X, transformed) -> bool:
    if _is_frame(X):
        return bool(X.equals(transformed)) if _is_frame(transformed) else False
    try:
        return bool(np.array_equal(np.asarray(X), np.asarray(transformed)))
    except (TypeError, ValueError):
        return False
