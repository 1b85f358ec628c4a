"""The credit-card fraud data in the Kaggle ``creditcard.csv`` layout (ULB / Worldline).

Columns Time, V1..V28, Amount, Class (1 = fraud); a leading unnamed index column, as
in the real subset kept in ``shared/data/creditcard``, is recognised and dropped.
Dal Pozzolo et al., "Calibrating Probability with Undersampling for Unbalanced
Classification", CIDM 2015.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FEATURES = ("Time", *(f"V{i}" for i in range(1, 29)), "Amount")
LABEL = "Class"


@dataclass(frozen=True)
class TabularData:
    """Features, binary labels and their names; ``source`` says where they came from."""

    X: Any
    y: Any
    feature_names: tuple[str, ...]
    source: str


def load_creditcard(path: str | Path) -> TabularData:
    """Read a CSV in the Kaggle layout; refuses files whose columns do not match it."""
    import numpy as np

    path = Path(path)
    with open(path, newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path} is empty")
        header = [name.strip().strip('"') for name in header]
        offset = 1 if header and header[0] in ("", "Unnamed: 0") else 0
        expected = [*FEATURES, LABEL]
        if header[offset:] != expected:
            raise ValueError(f"{path} does not have the Kaggle creditcard.csv columns {', '.join(expected)}")
        rows = [row[offset:] for row in reader if row]
    table = np.array([[float(value.strip('"')) for value in row] for row in rows], dtype=np.float64)
    labels = table[:, -1]
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError(f"{path}: column Class must hold 0 and 1")
    return TabularData(X=table[:, :-1], y=labels.astype(np.int64), feature_names=FEATURES, source=str(path))
