"""Checks on the scikit-learn-style estimators the audits are given (sklearn is imported inside)."""

from __future__ import annotations

from typing import Any


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
