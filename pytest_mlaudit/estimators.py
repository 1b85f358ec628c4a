"""Checks on the scikit-learn-style estimators the audits are given (sklearn is imported inside)."""

from __future__ import annotations

import numbers
from typing import Any, Callable

from .records import Check


def require_fitted(model: Any, hint: str, name: str = "model") -> None:
    """Refuse an unfitted estimator with one error that names the argument.

    ``hint`` says what to do about it in the calling audit. An object that is not a
    scikit-learn estimator at all (no ``fit``) gets a TypeError naming the argument.
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        raise ValueError(f"{name} ({type(model).__name__}) is not fitted: {hint}") from None
    except TypeError as exc:
        raise TypeError(f"{name} must be a scikit-learn compatible estimator: {exc}") from None


def seeded_clone(estimator: Any, seed: int) -> tuple[Any, dict[str, Any]]:
    """A clone of ``estimator`` whose every ``random_state`` left at None is ``seed``; and the seeds it uses.

    Covers nested estimators (a pipeline's steps, a sampler's inner estimator): every
    parameter named ``random_state`` or ``<step>__random_state`` that is None gets
    ``seed``; one the user set is kept. The second value maps each such parameter to
    ``{"seed": value, "set_by": "mlaudit" | "user"}``, for the record, so a run says
    what made it repeatable.
    """
    from sklearn.base import clone

    try:
        copy = clone(estimator)
    except TypeError as exc:
        raise TypeError(f"a scikit-learn compatible estimator is needed (clone failed): {exc}") from None
    params = copy.get_params(deep=True) if callable(getattr(copy, "get_params", None)) else {}
    seeds: dict[str, Any] = {}
    unset: dict[str, int] = {}
    for key, value in params.items():
        if key == "random_state" or key.endswith("__random_state"):
            if value is None:
                unset[key] = seed
                seeds[key] = {"seed": seed, "set_by": "mlaudit"}
            elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
                seeds[key] = {"seed": int(value), "set_by": "user"}
            else:
                seeds[key] = {"seed": repr(value)[:80], "set_by": "user"}
    if unset:
        copy.set_params(**unset)
    return copy, seeds


def repeatable(evaluate: Callable[[], Any], what: str) -> tuple[Any, Check]:
    """``evaluate()`` (a model's predictions or scores, or a tuple of them), run twice, and a check that
    the two runs agree.

    A model with randomness at prediction time (sampling, dropout left on) makes every
    number measured through it one random draw: the audit completes, marked suspect.
    """
    first, second = evaluate(), evaluate()
    differing, total = _differences(first, second)
    detail = (f"two evaluations of the model on {what} agree" if not differing else
              f"two evaluations of the model on {what} differ in {differing} of {total} values: randomness at "
              f"prediction time makes the audit measure one random draw; seed or remove it")
    return first, Check("deterministic predictions", not differing, detail)


def _differences(first: Any, second: Any) -> tuple[int, int]:
    import numpy as np

    if isinstance(first, tuple):
        counts = [_differences(a, b) for a, b in zip(first, second)]
        return sum(c for c, _ in counts), sum(n for _, n in counts)
    if first is None:
        return 0, 0
    a, b = np.asarray(first), np.asarray(second)
    if a.dtype.kind in "fc":
        same = np.isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=True)
    else:
        same = a == b
    return int(np.size(same) - np.count_nonzero(same)), int(np.size(same))
