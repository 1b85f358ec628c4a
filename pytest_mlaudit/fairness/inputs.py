"""The inputs of a fairness audit: row counts, the model's 0/1 predictions, the data's fingerprint."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .. import validation
from ..authoring import Audit
from ..estimators import require_fitted
from .groups import CHUNK_ROWS, rows_of


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
    """Which samples the model predicts as ``positive_label`` (a boolean array), its labels checked against y's.

    ``sensitive``: the groups (a DataFrame of labels as text), or a function making
    them, given to a model whose ``predict`` takes ``sensitive_features``.
    """
    predicted = predicted_labels(model, X, sensitive, seed, x_name)
    unexpected = sorted({str(v) for v in validation.distinct(predicted).tolist()} - {str(c) for c in classes})
    if unexpected:
        raise ValueError(f"model predicts labels {unexpected} that are not among y's classes {list(classes)}: "
                         f"was it fitted on the same labels?")
    return predicted == positive_label


def predicted_labels(model, X, sensitive, seed: int, x_name: str = "X"):
    """``model.predict(X)``, one label per row; ``sensitive`` (or ``sensitive()``) and ``seed`` given when it takes them."""
    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise TypeError(f"model must be a fitted classifier with a predict method, got {type(model).__name__}")
    kwargs: dict[str, Any] = {}
    try:
        accepted = inspect.signature(predict).parameters
    except (TypeError, ValueError):
        accepted = {}
    if "sensitive_features" in accepted:
        kwargs["sensitive_features"] = sensitive() if callable(sensitive) else sensitive
    if "random_state" in accepted:
        kwargs["random_state"] = seed
    n = n_rows(X, x_name)
    predicted = np.asarray(model_call(f"model.predict({x_name})", predict, X, **kwargs))
    if predicted.ndim != 1 or predicted.shape[0] != n:
        raise ValueError(f"model.predict({x_name}) must return one label per sample ({n}), got shape {predicted.shape}")
    return predicted


def groups_as_text(groups: dict[str, Any]):
    """Group columns as a DataFrame of their labels as text, as the report names the groups."""
    import pandas as pd

    return pd.DataFrame({name: pd.Series(column).reset_index(drop=True).astype(str) for name, column in groups.items()})


def describe_data(a: Audit, X, positive, groups) -> None:
    """Record a content hash of features (any table: numbers, strings, DataFrame), labels and groups, and X's shape."""
    X = validation.from_torch(X)
    record_fingerprint(a, fingerprint_all(X, positive, groups), list(getattr(X, "shape", (len(positive),))),
                       _dtype_of(X))


def fingerprint_all(X, positive, groups):
    """The :class:`~pytest_mlaudit.validation.Fingerprint` of in-memory rows, hashed a chunk at a time.

    ``groups``: a DataFrame or a dict of group columns. The memory is a chunk's, the hash
    that of all the rows (:func:`fingerprint_rows`).
    """
    if hasattr(groups, "columns"):
        groups = {str(column): groups.iloc[:, i] for i, column in enumerate(groups.columns)}
    X = validation.from_torch(X)
    fingerprint = validation.Fingerprint()
    for start in range(0, len(positive), CHUNK_ROWS):
        stop = start + CHUNK_ROWS
        fingerprint_rows(fingerprint, rows_of(X, start, stop), positive[start:stop],
                         {name: rows_of(column, start, stop) for name, column in groups.items()})
    return fingerprint


def fingerprint_rows(fingerprint, X, positive, groups: dict[str, Any]) -> None:
    """Add rows to ``fingerprint``: a hash per row of the features, the 0/1 labels, a hash per row of the groups.

    Row hashes (pandas' ``hash_pandas_object``) take any table; the groups are hashed as
    the text the report shows them by. The result depends only on the rows, not on how
    they were cut into chunks.
    """
    import pandas as pd  # installed with the fairness extra, like the rest of the family's tables

    X = validation.from_torch(X)
    if isinstance(X, pd.DataFrame):
        table = X
    else:
        array = np.asarray(X)
        table = pd.DataFrame(array.reshape(array.shape[0], -1))
    rows = pd.util.hash_pandas_object(table, index=False).to_numpy()
    group_hashes = pd.util.hash_pandas_object(groups_as_text(groups), index=False).to_numpy()
    fingerprint.update(rows, np.asarray(positive).astype(np.int64), group_hashes)


def record_fingerprint(a: Audit, fingerprint, shape: list[int], dtype: str) -> None:
    a.data.update(fingerprint.describe())
    a.data["shape"] = [int(s) for s in shape]
    a.data["dtype"] = dtype  # X's, not that of the row hashes the fingerprint was taken over


def _dtype_of(X) -> str:
    """The features' dtype; a DataFrame with mixed columns as its distinct dtypes (``float64, object``)."""
    dtype = getattr(X, "dtype", None)
    if dtype is not None:
        return str(dtype)
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None:
        return ", ".join(sorted({str(column_dtype) for column_dtype in dtypes}))
    return str(np.asarray(X).dtype)
