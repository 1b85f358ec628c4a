"""Input checks shared by the audits: each bad input gets one error naming the argument.

Arrays may be numpy arrays, torch tensors or nested lists; they are checked as numpy
views (torch tensors on the CPU are not copied).
"""

from __future__ import annotations

import hashlib
import math
import numbers
from typing import Any


def from_torch(value: Any) -> Any:
    """A torch tensor as a numpy array (detached, on the CPU); anything else as it is."""
    if type(value).__module__.split(".")[0] == "torch":
        return value.detach().cpu().numpy()
    return value


def refuse_non_array(value: Any, name: str) -> None:
    """A TypeError naming the argument for values numpy would turn into a 0-d array (None, a string, a dict)."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise TypeError(f"{name} must be an array (numpy array, torch tensor or list), got {type(value).__name__}")


def is_chunked(value: Any) -> bool:
    """Whether ``value`` is an iterable of chunks or batches (a generator, a DataLoader, ``pd.read_csv(chunksize=)``)."""
    if value is None or hasattr(value, "shape") or hasattr(value, "__array__"):
        return False
    return hasattr(value, "__iter__") and not isinstance(value, (str, bytes, dict, list, tuple))


def refuse_chunks(name: str, value: Any, audit: str, reason: str) -> None:
    """A TypeError naming the argument and the audit when an audit that needs all rows at once is given chunks."""
    if is_chunked(value):
        raise TypeError(f"{name} is an iterable of chunks ({type(value).__name__}): {audit} cannot be computed from "
                        f"chunks, {reason}. Pass arrays or a DataFrame (e.g. pd.concat of the chunks)")


def as_array(value: Any, name: str):
    """``value`` as a numpy array, or a TypeError that names the argument."""
    import numpy as np

    value = from_torch(value)
    refuse_non_array(value, name)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array: {exc}") from None
    if array.dtype == object:
        raise TypeError(f"{name} must be a numeric array, got an array of Python objects")
    return array


def features(value: Any, name: str = "X", min_dims: int = 2):
    """A non-empty, finite, numeric feature array with one sample per row."""
    import numpy as np

    array = as_array(value, name)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real numbers, got dtype {array.dtype}")
    if array.ndim < min_dims:
        raise ValueError(f"{name} must have at least {min_dims} dimensions (samples first), got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has no samples")
    if array.size == 0:
        raise ValueError(f"{name} has samples of shape {array.shape[1:]}: they hold no features")
    # min and max propagate NaN and show infinities: O(1) extra memory on large data
    if np.issubdtype(array.dtype, np.floating) and not (np.isfinite(array.min()) and np.isfinite(array.max())):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} contains {bad} NaN or infinite values")
    return array


def labels(value: Any, n_samples: int, name: str = "y", x_name: str = "X"):
    """Integer class labels, one per sample."""
    import numpy as np

    array = _one_label_per_sample(as_array(value, name), n_samples, name, x_name)
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        if not np.all(array == np.round(array)):
            raise ValueError(f"{name} must hold integer class labels, got non-integer values")
        array = array.astype(np.int64)
    elif not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels, got dtype {array.dtype}")
    if array.min() < 0:
        raise ValueError(f"{name} has negative label {int(array.min())}; labels must be 0..n_classes-1")
    return array.astype(np.int64, copy=False)


def _one_label_per_sample(array, n_samples: int, name: str, x_name: str):
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class labels, got shape {array.shape}")
    if array.shape[0] != n_samples:
        raise ValueError(f"{name} has {array.shape[0]} labels but {x_name} has {n_samples} samples")
    return array


def two_splits(X_a, y_a, X_b, y_b, names: tuple[str, str, str, str]):
    """Two labelled splits of the same features (e.g. train and test), each checked, rows of one shape."""
    X_a = features(X_a, names[0])
    y_a = labels(y_a, X_a.shape[0], names[1], x_name=names[0])
    X_b = features(X_b, names[2])
    y_b = labels(y_b, X_b.shape[0], names[3], x_name=names[2])
    check_same_rows(X_a, X_b, names[0], names[2])
    return X_a, y_a, X_b, y_b


def check_same_rows(X_a, X_b, name_a: str, name_b: str) -> None:
    """Two feature arrays of the same model must have rows of one shape."""
    if X_a.shape[1:] != X_b.shape[1:]:
        raise ValueError(f"{name_a} has rows of shape {X_a.shape[1:]} but {name_b} of shape {X_b.shape[1:]}")


def check_labels_fit(y, n_classes: int, name: str = "y") -> None:
    largest = int(y.max())
    if largest >= n_classes:
        raise ValueError(f"{name} has label {largest} but the model outputs only {n_classes} classes (0..{n_classes - 1})")


def domain(clip: Any, name: str = "clip") -> tuple[Any, Any]:
    """A declared input domain ``(low, high)``: two numbers, or per-feature arrays."""
    import numpy as np

    if not isinstance(clip, (tuple, list)) or len(clip) != 2:
        raise TypeError(f"{name} must be a pair (low, high) giving the valid input range, got {clip!r}")
    low, high = (np.asarray(bound, dtype=np.float64) for bound in clip)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise ValueError(f"{name} bounds must be finite numbers")
    if np.any(low > high) or np.all(low == high):
        raise ValueError(f"{name} low must be below high (per-feature bounds may be equal for a constant feature)")
    return low, high


def check_in_domain(X, low, high, name: str = "X", clip_name: str = "clip") -> None:
    """Refuse data outside the declared domain (e.g. normalized images with clip=(0, 1))."""
    import numpy as np

    tolerance = 1e-6
    per_feature = getattr(low, "ndim", 0) > 0 or getattr(high, "ndim", 0) > 0
    smallest, largest = (X.min(axis=0), X.max(axis=0)) if per_feature else (X.min(), X.max())
    if np.any(smallest < low - tolerance) or np.any(largest > high + tolerance):
        count = int(np.count_nonzero((X < low - tolerance) | (X > high + tolerance)))
        raise ValueError(
            f"{name} has {count} values outside the declared domain {clip_name}=({_fmt(low)}, {_fmt(high)}): "
            f"its range is [{float(X.min()):.4g}, {float(X.max()):.4g}]. Attacks perturb and clip inputs in "
            f"this domain. If {name} was scaled with the training split's statistics and only slightly leaves it, "
            f"clip {name} to the domain first (np.clip({name}, low, high)) or declare a domain that holds both "
            f"splits ({clip_name}=mla.feature_range(X_train, margin=...)); if {name} is normalized, pass the raw "
            f"inputs and give the model normalization=(mean, std) instead of clipping normalized values."
        )


def _fmt(bound) -> str:
    return f"{float(bound):g}" if getattr(bound, "ndim", 0) == 0 else f"per-feature array of {bound.size}"


def positive_number(value: Any, name: str, allow_zero: bool = True) -> float:
    """A finite number >= 0 (> 0 without ``allow_zero``): TypeError for a non-number, ValueError for a bad value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'}, got {value!r}")
    return float(value)


