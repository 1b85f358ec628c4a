"""Typed builders of an audit's structured results, for the report's charts and tables.

An audit adds them with ``a.extra(...)``; each becomes plain JSON in the record's
``extras`` under its kind, which is what the HTML report draws from (as
pytest-html's ``extras`` module does for its report)::

    a.extra(Curve("Robust accuracy against eps", x_label="eps", y_label="accuracy",
                  series=[Series("FGSM", x=eps, y=acc, low=low, high=high)]))
    a.extra(Table("Per-group metrics", columns=["group", "recall"], rows=[["a", 0.9]]))

Kinds: ``curves``, ``points``, ``bars``, ``tables`` and ``published`` are lists (an
audit may add several); ``confusion_matrix`` is one per audit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from .records import json_tree


@dataclass(frozen=True)
class _Extra:
    kind: ClassVar[str]
    single: ClassVar[bool] = False

    def to_dict(self) -> dict[str, Any]:
        return json_tree(asdict(self), f"extras.{self.kind}")

    def add_to(self, extras: dict[str, Any]) -> None:
        """Put this result into a record's ``extras``."""
        if self.single:
            extras[self.kind] = self.to_dict()
        else:
            extras.setdefault(self.kind, []).append(self.to_dict())


@dataclass(frozen=True)
class Series:
    """One line of a curve: y (with its interval, when known) against x."""

    label: str
    x: list[float]
    y: list[float]
    low: list[float] | None = None
    high: list[float] | None = None


@dataclass(frozen=True)
class Curve(_Extra):
    """Metrics against a parameter (robustness against eps, accuracy against epsilon)."""

    kind: ClassVar[str] = "curves"
    title: str
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    x_scale: str = "linear"  # or "log"


@dataclass(frozen=True)
class Point:
    label: str
    x: float
    y: float


@dataclass(frozen=True)
class Points(_Extra):
    """A trade-off scatter (precision against recall per resampler)."""

    kind: ClassVar[str] = "points"
    title: str
    x_label: str
    y_label: str
    points: list[Point] = field(default_factory=list)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Bars(_Extra):
    """One metric per group, with intervals (per-group fairness metrics)."""

    kind: ClassVar[str] = "bars"
    title: str
    metric: str
    bars: list[Bar] = field(default_factory=list)


@dataclass(frozen=True)
class ConfusionMatrix(_Extra):
    """Counts, rows the true class, columns the predicted class."""

    kind: ClassVar[str] = "confusion_matrix"
    single: ClassVar[bool] = True
    labels: list[str]
    matrix: list[list[int]]


@dataclass(frozen=True)
class Table(_Extra):
    """A table of cells (text or numbers)."""

    kind: ClassVar[str] = "tables"
    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class Published(_Extra):
    """A study's published number beside ours."""

    kind: ClassVar[str] = "published"
    metric: str
    ours: float
    published: float
    source: str
    note: str = ""
