"""Backdoor triggers: what the attacker stamps on an input so that the poisoned model
answers with the target class.

A trigger is given to :func:`pytest_mlaudit.backdoor` as

- ``"pattern"`` or ``"pixel"``: ART's image perturbations ``add_pattern_bd`` (a
  four-pixel checkerboard) and ``add_single_bd`` (one pixel), ``distance`` pixels from
  the bottom-right corner, set to ``value``; for image samples of shape (H, W) or
  (C, H, W), the pixels set in every channel;
- a dict ``{feature index: value}``: a feature-value pattern for tables (samples of
  shape (n_features,)), e.g. ``{3: 0.0, 4: 1.0}``;
- an array shaped like one sample, NaN where the input is kept and the value to set
  elsewhere: any pattern, for any sample shape.

:func:`trigger_stamp` checks the trigger against the sample shape and returns the
function that stamps a batch (numpy in, numpy out), for ART's
``PoisoningAttackBackdoor``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

IMAGE_TRIGGERS = ("pattern", "pixel")


@dataclass(frozen=True)
class TriggerStamp:
    """A checked trigger: ``stamp(batch)`` returns the triggered copy; ``description`` goes in the report."""

    stamp: Callable[[Any], Any]
    description: dict[str, Any]
    mask: Any  # boolean, shaped like one sample: the input values the trigger sets


def trigger_stamp(trigger: Any, sample_shape: tuple[int, ...], *, value: float = 1.0, distance: int = 2,
                  name: str = "trigger") -> TriggerStamp:
    """The stamp of ``trigger`` for samples of ``sample_shape`` (module docstring); a clear error when it does not fit."""
    if isinstance(trigger, str):
        return _image_trigger(trigger, sample_shape, value, distance, name)
    if isinstance(trigger, dict):
        return _feature_trigger(trigger, sample_shape, name)
    if hasattr(trigger, "shape") or isinstance(trigger, (list, tuple)):
        return _array_trigger(trigger, sample_shape, name)
    raise TypeError(f"{name} must be 'pattern' or 'pixel' (images), a dict {{feature index: value}} (tables) or an "
                    f"array shaped like one sample with NaN where the input is kept; got {type(trigger).__name__}")


def _image_trigger(kind: str, sample_shape, value, distance, name) -> TriggerStamp:
    if kind not in IMAGE_TRIGGERS:
        raise ValueError(f"{name}={kind!r} is not an image trigger; use one of {', '.join(IMAGE_TRIGGERS)}, "
                         "a dict {feature index: value} for tables, or an array shaped like one sample")
    if len(sample_shape) not in (2, 3):
        raise ValueError(f"{name}={kind!r} stamps images, samples of shape (H, W) or (C, H, W); the samples have "
                         f"shape {tuple(sample_shape)}: for tables give a dict {{feature index: value}}")
    if isinstance(distance, bool) or not isinstance(distance, numbers.Integral) or distance < 1:
        raise ValueError(f"trigger_distance must be a positive integer, got {distance!r}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"trigger_value must be a finite number, got {value!r}")
    height, width = sample_shape[-2:]
    reach = distance + (2 if kind == "pattern" else 0)
    if reach > min(height, width):
        raise ValueError(f"{name}={kind!r} at distance {distance} needs images of at least {reach}x{reach} pixels; "
                         f"the samples are {height}x{width}")
    from art.attacks.poisoning.perturbations import add_pattern_bd, add_single_bd

    perturb = add_pattern_bd if kind == "pattern" else add_single_bd

    def stamp(batch):
        batch = np.asarray(batch)
        if batch.ndim == 4:  # (N, C, H, W): ART's perturbations take channels last
            return np.ascontiguousarray(perturb(batch.transpose(0, 2, 3, 1), distance=distance,
                                                pixel_value=value).transpose(0, 3, 1, 2)).astype(batch.dtype)
        return perturb(batch, distance=distance, pixel_value=value).astype(batch.dtype)

    probe = np.zeros((1, *sample_shape), dtype=np.float64)
    mask = stamp(np.full_like(probe, np.nan))[0] == value
    return TriggerStamp(stamp, {"trigger": f"ART {perturb.__name__}", "trigger_value": float(value),
                                "trigger_distance": int(distance), "trigger_inputs_set": int(mask.sum())}, mask)


def _feature_trigger(pattern: dict, sample_shape, name) -> TriggerStamp:
    if len(sample_shape) != 1:
        raise ValueError(f"{name} as a dict {{feature index: value}} stamps tables, samples of shape (n_features,); "
                         f"the samples have shape {tuple(sample_shape)}: use 'pattern' or 'pixel' for images")
    if not pattern:
        raise ValueError(f"{name} is an empty dict: give at least one feature index and its value")
    n_features = sample_shape[0]
    columns, values = [], []
    for column, value in pattern.items():
        if isinstance(column, bool) or not isinstance(column, numbers.Integral) or not 0 <= column < n_features:
            raise ValueError(f"{name} sets feature {column!r}, but the samples have features 0..{n_features - 1}")
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"{name} sets feature {column} to {value!r}: give a finite number")
        columns.append(int(column))
        values.append(float(value))

    def stamp(batch):
        batch = np.array(batch, copy=True)
        batch[:, columns] = np.asarray(values, dtype=batch.dtype)
        return batch

    mask = np.zeros(n_features, dtype=bool)
    mask[columns] = True
    return TriggerStamp(stamp, {"trigger": "feature values", "trigger_features": dict(zip(map(str, columns), values)),
                                "trigger_inputs_set": len(columns)}, mask)


def _array_trigger(trigger, sample_shape, name) -> TriggerStamp:
    from .. import validation

    pattern = validation.as_array(trigger, name).astype(np.float64)
    if pattern.shape != tuple(sample_shape):
        raise ValueError(f"{name} has shape {pattern.shape} but the samples have shape {tuple(sample_shape)}: give "
                         "an array shaped like one sample, NaN where the input is kept")
    mask = ~np.isnan(pattern)
    if not mask.any():
        raise ValueError(f"{name} is NaN everywhere: it sets no input")
    if not np.isfinite(pattern[mask]).all():
        raise ValueError(f"{name} holds infinite values: give finite values where the input is set, NaN elsewhere")

    def stamp(batch):
        batch = np.array(batch, copy=True)
        batch[:, mask] = pattern[mask].astype(batch.dtype)
        return batch

    return TriggerStamp(stamp, {"trigger": "array pattern", "trigger_inputs_set": int(mask.sum())}, mask)
