"""Fairness audits of a table read in chunks: an iterable of ``(X, y, sensitive_features)``.

Every figure of a fairness audit comes from per-group confusion counts, and counts add
up: one pass over the chunks predicts each, counts its rows per group
(:class:`.groups.GroupCounter`) and hashes them into the data's fingerprint
(:class:`~pytest_mlaudit.validation.Fingerprint`), so the result and the fingerprint
are those of the whole table in memory, at the memory of one chunk. A chunk is a triple
like the ``(X, y)`` batches of a robustness stream, e.g. from a CSV file::

    chunks = ((frame.drop(columns=["hired", "sex"]), frame["hired"], frame[["sex"]])
              for frame in pd.read_csv(path, chunksize=100_000))
    mla.assert_disparate_impact(model, chunks, at_least=0.8)
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .. import validation
from ..authoring import Audit
from ..estimators import repeatable
from ..records import Check
from . import inputs
from .groups import CountTable, GroupCounter, sensitive_columns


def is_chunks(X: Any, y: Any, sensitive_features: Any) -> bool:
    """Whether ``X`` is an iterable of chunks: an iterable that is not an array, and no ``y`` nor groups given."""
    if not validation.is_chunked(X):
        return False
    if y is not None or sensitive_features is not None:
        raise TypeError("X is an iterable of chunks: give y and sensitive_features inside each chunk, as "
                        "(X, y, sensitive_features) triples, not as separate arguments")
    return True


def count_chunks(a: Audit, model, chunks, positive_label) -> tuple[CountTable, list[str]]:
    """The confusion counts of all the chunks' rows; records the determinism check and the data's fingerprint."""
    counter: GroupCounter | None = None
    fingerprint = validation.Fingerprint()
    classes: set = set()
    predicted_labels: set = set()
    differing: list[Check] = []
    features_shape, dtype = None, ""
    seed = a.seed("predict")
    for number, chunk in enumerate(chunks):
        where = f"chunk {number}"
        X, y, groups = _triple(chunk, where)
        n = inputs.n_rows(X, f"X of {where}")
        validation.refuse_non_array(y, f"y of {where}")
        labels = y.to_numpy() if hasattr(y, "iloc") else np.asarray(validation.from_torch(y))  # numbers or strings
        _check_labels(labels, n, where)
        classes.update(_distinct(labels))
        if len(classes) > 2:
            raise ValueError(f"y must hold two classes, got {len(classes)} by {where}: {sorted(map(str, classes))[:5]}")
        positive = labels == positive_label
        columns = sensitive_columns(groups, n, f"sensitive_features of {where}")
        if counter is None:
            counter = GroupCounter(list(columns), "sensitive_features")
            features_shape = list(getattr(X, "shape", (n,)))[1:]
            dtype = inputs._dtype_of(validation.from_torch(X))
        elif tuple(columns) != counter.columns:
            raise ValueError(f"sensitive_features of {where} has columns {list(columns)}, the first chunk's "
                             f"{list(counter.columns)}")
        # the model's labels, unchecked here: y's classes are known only once every chunk is read
        # the same seed for each chunk: a model drawing at random draws anew per chunk
        predicted, determinism = repeatable(functools.partial(
            inputs.predicted_labels, model, X, functools.partial(inputs.groups_as_text, columns), seed,
            f"X of {where}"), f"X of {where}")
        if not determinism.passed:
            differing.append(determinism)
        predicted_labels.update(_distinct(predicted))
        counter.add(list(columns.values()), positive, predicted == positive_label)
        inputs.fingerprint_rows(fingerprint, X, positive, columns)
    if counter is None:
        raise ValueError("X is an empty iterable of chunks: it gave no (X, y, sensitive_features) chunk")
    classes_list = sorted(classes, key=lambda v: (str(type(v)), str(v)))
    validation.positive_class(np.asarray(classes_list, dtype=object), positive_label, "y", classes_list)
    unexpected = sorted({str(v) for v in predicted_labels} - {str(c) for c in classes_list})
    if unexpected:
        raise ValueError(f"model predicts labels {unexpected} that are not among y's classes {classes_list}: "
                         f"was it fitted on the same labels?")
    counter.check_groups()
    check = differing[0] if differing else Check("deterministic predictions", True,
                                                 "two evaluations of the model on each chunk of X agree")
    a.check(check.name, check.passed, check.detail)
    inputs.record_fingerprint(a, fingerprint, [counter.n, *features_shape], dtype)
    a.params["input"] = f"{fingerprint.n:,} rows in chunks"
    return counter.table(), list(counter.columns)


def _triple(chunk: Any, where: str) -> tuple[Any, Any, Any]:
    if not isinstance(chunk, (tuple, list)) or len(chunk) != 3:
        raise TypeError(f"{where} of X must be a triple (X, y, sensitive_features), got {type(chunk).__name__}"
                        + (f" of {len(chunk)}" if isinstance(chunk, (tuple, list)) else ""))
    return chunk[0], chunk[1], chunk[2]


def _check_labels(labels, n: int, where: str) -> None:
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"y of {where} must hold one label per row of its X ({n}), got shape {labels.shape}")
    missing = validation._missing_count(labels)
    if missing:
        raise ValueError(f"y of {where} contains {missing} NaN or missing labels")


def _distinct(values) -> set:
    return set(validation.distinct(values).tolist()) if values.dtype != object else set(values.tolist())

