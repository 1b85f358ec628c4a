"""Input checks shared by the audits: each bad input gets one error naming the argument.

Arrays may be numpy arrays, torch tensors or nested lists; they are checked as numpy
views (torch tensors on the CPU are not copied).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any


def as_array(value: Any, name: str):
    """``value`` as a numpy array, or a TypeError that names the argument."""
    import numpy as np

    if type(value).__module__.split(".")[0] == "torch":
        value = value.detach().cpu().numpy()
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise TypeError(f"{name} must be an array (numpy array, torch tensor or list), got {type(value).__name__}")
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
    if array.ndim < min_dims:
        raise ValueError(f"{name} must have at least {min_dims} dimensions (samples first), got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has no samples")
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} contains {bad} NaN or infinite values")
    return array


def labels(value: Any, n_samples: int, name: str = "y"):
    """Integer class labels, one per sample."""
    import numpy as np

    array = as_array(value, name)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class labels, got shape {array.shape}")
    if array.shape[0] != n_samples:
        raise ValueError(f"{name} has {array.shape[0]} labels but X has {n_samples} samples")
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
    below = X < low - tolerance
    above = X > high + tolerance
    if below.any() or above.any():
        count = int(np.count_nonzero(below | above))
        raise ValueError(
            f"{name} has {count} values outside the declared domain {clip_name}=({_fmt(low)}, {_fmt(high)}): "
            f"its range is [{float(X.min()):.4g}, {float(X.max()):.4g}]. Attacks perturb and clip inputs in "
            f"this domain; if {name} is normalized, pass the raw inputs and give the model "
            f"normalization=(mean, std) instead of clipping normalized values."
        )


def _fmt(bound) -> str:
    return f"{float(bound):g}" if getattr(bound, "ndim", 0) == 0 else f"per-feature array of {bound.size}"


def positive_number(value: Any, name: str, allow_zero: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'}, got {value!r}")
    return float(value)


def positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def fingerprint(*arrays) -> dict[str, Any]:
    """A short content hash of the data, with its shape and type, for the report."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str((array.shape, str(array.dtype))).encode())
        digest.update(array.tobytes() if array.flags["C_CONTIGUOUS"] else array.copy(order="C").tobytes())
    first = arrays[0]
    return {"sha256": digest.hexdigest()[:16], "n": int(first.shape[0]), "shape": list(first.shape), "dtype": str(first.dtype)}