def positive_int(value: Any, name: str, allow_zero: bool = False) -> int:
    """An integer > 0 (>= 0 with ``allow_zero``): TypeError for a non-integer, ValueError for a bad value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} integer, got {value!r}")
    return int(value)


def flag(value: Any, name: str) -> bool:
    """A switch argument: True or False, never a truthy string such as "no"."""
    if not isinstance(value, bool) and type(value).__name__ != "bool_":
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_known_labels(y, known, name: str, reason: str) -> None:
    """Refuse labels outside ``known`` (a model's classes, or a training split's); ``reason`` says why they are unknown."""
    import numpy as np

    unknown = np.setdiff1d(np.unique(y), np.asarray(known))
    if unknown.size:
        raise ValueError(f"{name} has labels {unknown.tolist()} {reason} (its classes: "
                         f"{np.unique(known).tolist()})")


class Fingerprint:
    """A content hash of data seen a batch at a time (a DataLoader), equal to :func:`fingerprint` of it all.

    Each array position (X, y, ...) has its own running sha256 over its sample shape,
    dtype and bytes, so batches can arrive in any sizes: the result depends only on the
    concatenated data. Memory is one batch.
    """

    def __init__(self) -> None:
        self._digests: list[Any] = []
        self._first: Any = None
        self.n = 0
        self._labels: dict[str, int] | None = {}

    def update(self, *arrays) -> None:
        if not self._digests:
            self._digests = [hashlib.sha256(str((a.shape[1:], str(a.dtype))).encode()) for a in arrays]
            self._first = arrays[0]
        elif len(arrays) != len(self._digests):
            raise ValueError(f"a batch of {len(arrays)} arrays after batches of {len(self._digests)}")
        for digest, array in zip(self._digests, arrays):
            digest.update(memoryview(array if array.flags["C_CONTIGUOUS"] else array.copy(order="C")).cast("B"))
        self.n += int(arrays[0].shape[0])
        if len(arrays) == 2 and self._labels is not None:  # (X, y): the labels' class balance
            counts = class_counts(arrays[1])
            if counts is None:
                self._labels = None
            else:
                for label, count in counts.items():
                    self._labels[label] = self._labels.get(label, 0) + count
                if len(self._labels) > 100:
                    self._labels = None

    def describe(self) -> dict[str, Any]:
        if not self._digests:
            raise ValueError("no data was fingerprinted")
        combined = hashlib.sha256(b"".join(digest.digest() for digest in self._digests))
        description = {"sha256": combined.hexdigest()[:16], "n": self.n, "shape": [self.n, *self._first.shape[1:]],
                       "dtype": str(self._first.dtype)}
        if len(self._digests) == 2 and self._labels:
            description["class_counts"] = dict(sorted(self._labels.items(), key=lambda item: _label_order(item[0])))
        return description


def _label_order(label: str) -> tuple:
    return (0, int(label)) if label.lstrip("-").isdigit() else (1, label)


def fingerprint(*arrays) -> dict[str, Any]:
    """A short content hash of the data, with its shape and type, for the report."""
    running = Fingerprint()
    running.update(*arrays)
    return running.describe()


def class_counts(labels, max_classes: int = 100) -> dict[str, int] | None:
    """Samples per class of integer (or boolean) labels, for the report's class balance; else None."""
    import numpy as np

    if labels.ndim != 1 or labels.dtype.kind not in "biu":
        return None
    values, counts = np.unique(labels, return_counts=True)
    if values.size > max_classes:
        return None
    return {str(value): int(count) for value, count in zip(values.tolist(), counts.tolist())}


