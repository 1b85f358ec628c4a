"""Per-group confusion counts: every figure of a fairness audit is computed from them.

The counts (true and false positives and negatives of each intersection group of the
sensitive features) are accumulated a chunk of rows at a time from group codes and
``np.bincount``, so the memory of an audit after the predictions is that of the
groups, not of the rows, and a table read in chunks (``pd.read_csv(...,
chunksize=...)``) or cut into data shards gives the same counts by addition. The
measurement does not go through fairlearn's ``MetricFrame``: the frame copies the
labels, predictions and groups into pandas objects and one sub-frame per group
(about 460 MB of peak memory above the data at 1M rows). fairlearn stays the
independent cross-check of these counts in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import validation

CHUNK_ROWS = 65_536  # rows counted at a time: bounds the per-row temporaries of an in-memory audit
TP, FP, FN, TN = range(4)


def sensitive_columns(value: Any, n_samples: int | None, name: str = "sensitive_features") -> dict[str, Any]:
    """The sensitive features as named 1-D columns (numpy arrays or pandas Series, not copied).

    Accepts what :func:`pytest_mlaudit.validation.sensitive_features` accepts (a Series,
    a DataFrame, a dict of columns, a 1-D or 2-D array) and refuses the same defects
    with the same errors, without building a frame of strings: group labels become
    text only once per distinct value, when counted. ``n_samples`` None skips the row
    count check (a chunk whose length is checked by the caller).
    """
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        columns = {str(column): value.iloc[:, i] for i, column in enumerate(value.columns)}
    elif isinstance(value, pd.Series):
        columns = {str(value.name) if value.name is not None else "sensitive_feature": value}
    elif isinstance(value, dict):
        lengths = {key: len(column) for key, column in value.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"{name} columns differ in length: {lengths}")
        columns = {str(key): validation._keeping_types(column) for key, column in value.items()}
    else:
        if value is None or isinstance(value, (str, bytes)):
            raise TypeError(f"{name} must be an array, a pandas Series/DataFrame or a dict of columns, got {value!r}")
        array = validation._keeping_types(value)
        if array.ndim == 1:
            columns = {"sensitive_feature": array}
        elif array.ndim == 2:
            columns = {f"sensitive_feature_{i}": array[:, i] for i in range(array.shape[1])}
        else:
            raise ValueError(f"{name} must be 1-D (one feature) or 2-D (one column per feature), got shape {array.shape}")
    if not columns:
        raise ValueError(f"{name} has no columns")
    rows = len(next(iter(columns.values())))
    if n_samples is not None and rows != n_samples:
        raise ValueError(f"{name} has {rows} rows but X has {n_samples} samples")
    return columns


def rows_of(column: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of a column or table by position (numpy array, Series or DataFrame)."""
    return column.iloc[start:stop] if hasattr(column, "iloc") else column[start:stop]


@dataclass(frozen=True)
class CountTable:
    """Confusion counts (tp, fp, fn, tn) per group of ``columns``, groups sorted by their labels."""

    columns: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]
    counts: Any  # int64 array (groups, 4)

    def by(self, columns: tuple[str, ...]) -> CountTable:
        """The counts of the groups of some of the columns: sums over the others."""
        positions = [self.columns.index(column) for column in columns]
        pooled: dict[tuple[str, ...], Any] = {}
        for key, row in zip(self.groups, self.counts):
            part = tuple(key[p] for p in positions)
            pooled[part] = pooled.get(part, 0) + row
        return table_of(columns, pooled)

    def to_json(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "groups": [list(g) for g in self.groups],
                "counts": self.counts.tolist()}


def table_of(columns: tuple[str, ...], counts: dict[tuple[str, ...], Any]) -> CountTable:
    groups = tuple(sorted(counts))
    array = np.array([counts[g] for g in groups], dtype=np.int64).reshape(len(groups), 4)
    return CountTable(tuple(columns), groups, array)


def table_from_json(described: dict[str, Any]) -> CountTable:
    counts = {tuple(str(label) for label in group): np.asarray(row, dtype=np.int64)
              for group, row in zip(described["groups"], described["counts"])}
    return table_of(tuple(described["columns"]), counts)


def pooled_tables(tables: list[CountTable]) -> CountTable:
    """The counts of data made of the tables' disjoint parts: added group by group."""
    columns = tables[0].columns
    pooled: dict[tuple[str, ...], Any] = {}
    for table in tables:
        if table.columns != columns:
            raise ValueError(f"count tables of different sensitive features: {list(table.columns)} and {list(columns)}")
        for key, row in zip(table.groups, table.counts):
            pooled[key] = pooled.get(key, 0) + row
    return table_of(columns, pooled)


