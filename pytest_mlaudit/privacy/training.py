"""Training DP models from a user's factory: the checks on the factory, the privacy
budget each model spent, and the fits themselves (optionally in parallel).

A factory is ``factory(epsilon, seed) -> unfitted estimator``. An estimator counts as
differentially private when it (or a pipeline step) has an ``epsilon`` parameter (or
attribute), the diffprivlib convention. Any DP library works (a DP-SGD model trained
with Opacus behind ``fit``/``predict``, for instance); diffprivlib is not needed.

The budget each model spent: a diffprivlib model's is read from the diffprivlib
``BudgetAccountant`` it spends into (every diffprivlib model is built under a fresh
accountant, so the audit neither spends from nor pollutes the user's default one), and
diffprivlib's ``PrivacyLeakWarning`` is an error. Any other model states its own
accounting after ``fit``, in attributes: ``epsilon_`` (the epsilon it spent), ``delta_``
(0 when absent) and ``accountant_`` (how it was accounted, e.g. "opacus RDP"); the
audit reports them as stated, with ``accounting_`` (a dict of the mechanism's numbers:
noise multiplier, clipping norm, sampling rate, steps) when the model has it, as
:class:`~pytest_mlaudit.DPSGDClassifier` does.

Clipping. A DP model bounds each row's influence by clipping it to a declared
``data_norm`` (or to per-feature ``bounds``) before adding noise calibrated to that
bound. The guarantee holds whatever the bound, but a bound that clips many rows
trains on distorted data: :func:`clipping_checks` makes the audit SUSPECT when more
than :data:`MAX_CLIPPED_SHARE` of the training rows are clipped.
"""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from threadpoolctl import threadpool_limits

from .. import validation
from ..dependencies import LIBRARIES, MissingExtraError, available, load
from ..progress import Task

DIFFPRIVLIB_ACCOUNTANT = "diffprivlib.BudgetAccountant"
MAX_CLIPPED_SHARE = 0.10


class PrivacyLeakError(ValueError):
    """A DP estimator read a bound (data_norm, bounds, ...) from the private data itself."""


@dataclass(frozen=True)
class TrainedModel:
    """What the audit keeps of one trained DP model (the model itself is not kept)."""

    epsilon: float
    seed: int
    correct: Any  # bool array over the test samples
    spent: tuple[tuple[float, float], ...]  # (epsilon, delta) spends on the model's accountant
    digest: str | None  # hash of the learned state, to tell models apart
    leaks: tuple[str, ...]  # PrivacyLeakWarning messages raised during fit
    accountant: str = DIFFPRIVLIB_ACCOUNTANT  # who accounted the spends
    accounting: dict | None = None  # the mechanism's numbers a model states as accounting_ (noise, clipping, ...)


def is_diffprivlib(model: Any) -> bool:
    """Whether the model (or a pipeline step) is a diffprivlib estimator."""
    return any(type(est).__module__.split(".")[0] == "diffprivlib" for est in estimators_of(model))


def _diffprivlib() -> Any:
    """diffprivlib when it is installed and imports, else None (the audit then needs no diffprivlib)."""
    if not available("diffprivlib"):
        return None
    try:
        import diffprivlib
    except ImportError:
        return None
    return diffprivlib


def compose(spends) -> tuple[float, float]:
    """Sequential composition of (epsilon, delta) spends: epsilons add, deltas compose as 1 - prod(1 - delta).

    The same arithmetic as diffprivlib's ``BudgetAccountant.total()`` without slack.
    """
    epsilon = 0.0
    delta = 0.0
    for e, _ in spends:
        epsilon += float(e)
    for _, d in sorted(spends, key=lambda spend: spend[1]):
        delta += float(d) - delta * float(d)
    return epsilon, delta


def stated_accounting(model: Any) -> tuple[tuple[tuple[float, float], ...], str]:
    """A non-diffprivlib model's own accounting after fit: ``epsilon_``, ``delta_``, ``accountant_``."""
    for est in [model, *estimators_of(model)]:
        epsilon = getattr(est, "epsilon_", None)
        if epsilon is None:
            continue
        delta = getattr(est, "delta_", None)
        accountant = getattr(est, "accountant_", None)
        try:
            spent = ((float(epsilon), float(0.0 if delta is None else delta)),)
        except (TypeError, ValueError):
            raise TypeError(f"{type(est).__name__}.epsilon_ and .delta_ must be numbers (the privacy spent), got "
                            f"{epsilon!r} and {delta!r}") from None
        name = f"{type(est).__name__}: {accountant}" if accountant else f"stated by {type(est).__name__} (epsilon_)"
        return spent, name
    return (), f"none stated by {type(model).__name__} (no epsilon_ attribute after fit)"