def _missing_count(array) -> int:
    """NaN or None entries of a 1-D numeric, string or object array."""
    import numpy as np

    if np.issubdtype(array.dtype, np.floating):
        return int(np.count_nonzero(np.isnan(array)))
    if array.dtype == object:
        return sum(1 for v in array if v is None or (isinstance(v, float) and math.isnan(v)))
    return 0


def _sorted_values(values) -> list:
    """The distinct values, numbers before strings; numeric arrays without a Python object per row."""

    if values.dtype != object:
        values = distinct(values)
    return sorted(set(values.tolist()), key=lambda v: (str(type(v)), str(v)))


def distinct(values):
    """The distinct values of a 1-D array, sorted: counted for small non-negative integers (no sorted copy)."""
    import numpy as np

    if values.dtype.kind in "iu" and values.size and values.min() >= 0 and values.max() < 1 << 20:
        return np.flatnonzero(np.bincount(values)).astype(values.dtype)
    if values.dtype == np.bool_:
        return np.array([False, True])[[not values.all(), bool(values.any())]]
    return np.unique(values)


def binary_labels(value: Any, n_samples: int, positive_label: Any = 1, name: str = "y", x_name: str = "X",
                  as_bool: bool = False):
    """Binary labels as ``(is_positive, classes)``: a 0/1 int array (bool with ``as_bool``) and the two labels.

    Labels may be numbers or strings ("<=50K", ">50K"); ``positive_label`` names the
    favourable (or minority) class and must be one of them.
    """
    import numpy as np

    value = from_torch(value)
    refuse_non_array(value, name)
    array = _one_label_per_sample(np.asarray(value), n_samples, name, x_name)
    missing = _missing_count(array)
    if missing:
        raise ValueError(f"{name} contains {missing} NaN or missing labels")
    classes = _sorted_values(array)
    if len(classes) > 2:
        raise ValueError(f"{name} must hold two classes, got {len(classes)}: {classes[:5]}")
    is_positive = positive_class(array, positive_label, name, classes)
    return (is_positive if as_bool else is_positive.astype(np.int64)), classes


