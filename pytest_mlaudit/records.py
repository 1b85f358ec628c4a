"""Plain data for audit results: estimates, gates, checks and one record per audit call.

Everything here is a dataclass of JSON-native values so that a record made on an
xdist worker can travel on the test report, and the JSON report can be read back to
re-render the HTML. This module imports nothing heavier than the standard library.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

SCHEMA = "pytest-mlaudit/1"

OUTCOMES = ("passed", "failed", "error")


def jsonable(value: Any) -> Any:
    """``value`` as a JSON-native scalar, for a record's params or model card.

    None, booleans, integers, finite floats and strings stay as they are; numpy (or
    torch) scalars become their Python value; NaN and infinities (JSON has neither)
    and anything else become their repr, cut at 200 characters.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:
        return jsonable(item())
    return repr(value)[:200]


@dataclass(frozen=True)
class Estimate:
    """A measured quantity with its confidence interval.

    ``n`` is the number of independent units the estimate rests on (samples for a
    proportion, seeds for a mean over DP runs); ``method`` names the interval.
    """

    value: float
    low: float
    high: float
    n: int
    method: str = "wilson"
    confidence: float = 0.95

    def __post_init__(self) -> None:
        for name in ("value", "low", "high"):
            number = getattr(self, name)
            if not isinstance(number, (int, float)) or math.isnan(number):
                raise ValueError(f"Estimate.{name} must be a number, got {number!r}")
        if not self.low <= self.value <= self.high:
            raise ValueError(
                f"Estimate interval [{self.low}, {self.high}] does not contain its value {self.value}"
            )

    def __str__(self) -> str:
        return f"{self.value:.4f} [{self.low:.4f}, {self.high:.4f}] (n={self.n})"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Estimate:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass(frozen=True)
class Gate:
    """One requirement on one metric, and whether the measurement met it."""

    metric: str
    op: str  # ">=" (at_least) or "<=" (at_most)
    threshold: float
    value: float
    low: float
    high: float
    policy: str
    passed: bool
    requirements: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Gate:
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        values["requirements"] = tuple(values.get("requirements", ()))
        return cls(**values)


@dataclass(frozen=True)
class Check:
    """A sanity check of the evaluation itself (e.g. gradients are not masked)."""

    name: str
    passed: bool
    detail: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


class SanityChecked:
    """Mixin for results with a ``checks`` list: suspect when any sanity check failed."""

    @property
    def suspect(self) -> bool:
        """True when a sanity check failed: the numbers may not mean what they say."""
        return any(not check.passed for check in self.checks)


@dataclass
class AuditRecord(SanityChecked):
    """Everything one audit call measured, asserted and checked.

    ``model`` describes the model (name, kind, parameter count, fingerprint),
    ``params`` the threat model and settings, ``data`` the data fingerprint;
    ``extras`` carries structured results for the report's charts and tables, as
    JSON-native values under these keys (each optional):

    - ``"curves"``: ``[{"title", "x_label", "y_label", "series": [{"label", "x": [...],
      "y": [...], "low": [...], "high": [...]}]}]`` (robustness and privacy-utility curves);
    - ``"points"``: ``[{"title", "x_label", "y_label", "points": [{"label", "x", "y"}]}]``
      (trade-off scatter, e.g. precision against recall per sampler);
    - ``"bars"``: ``[{"title", "metric", "bars": [{"label", "value", "low", "high"}]}]``
      (per-group fairness metrics);
    - ``"confusion_matrix"``: ``{"labels": [...], "matrix": [[...]]}`` (rows: true class);
    - ``"tables"``: ``[{"title", "columns": [...], "rows": [[...]]}]``;
    - ``"published"``: ``[{"metric", "ours", "published", "source", "note"}]``, a study's
      published numbers beside ours.
    """

    nodeid: str
    category: str
    name: str
    outcome: str = "passed"
    model: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Estimate] = field(default_factory=dict)
    gates: list[Gate] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    requirements: list[str] = field(default_factory=list)
    error: str | None = None
    duration_s: float = 0.0
    index: int = 0  # position among the records of the same test
    location: tuple[str, int] = ("", 0)  # test file and line, for a stable report order

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["location"] = list(self.location)
        data["suspect"] = self.suspect
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditRecord:
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        values["metrics"] = {k: Estimate.from_dict(v) for k, v in data.get("metrics", {}).items()}
        values["gates"] = [Gate.from_dict(g) for g in data.get("gates", [])]
        values["checks"] = [Check.from_dict(c) for c in data.get("checks", [])]
        values["location"] = tuple(data.get("location", ("", 0)))
        return cls(**values)

    def sort_key(self) -> tuple[str, int, str, int]:
        return (self.location[0], self.location[1], self.nodeid, self.index)
