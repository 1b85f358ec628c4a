"""The rows an audit searches: features as a numpy array (any sample shape) or a pandas DataFrame,
seen column by column, and the model's predicted labels for them.

A search changes a few values of one sample at a time; :class:`Table` turns such a
change back into the model's own input type (a one-row DataFrame, or an array of the
sample's shape) so that any classifier is called as it expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import validation


def is_dataframe(X: Any) -> bool:
    return type(X).__module__.split(".")[0] == "pandas" and hasattr(X, "iloc") and hasattr(X, "columns")


@dataclass(frozen=True)
class Table:
    """Features with named columns: ``columns[j]`` names the j-th value of a flattened sample."""

    X: Any  # numpy array (n, ...) or pandas DataFrame
    columns: tuple[str, ...]
    numeric: np.ndarray  # bool per column: numbers (searchable by boxes and bisection)
    low: np.ndarray  # per column, the domain's lower bound (NaN for a non-numeric column)
    high: np.ndarray

    @property
    def n(self) -> int:
        return len(self.X)

    def values(self, i: int) -> np.ndarray:
        """Sample ``i`` as a 1-D array of its column values (object dtype for a mixed DataFrame)."""
        if is_dataframe(self.X):
            return self.X.iloc[i].to_numpy()
        return np.asarray(self.X[i]).reshape(-1)

    def column_values(self, j: int) -> np.ndarray:
        if is_dataframe(self.X):
            return self.X.iloc[:, j].to_numpy()
        return np.asarray(self.X).reshape(self.n, -1)[:, j]

    def with_changes(self, i: int, changes: dict[int, Any]):
        """Sample ``i`` with ``changes`` (column index -> value), as a one-row model input."""
        if is_dataframe(self.X):
            row = self.X.iloc[[i]].copy()
            for j, value in changes.items():
                row.iloc[0, j] = value
            return row
        flat = np.array(self.X[i], copy=True).reshape(-1)
        for j, value in changes.items():
            flat[j] = value
        return flat.reshape((1, *np.shape(self.X)[1:]))

    def rows(self, indices) -> Any:
        if is_dataframe(self.X):
            return self.X.iloc[list(indices)]
        return np.asarray(self.X)[list(indices)]


def table(X: Any, *, name: str = "X", feature_names=None, domain=None) -> Table:
    """``X`` checked and described column by column; ``domain`` is ``(low, high)``, scalars or per column.

    Without a domain, each numeric column's domain is the range observed in ``X``.
    """
    if is_dataframe(X):
        if len(X) == 0:
            raise ValueError(f"{name} is empty: it has no samples")
        columns = tuple(str(c) for c in X.columns)
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        numeric = np.array([is_numeric_dtype(dtype) and not is_bool_dtype(dtype) for dtype in X.dtypes], dtype=bool)
        for j in np.flatnonzero(numeric):
            column = X.iloc[:, j].to_numpy(dtype=np.float64)
            if not np.all(np.isfinite(column)):
                raise ValueError(f"{name} column {columns[j]!r} holds NaN or infinite values")
        data = X
    else:
        data = validation.features(X, name)
        d = int(np.prod(data.shape[1:]))
        if feature_names is not None:
            columns = tuple(str(c) for c in feature_names)
            if len(columns) != d:
                raise ValueError(f"feature_names has {len(columns)} names but {name} has {d} features per sample")
        else:
            columns = tuple(f"x[{j}]" for j in range(d))
        numeric = np.ones(d, dtype=bool)
    low, high = _domain(data, numeric, columns, domain, name)
    return Table(X=data, columns=columns, numeric=numeric, low=low, high=high)


def _domain(data, numeric, columns, domain, name):
    d = len(columns)
    low, high = np.full(d, np.nan), np.full(d, np.nan)
    flat = None if is_dataframe(data) else np.asarray(data, dtype=np.float64).reshape(len(data), -1)
    for j in np.flatnonzero(numeric):
        column = flat[:, j] if flat is not None else data.iloc[:, j].to_numpy(dtype=np.float64)
        low[j], high[j] = column.min(), column.max()
    if domain is None:
        return low, high
    lo, hi = validation.domain(domain, "domain")
    lo = np.broadcast_to(np.asarray(lo, dtype=np.float64).reshape(-1), (d,)) if np.size(lo) in (1, d) else None
    hi = np.broadcast_to(np.asarray(hi, dtype=np.float64).reshape(-1), (d,)) if np.size(hi) in (1, d) else None
    if lo is None or hi is None:
        raise ValueError(f"domain bounds must be scalars or one value per feature ({d})")
    outside = numeric & ((low < lo) | (high > hi))
    if outside.any():
        j = int(np.flatnonzero(outside)[0])
        raise ValueError(f"{name} column {columns[j]!r} holds values in [{low[j]:g}, {high[j]:g}], outside the "
                         f"domain [{lo[j]:g}, {hi[j]:g}]")
    return np.where(numeric, lo, np.nan), np.where(numeric, hi, np.nan)


def column_index(table: Table, key: Any, argument: str) -> int:
    """The index of a column named ``key`` (a name, or an integer position)."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if not 0 <= key < len(table.columns):
            raise ValueError(f"{argument}: column {key} is out of range: X has {len(table.columns)} features")
        return int(key)
    if key in table.columns:
        return table.columns.index(key)
    raise ValueError(f"{argument}: no column named {key!r}; columns: {', '.join(table.columns[:20])}"
                     f"{', ...' if len(table.columns) > 20 else ''}")


def predict_labels(model: Any, X: Any, name: str = "X") -> np.ndarray:
    """The model's predicted labels for ``X``: argmax of a torch module's logits, else ``model.predict``."""
    if _is_torch_module(model):
        import torch

        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        inputs = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                logits = torch.cat([model(batch) for batch in torch.split(inputs, 1024)])
        finally:
            model.train(was_training)
        if logits.ndim != 2:
            raise ValueError(f"model must return one row of class logits per sample, got output of shape "
                             f"{tuple(logits.shape)} for {name}")
        return logits.argmax(dim=1).cpu().numpy()
    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise TypeError(f"model must be a torch.nn.Module or a fitted classifier with a predict method, "
                        f"got {type(model).__name__}")
    try:
        predicted = np.asarray(predict(X))
    except Exception as exc:
        raise ValueError(f"model.predict({name}) failed: {type(exc).__name__}: {exc}") from exc
    if predicted.ndim == 2 and predicted.shape[1] == 1:
        predicted = predicted[:, 0]
    if predicted.ndim != 1 or predicted.shape[0] != len(X):
        raise ValueError(f"model.predict({name}) must return one label per sample ({len(X)}), got shape "
                         f"{predicted.shape}")
    return predicted


def _is_torch_module(model: Any) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)
