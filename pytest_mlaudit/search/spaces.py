"""Perturbation spaces: where a counterexample search may move a sample.

Each space builds, for one sample, a hypothesis strategy of *changes*: a dict from
column index to the new value. Hypothesis draws changes, and shrinks a change that
flips the prediction towards the simplest one: a space is written so that its
simplest draw is "no change" (zero deltas, the sample's own category), so that a
shrunk counterexample changes few features by little.

- :func:`box`: every numeric feature moves by at most ``eps`` (L-inf), inside the domain;
- :func:`features`: the named features move within their own ranges (``{"income": (-1000, 1000)}``);
- :func:`categorical`: the named columns take another of their values.

Several spaces given as a list are searched together (their changes merged).
hypothesis is imported inside the functions that build strategies.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .table import Table, column_index


@dataclass(frozen=True)
class Box:
    """Each numeric feature moves by at most ``eps`` (a number, or one per feature), clipped to the domain."""

    eps: float | tuple[float, ...]

    def describe(self) -> dict[str, Any]:
        return {"space": "box", "eps": self.eps if isinstance(self.eps, float) else list(self.eps)}

    def strategy(self, table: Table, values: np.ndarray):
        from hypothesis import strategies as st

        eps = np.broadcast_to(np.asarray(self.eps, dtype=np.float64), (len(table.columns),)) \
            if np.size(self.eps) in (1, len(table.columns)) else None
        if eps is None:
            raise ValueError(f"spaces.box: eps has {np.size(self.eps)} values but X has {len(table.columns)} features")
        columns = [j for j in np.flatnonzero(table.numeric) if eps[j] > 0]
        deltas = [st.floats(-float(eps[j]), float(eps[j]), allow_nan=False) for j in columns]
        return st.tuples(*deltas).map(lambda drawn: _moved(table, values, columns, drawn))

    def column_kinds(self, table: Table) -> dict[int, str]:
        return {int(j): "real" for j in np.flatnonzero(table.numeric)}


@dataclass(frozen=True)
class Features:
    """Named features move within their own ranges: ``{name: (low, high)}`` of deltas, integers stay integers."""

    ranges: tuple[tuple[Any, tuple[float, float]], ...]

    def describe(self) -> dict[str, Any]:
        return {"space": "features", "ranges": {str(k): list(v) for k, v in self.ranges}}

    def strategy(self, table: Table, values: np.ndarray):
        from hypothesis import strategies as st

        columns, deltas = [], []
        for key, (low, high) in self.ranges:
            j = column_index(table, key, "spaces.features")
            if not table.numeric[j]:
                raise ValueError(f"spaces.features: column {table.columns[j]!r} is not numeric; "
                                 f"use spaces.categorical for it")
            columns.append(j)
            integral = all(isinstance(v, numbers.Integral) for v in (low, high))
            deltas.append(st.integers(int(low), int(high)) if integral
                          else st.floats(float(low), float(high), allow_nan=False))
        return st.tuples(*deltas).map(lambda drawn: _moved(table, values, columns, drawn))

    def column_kinds(self, table: Table) -> dict[int, str]:
        return {column_index(table, key, "spaces.features"):
                "integer" if all(isinstance(v, numbers.Integral) for v in bounds) else "real"
                for key, bounds in self.ranges}


@dataclass(frozen=True)
class Categorical:
    """Named columns take another value: from ``values`` given per column, or the values seen in the data."""

    choices: tuple[tuple[Any, tuple[Any, ...] | None], ...]

    def describe(self) -> dict[str, Any]:
        return {"space": "categorical",
                "columns": {str(k): (None if v is None else [str(x) for x in v]) for k, v in self.choices}}

    def strategy(self, table: Table, values: np.ndarray):
        from hypothesis import strategies as st

        columns, draws = [], []
        for key, options in self.choices:
            j = column_index(table, key, "spaces.categorical")
            seen = options if options is not None else tuple(_distinct(table.column_values(j)))
            current = values[j]
            # the sample's own value first: hypothesis shrinks a sampled_from towards its first element
            draws.append(st.sampled_from([current, *[v for v in seen if v != current]]))
            columns.append(j)
        return st.tuples(*draws).map(lambda drawn: {j: v for j, v in zip(columns, drawn) if v != values[j]})

    def column_kinds(self, table: Table) -> dict[int, str]:
        return {column_index(table, key, "spaces.categorical"): "categorical" for key, _ in self.choices}


def _moved(table: Table, values: np.ndarray, columns: list[int], deltas) -> dict[int, Any]:
    """New values of ``columns`` after adding ``deltas``, clipped to the domain; unchanged columns left out."""
    changes = {}
    for j, delta in zip(columns, deltas):
        if delta == 0:
            continue
        before = float(values[j])
        after = min(max(before + delta, table.low[j]), table.high[j])
        if isinstance(delta, numbers.Integral) and float(before).is_integer():
            after = int(round(after))
        if after != before:
            changes[j] = after
    return changes


def _distinct(column: np.ndarray) -> list[Any]:
    seen: dict[Any, None] = {}
    for value in column.tolist():
        seen.setdefault(value, None)
    if len(seen) > 100:
        raise ValueError(f"spaces.categorical: a column has {len(seen)} distinct values; give the values to try "
                         f"explicitly, e.g. categorical({{'colour': ['red', 'blue']}})")
    return sorted(seen, key=str)


def box(eps) -> Box:
    """Every numeric feature moves by at most ``eps`` (L-inf ball, a number or one per feature) inside the domain."""
    if np.ndim(eps) == 0:
        value = _finite(eps, "spaces.box: eps")
        if value <= 0:
            raise ValueError(f"spaces.box: eps must be positive, got {eps!r}")
        return Box(value)
    array = np.asarray(eps, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(array)) or np.any(array < 0) or not np.any(array > 0):
        raise ValueError("spaces.box: eps per feature must be finite, non-negative and not all zero")
    return Box(tuple(float(v) for v in array))


def features(ranges: dict) -> Features:
    """The named features (names or column positions) move by deltas in their ranges: ``{"income": (-1000, 1000)}``."""
    if not isinstance(ranges, dict) or not ranges:
        raise TypeError(f"spaces.features takes a non-empty dict {{feature: (low, high)}}, got {ranges!r}")
    checked = []
    for key, bounds in ranges.items():
        if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
            raise TypeError(f"spaces.features: {key!r} needs a pair (low, high) of deltas, got {bounds!r}")
        low, high = (_finite(b, f"spaces.features: {key!r}") for b in bounds)
        if not low <= 0 <= high or low == high:
            raise ValueError(f"spaces.features: {key!r} range ({low:g}, {high:g}) must contain 0 (no change) "
                             f"and not be empty")
        checked.append((key, tuple(bounds)))
    return Features(tuple(checked))


def categorical(columns) -> Categorical:
    """The named columns take other values: ``["colour"]`` (values seen in the data) or ``{"colour": [...]}``."""
    if isinstance(columns, (str, int)):
        columns = [columns]
    if isinstance(columns, dict):
        if not columns:
            raise TypeError("spaces.categorical needs at least one column")
        choices = []
        for key, values in columns.items():
            if values is not None and (isinstance(values, (str, bytes)) or len(values) < 2):
                raise ValueError(f"spaces.categorical: {key!r} needs a list of at least two values, got {values!r}")
            choices.append((key, None if values is None else tuple(values)))
        return Categorical(tuple(choices))
    if isinstance(columns, (list, tuple)) and columns:
        return Categorical(tuple((key, None) for key in columns))
    raise TypeError(f"spaces.categorical takes a column, a list of columns or a dict {{column: values}}, got {columns!r}")


def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def space_list(space: Any) -> tuple:
    """``space=`` as a tuple of spaces: one space, or a list of them searched together."""
    spaces = tuple(space) if isinstance(space, (list, tuple)) else (space,)
    if not spaces or not all(isinstance(s, (Box, Features, Categorical)) for s in spaces):
        raise TypeError(f"space must be a space from mla.spaces (box, features, categorical) or a list of them, "
                        f"got {space!r}")
    return spaces