def check_epsilons(epsilons: Any, name: str = "epsilons") -> tuple[float, ...]:
    if isinstance(epsilons, (int, float)) and not isinstance(epsilons, bool):
        epsilons = [epsilons]
    if isinstance(epsilons, (str, bytes)):
        raise TypeError(f"{name} must be a list of positive numbers, got {epsilons!r}")
    try:
        values = list(epsilons)
    except TypeError:
        raise TypeError(f"{name} must be a list of positive numbers, got {epsilons!r}") from None
    if not values:
        raise ValueError(f"{name} is empty: give at least one epsilon")
    checked = []
    for i, value in enumerate(values):
        label = name if len(values) == 1 else f"{name}[{i}]"
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
            raise ValueError(f"{label} must be positive, got {value!r}: epsilon is the privacy loss allowed, and at "
                             f"epsilon=0 no model can learn from the data (diffprivlib refuses it)")
        value = validation.positive_number(value, label)
        checked.append(value)
    if len(set(checked)) != len(checked):
        raise ValueError(f"{name} has repeated values: {values!r}")
    return tuple(checked)


def check_seeds(seeds: Any) -> int:
    seeds = validation.positive_int(seeds, "seeds")
    if seeds < 2:
        raise ValueError("seeds must be at least 2: DP training is random, and one run says nothing about the next")
    return seeds


def estimators_of(model: Any) -> list[Any]:
    """The model and, for a pipeline, each of its steps (recursively)."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list):
        return [est for _, step in steps if step not in (None, "passthrough") for est in estimators_of(step)]
    return [model]


def declared_epsilon(model: Any) -> float | None:
    """Total epsilon of the estimator's ``epsilon`` parameters (pipeline steps summed), or None."""
    if not hasattr(model, "get_params"):
        epsilon = getattr(model, "epsilon", None)
        return float(epsilon) if isinstance(epsilon, (int, float)) and not isinstance(epsilon, bool) else None
    values = [value for key, value in model.get_params(deep=True).items() if key == "epsilon" or key.endswith("__epsilon")]
    if not values and isinstance(getattr(model, "epsilon", None), (int, float)):
        values = [model.epsilon]
    return float(sum(values)) if values else None


def build_model(factory: Callable, epsilon: float, seed: int) -> Any:
    """``factory(epsilon, seed)`` (under a fresh diffprivlib BudgetAccountant when diffprivlib is installed),
    checked to be an unfitted DP estimator."""
    diffprivlib = _diffprivlib()
    with diffprivlib.BudgetAccountant() if diffprivlib is not None else nullcontext():
        try:
            model = factory(epsilon, seed)
        except ModuleNotFoundError as exc:
            top = (exc.name or "").split(".")[0]
            if top in LIBRARIES:
                raise MissingExtraError(top, LIBRARIES[top][1], "factory(epsilon, seed)") from exc
            raise ValueError(f"factory(epsilon, seed) raised {type(exc).__name__} at epsilon={epsilon:g}: {exc}") from exc
        except Exception as exc:
            error = TypeError if isinstance(exc, TypeError) else ValueError
            raise error(f"factory(epsilon, seed) raised {type(exc).__name__} at epsilon={epsilon:g}: {exc}") from exc
    if not (callable(getattr(model, "fit", None)) and callable(getattr(model, "predict", None))):
        raise TypeError(f"factory(epsilon, seed) must return an unfitted estimator with fit and predict, "
                        f"got {type(model).__name__}")
    declared = declared_epsilon(model)
    if declared is None:
        raise TypeError(
            f"factory returned {type(model).__module__}.{type(model).__name__}, which has no epsilon parameter: it is "
            f"not a differentially private estimator. Build a DP model (e.g. diffprivlib.models.LogisticRegression("
            f"epsilon=epsilon, data_norm=..., random_state=seed)); pass a non-private model as baseline= instead"
        )
    if not math.isclose(declared, epsilon, rel_tol=1e-9):
        raise ValueError(f"factory ignores epsilon: asked for epsilon={epsilon:g}, the estimator it returned has "
                         f"epsilon={declared:g}; pass the factory's epsilon argument to the estimator")
    return model


