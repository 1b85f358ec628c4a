"""The inputs of a fairness audit: row counts, the model's 0/1 predictions, the data's fingerprint."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .. import validation
from ..authoring import Audit
from ..estimators import require_fitted


def model_call(what: str, method, *args, **kwargs):
    """``method(*args, **kwargs)``, its failure reported as one error naming the call and its arguments."""
    try:
        return method(*args, **kwargs)
    except Exception as exc:
        raise ValueError(f"{what} failed: {type(exc).__name__}: {exc}") from exc


def n_rows(X, name: str) -> int:
    validation.refuse_non_array(X, name)
    shape = getattr(X, "shape", None)
    try:
        n = int(shape[0]) if shape is not None and len(shape) else len(X)
    except TypeError:
        raise TypeError(f"{name} must be an array or a DataFrame with one sample per row, got {type(X).__name__}") from None
    if n == 0:
        raise ValueError(f"{name} is empty: it has no samples")
    return n


def check_prefit(model, positive_label) -> None:
    """A prefitted model must be fitted, and its scores those of the positive class (column 1)."""
    require_fitted(model, "prefit=True takes it as fitted; fit it first, or pass prefit=False")
    classes = getattr(model, "classes_", None)
    if classes is not None and len(classes) == 2 and classes[1] != positive_label:
        raise ValueError(
            f"prefit=True needs the positive label as the model's second class (its scores are those of "
            f"classes_[1]), but classes_ is {list(classes)} and positive_label={positive_label!r}; "
            f"pass prefit=False to refit on 0/1 labels"
        )


def predict_01(model, X, sensitive, seed: int, positive_label, classes, x_name: str = "X"):
    """The model's predictions as 0/1 (1 = ``positive_label``), checked against y's classes."""
    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise TypeError(f"model must be a fitted classifier with a predict method, got {type(model).__name__}")
    kwargs: dict[str, Any] = {}
    try:
        accepted = inspect.signature(predict).parameters
    except (TypeError, ValueError):
        accepted = {}
    if "sensitive_features" in accepted:
        kwargs["sensitive_features"] = sensitive
    if "random_state" in accepted:
        kwargs["random_state"] = seed
    predicted = np.asarray(model_call(f"model.predict({x_name})", predict, X, **kwargs))
    if predicted.ndim != 1 or predicted.shape[0] != len(sensitive):
        raise ValueError(f"model.predict({x_name}) must return one label per sample ({len(sensitive)}), got shape {predicted.shape}")
    unexpected = sorted({str(v) for v in np.unique(predicted).tolist()} - {str(c) for c in classes})
    if unexpected:
        raise ValueError(f"model predicts labels {unexpected} that are not among y's classes {list(classes)}: "
                         f"was it fitted on the same labels?")
    return (predicted == positive_label).astype(np.int64)


def describe_data(a: Audit, X, y01, sensitive) -> None:
    """Record a content hash of features (any table: numbers, strings, DataFrame), labels and groups, and X's shape."""
    import pandas as pd  # installed with fairlearn, like the rest of the family's tables

    X = validation.from_torch(X)
    if isinstance(X, pd.DataFrame):
        table = X
    else:
        array = np.asarray(X)
        table = pd.DataFrame(array.reshape(array.shape[0], -1))
    rows = pd.util.hash_pandas_object(table, index=False).to_numpy()
    groups = pd.util.hash_pandas_object(sensitive, index=False).to_numpy()
    a.describe_data((rows, y01, groups))
    a.data["shape"] = [int(s) for s in getattr(X, "shape", (len(rows), table.shape[1]))]
    a.data["dtype"] = _dtype_of(X, table)  # X's, not that of the row hashes the fingerprint was taken over


def _dtype_of(X, table) -> str:
    """The features' dtype; a DataFrame with mixed columns as its distinct dtypes (``float64, object``)."""
    dtype = getattr(X, "dtype", None)
    if dtype is not None:
        return str(dtype)
    return ", ".join(sorted({str(column_dtype) for column_dtype in table.dtypes}))