def positive_class(y, positive_label: Any, name: str = "y", classes: list | None = None):
    """Which samples are of ``positive_label`` (a boolean array), refusing labels without both sides.

    The positive class is the favourable outcome (fairness) or the minority class
    (imbalance); every other label is the rest, and ``y`` must hold both.
    ``classes`` are y's distinct labels when the caller already has them.
    """
    classes = _sorted_values(y) if classes is None else classes
    if positive_label not in classes:
        if any(isinstance(c, str) for c in classes):
            raise ValueError(f"{name} holds string labels {classes}: give positive_label= one of them")
        raise ValueError(f"{name} has no sample of positive_label={positive_label!r} (its classes: {classes}): "
                         f"the audit needs samples of the positive class")
    if len(classes) == 1:
        raise ValueError(f"{name} holds only class {positive_label!r} (positive_label): the audit needs samples "
                         f"of the other class too")
    return y == positive_label


def _keeping_types(values):
    """Group labels as an array; a list keeps each label's type (numpy would turn ``[1, "1"]`` into two "1")."""
    import numpy as np

    values = from_torch(values)
    return np.array(values, dtype=object) if isinstance(values, (list, tuple)) else np.asarray(values)


def _refuse_merged_groups(column, where: str) -> None:
    """Refuse group labels of different types that read the same (``1`` and ``"1"``).

    Groups are compared as text in the report and the metrics; two labels that only
    their type tells apart would silently become one group.
    """
    if column.dtype != object:
        return
    by_text: dict[str, set] = {}
    for value in column.unique():
        by_text.setdefault(str(value), set()).add(type(value).__name__)
    merged = {text: sorted(types) for text, types in by_text.items() if len(types) > 1}
    if merged:
        shown = "; ".join(f"{text!r} as {', '.join(types)}" for text, types in list(merged.items())[:5])
        raise ValueError(f"{where} mixes label types that read the same ({shown}): they would be merged into one "
                         f"group; give the column one type (e.g. .astype(str) if they are one group)")


def sensitive_features(value: Any, n_samples: int, name: str = "sensitive_features"):
    """Sensitive features as a pandas DataFrame of group labels (strings), one column each.

    Accepts a pandas Series or DataFrame, a dict of name -> values, or a 1-D or 2-D
    array (columns named ``sensitive_feature`` or ``sensitive_feature_0``, ...). Every
    sample needs a group, and every column at least two groups.
    """
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        frame = value.reset_index(drop=True)
    elif isinstance(value, pd.Series):
        frame = value.reset_index(drop=True).to_frame(name=value.name if value.name is not None else "sensitive_feature")
    elif isinstance(value, dict):
        lengths = {key: len(column) for key, column in value.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"{name} columns differ in length: {lengths}")
        frame = pd.DataFrame({str(key): _keeping_types(column) for key, column in value.items()})
    else:
        if value is None or isinstance(value, (str, bytes)):
            raise TypeError(f"{name} must be an array, a pandas Series/DataFrame or a dict of columns, got {value!r}")
        array = _keeping_types(value)
        if array.ndim == 1:
            frame = pd.DataFrame({"sensitive_feature": array})
        elif array.ndim == 2:
            frame = pd.DataFrame({f"sensitive_feature_{i}": array[:, i] for i in range(array.shape[1])})
        else:
            raise ValueError(f"{name} must be 1-D (one feature) or 2-D (one column per feature), got shape {array.shape}")
    if frame.shape[1] == 0:
        raise ValueError(f"{name} has no columns")
    if frame.shape[0] != n_samples:
        raise ValueError(f"{name} has {frame.shape[0]} rows but X has {n_samples} samples")
    frame.columns = [str(column) for column in frame.columns]
    for column in frame.columns:
        missing = int(frame[column].isna().sum())
        if missing:
            raise ValueError(f"{name} column {column!r} has {missing} missing values (NaN or None): "
                             f"give every sample a group (e.g. 'unknown')")
        _refuse_merged_groups(frame[column], f"{name} column {column!r}")
        frame[column] = frame[column].astype(str)
        groups = frame[column].unique()
        if len(groups) < 2:
            raise ValueError(f"{name} column {column!r} has a single group ({groups[0]!r}): "
                             f"a fairness audit compares at least two groups")
    return frame