def check_baseline(baseline: Any) -> None:
    if not (callable(getattr(baseline, "fit", None)) and callable(getattr(baseline, "predict", None))):
        raise TypeError(f"baseline must be an unfitted estimator with fit and predict, got {type(baseline).__name__}")
    declared = declared_epsilon(baseline)
    if declared is not None:
        raise ValueError(f"baseline must be the non-private model, but {type(baseline).__name__} is differentially "
                         f"private (epsilon={declared:g}); pass e.g. sklearn.linear_model.LogisticRegression")


def fit_model(model: Any, X_train, y_train, X_test, y_test, epsilon: float, seed: int) -> TrainedModel:
    """Fit one DP model and keep what the audit needs: test correctness, budget spent, leaks."""
    if not is_diffprivlib(model):
        model.fit(X_train, y_train)
        spent, accountant = stated_accounting(model)
        correct = model.predict(X_test) == y_test
        details = getattr(model, "accounting_", None)
        return TrainedModel(epsilon, seed, correct, spent, learned_state_digest(model), (), accountant,
                            dict(details) if isinstance(details, dict) else None)

    load("diffprivlib", "privacy", "a diffprivlib model's privacy accounting")
    from diffprivlib import BudgetAccountant
    from diffprivlib.utils import PrivacyLeakWarning

    accountants = []
    for est in estimators_of(model):
        accountant = getattr(est, "accountant", None)
        if isinstance(accountant, BudgetAccountant) and all(accountant is not a for a in accountants):
            accountants.append(accountant)
    spent_before = [len(a.spent_budget) for a in accountants]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PrivacyLeakWarning)
        model.fit(X_train, y_train)
    leaks = tuple(str(w.message) for w in caught if issubclass(w.category, PrivacyLeakWarning))
    for w in caught:
        if not issubclass(w.category, PrivacyLeakWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    spent = tuple((float(e), float(d)) for a, n in zip(accountants, spent_before) for e, d in a.spent_budget[n:])
    correct = model.predict(X_test) == y_test
    return TrainedModel(epsilon, seed, correct, spent, learned_state_digest(model), leaks)


def leak_error(model_name: str, message: str) -> PrivacyLeakError:
    names = re.findall(r"`(\w+)`", message) or [w for w in ("bounds", "classes") if w in message] or ["the bound"]
    setting = " and ".join(f"{name}=..." for name in names)
    return PrivacyLeakError(
        f"{model_name} computed {' and '.join(names)} from the private training data, which leaks privacy beyond "
        f"epsilon (diffprivlib PrivacyLeakWarning). Set {setting} in the estimator your factory builds, from "
        f"knowledge that does not come from the data; or pass allow_privacy_leak=True to record the leak "
        f"instead of failing. diffprivlib said: {message.splitlines()[0]}"
    )


def learned_state_digest(model: Any) -> str | None:
    """Hash of the fitted attributes (scikit-learn's trailing-underscore convention), or None if there are none."""
    digest = hashlib.sha256()
    found = False
    for est in estimators_of(model):
        for name, value in sorted(vars(est).items()):
            if not name.endswith("_") or name.startswith("_"):
                continue
            if isinstance(value, np.ndarray) and value.dtype != object:
                digest.update(name.encode() + np.ascontiguousarray(value).tobytes())
                found = True
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                digest.update(f"{name}={value!r}".encode())
    return digest.hexdigest()[:16] if found else None


def train_all(factory: Callable, X_train, y_train, X_test, y_test, epsilons: tuple[float, ...],
              seeds: tuple[int, ...], allow_privacy_leak: bool) -> list[list[TrainedModel]]:
    """One model per (epsilon, seed): ``result[i][j]`` for ``epsilons[i]``, ``seeds[j]``.

    All models are built (and checked) first. The fits run in this process with one
    BLAS thread: DP models are small, and on a busy 2-core machine BLAS threads waiting
    for each other made the Iris grid ten times slower; two joblib worker processes
    were slower than one thread too (benchmarks/privacy_speed.py).
    """
    models = []
    previous = None
    for epsilon in epsilons:
        for seed in seeds:
            model = build_model(factory, epsilon, seed)
            if model is previous:
                raise ValueError("factory must return a new estimator on each call, but returned the same object twice")
            previous = model
            models.append((model, epsilon, seed))

    fits = []
    label = f"DP training, {len(epsilons)} epsilon x {len(seeds)} seeds: model"
    with threadpool_limits(limits=1), Task(label, len(models)) as task:
        for model, epsilon, seed in models:
            fits.append(fit_model(model, X_train, y_train, X_test, y_test, epsilon, seed))
            if fits[-1].leaks and not allow_privacy_leak:
                raise leak_error(type(model).__name__, fits[-1].leaks[0])
            task.advance(detail=f"epsilon={epsilon:g}")
    grid = [fits[i * len(seeds):(i + 1) * len(seeds)] for i in range(len(epsilons))]
    check_factory_uses_arguments(grid, epsilons, seeds)
    return grid


def check_factory_uses_arguments(grid: list[list[TrainedModel]], epsilons, seeds) -> None:
    """Identical models across seeds (or across epsilons) mean the factory ignores that argument."""
    for epsilon, row in zip(epsilons, grid):
        digests = {fit.digest for fit in row}
        if None not in digests and len(digests) == 1 and len(row) > 1:
            raise ValueError(
                f"factory ignores seed: the {len(row)} models trained at epsilon={epsilon:g} with different seeds "
                f"are identical; pass the factory's seed argument to the estimator (random_state=seed)"
            )
    if len(epsilons) > 1:
        column = [row[0] for row in grid]
        digests = {fit.digest for fit in column}
        if None not in digests and len(digests) == 1:
            raise ValueError(
                f"factory ignores epsilon: the models trained with seed={seeds[0]} at epsilons "
                f"{', '.join(f'{e:g}' for e in epsilons)} are identical; pass the factory's epsilon to the estimator"
            )


def data_norm_clipping(model: Any, X_train) -> dict[str, Any] | None:
    """How many training rows the declared ``data_norm`` clips (diffprivlib scales them down to it).

    Measured on ``X_train`` as given, so only for an estimator that sees it directly
    (the model itself or a pipeline's first step); None otherwise.
    """
    first = estimators_of(model)[0]
    data_norm = first.get_params(deep=False).get("data_norm") if hasattr(first, "get_params") else None
    if data_norm is None:
        return None
    data_norm = float(data_norm)
    row_norms = np.linalg.norm(np.asarray(X_train, dtype=np.float64).reshape(len(X_train), -1), axis=1)
    return {
        "data_norm": data_norm,
        "max_row_norm": round(float(row_norms.max()), 4),
        "rows_clipped": round(float(np.mean(row_norms > data_norm)), 4),
    }


def bounds_clipping(model: Any, X_train) -> dict[str, Any] | None:
    """How many training rows fall outside the declared per-feature ``bounds`` (diffprivlib clips them to it).

    Measured on ``X_train`` as given, for the model itself or a pipeline's first step; None
    when it declares no bounds.
    """
    first = estimators_of(model)[0]
    bounds = first.get_params(deep=False).get("bounds") if hasattr(first, "get_params") else None
    if bounds is None:
        return None
    X = np.asarray(X_train, dtype=np.float64).reshape(len(X_train), -1)
    lower, upper = (np.broadcast_to(np.asarray(b, dtype=np.float64), X.shape[1:]) for b in bounds)
    outside = (X < lower) | (X > upper)
    return {
        "bounds": [lower.tolist(), upper.tolist()],
        "rows_clipped": round(float(np.mean(outside.any(axis=1))), 4),
    }


def clipping_checks(data_norm: dict[str, Any] | None, bounds: dict[str, Any] | None) -> list[tuple[str, bool, str]]:
    """``(name, passed, detail)`` sanity checks: at most :data:`MAX_CLIPPED_SHARE` of rows clipped by each bound."""
    checks = []
    if data_norm is not None:
        share = data_norm["rows_clipped"]
        checks.append((
            "data_norm clips few training rows", share <= MAX_CLIPPED_SHARE,
            f"data_norm={data_norm['data_norm']:g} clips {share:.1%} of the training rows (row norms up to "
            f"{data_norm['max_row_norm']:g}; the audit allows {MAX_CLIPPED_SHARE:.0%}): "
            + ("the model trains on rows scaled down to the bound" if share > MAX_CLIPPED_SHARE else "fine")
            + "; derive data_norm from public knowledge of the feature ranges, never from the private data"))
    if bounds is not None:
        share = bounds["rows_clipped"]
        checks.append((
            "bounds clip few training rows", share <= MAX_CLIPPED_SHARE,
            f"bounds clip {share:.1%} of the training rows (at least one feature outside; the audit allows "
            f"{MAX_CLIPPED_SHARE:.0%}); declare bounds from public knowledge of the feature ranges, never from "
            f"the private data"))
    return checks