class GroupCounter:
    """Accumulates confusion counts per intersection group, a chunk of rows at a time.

    Each column's labels get an id the first time they are seen (as text, as the report
    shows them); a chunk's rows are coded by the ids of their groups and counted with
    ``np.bincount``. Memory is the chunk's plus the table of groups.
    """

    def __init__(self, columns: list[str], name: str = "sensitive_features"):
        self.columns = tuple(columns)
        self.name = name
        self._ids: list[dict[str, int]] = [{} for _ in columns]
        self._types: list[dict[str, set[str]]] = [{} for _ in columns]
        self._counts: dict[tuple[int, ...], Any] = {}
        self.n = 0

    def add(self, columns: list[Any], positive: Any, predicted: Any) -> None:
        """Count rows: their group columns (1-D, one per sensitive feature), true and predicted classes (bool)."""
        cell = (3 - positive.astype(np.int8) - 2 * predicted.astype(np.int8)).astype(np.intp)  # tp 0, fp 1, fn 2, tn 3
        code = np.zeros(len(cell), dtype=np.int64)
        for j, values in enumerate(columns):
            ids = self.column_ids(j, values)
            code = code * len(self._ids[j]) + ids  # mixed radix over the labels known so far
        radices = [len(ids) for ids in self._ids]
        if float(np.prod(radices, dtype=np.float64)) >= 2.0 ** 62:
            raise ValueError(f"{self.name} has too many combinations of groups to count: {radices}")
        present, inverse = np.unique(code, return_inverse=True)
        counts = np.bincount(inverse.ravel() * 4 + cell, minlength=4 * len(present)).reshape(-1, 4)
        for combined, row in zip(present.tolist(), counts):
            key = []
            for radix in reversed(radices):
                combined, digit = divmod(combined, radix)
                key.append(digit)
            key = tuple(reversed(key))
            self._counts[key] = self._counts.get(key, 0) + row
        self.n += len(cell)

    def column_ids(self, j: int, values: Any) -> Any:
        """The ids of one chunk of column ``j``'s labels; refuses missing and type-merged labels."""
        import pandas as pd

        column = self.columns[j]
        codes, uniques = pd.factorize(values)
        missing = int(np.count_nonzero(codes < 0))
        if missing:
            raise ValueError(f"{self.name} column {column!r} has {missing} missing values (NaN or None): "
                             f"give every sample a group (e.g. 'unknown')")
        uniques = np.asarray(uniques)
        ids, types = self._ids[j], self._types[j]
        mapping = np.empty(len(uniques), dtype=np.int64)
        for position, value in enumerate(uniques.tolist() if uniques.dtype != object else uniques):
            text = str(value)
            if uniques.dtype == object:
                types.setdefault(text, set()).add(type(value).__name__)
            mapping[position] = ids.setdefault(text, len(ids))
        merged = {text: sorted(names) for text, names in types.items() if len(names) > 1}
        if merged:
            shown = "; ".join(f"{text!r} as {', '.join(names)}" for text, names in list(merged.items())[:5])
            raise ValueError(f"{self.name} column {column!r} mixes label types that read the same ({shown}): they "
                             f"would be merged into one group; give the column one type (e.g. .astype(str) if "
                             f"they are one group)")
        return mapping[codes]

    def check_groups(self) -> None:
        """Every column needs at least two groups for a comparison."""
        for column, ids in zip(self.columns, self._ids):
            if len(ids) < 2:
                raise ValueError(f"{self.name} column {column!r} has a single group ({next(iter(ids), '')!r}): "
                                 f"a fairness audit compares at least two groups")

    def table(self) -> CountTable:
        labels = [list(ids) for ids in self._ids]  # dicts keep insertion order: position = id
        named = {tuple(labels[j][i] for j, i in enumerate(key)): row for key, row in self._counts.items()}
        return table_of(self.columns, named)


def count_rows(columns: dict[str, Any], positive: Any, predicted: Any, name: str = "sensitive_features") -> CountTable:
    """The confusion counts of in-memory rows, counted in chunks of :data:`CHUNK_ROWS`."""
    counter = GroupCounter(list(columns), name)
    for start in range(0, len(positive), CHUNK_ROWS):
        stop = start + CHUNK_ROWS
        counter.add([rows_of(c, start, stop) for c in columns.values()], positive[start:stop], predicted[start:stop])
    counter.check_groups()
    return counter.table()


def check_columns(columns: dict[str, Any], name: str = "sensitive_features") -> None:
    """The checks of :func:`count_rows` on the group columns alone (before a model is asked to predict)."""
    import pandas as pd

    counter = GroupCounter(list(columns), name)
    for j, (column, values) in enumerate(columns.items()):
        missing = int(np.count_nonzero(pd.isna(values)))
        if missing:  # counted over the whole column, not the first chunk holding some
            raise ValueError(f"{name} column {column!r} has {missing} missing values (NaN or None): "
                             f"give every sample a group (e.g. 'unknown')")
        for start in range(0, len(values), CHUNK_ROWS):
            counter.column_ids(j, rows_of(values, start, start + CHUNK_ROWS))
    counter.check_groups()
