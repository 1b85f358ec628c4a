"""Plain data for audit results: estimates, gates, checks and one record per audit call.

Everything here is a dataclass of JSON-native values so that a record made on an
xdist worker can travel on the test report, and the JSON report can be read back to
re-render the HTML. This module imports nothing heavier than the standard library.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import PurePath
from typing import Any

SCHEMA = "pytest-mlaudit/1"

OUTCOMES = ("passed", "failed", "error")

# Strict JSON has no NaN or infinities: a non-finite float is written as one of these strings.
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
MAX_ARRAY_ITEMS = 10_000


def non_finite_name(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def number_to_json(value: float) -> float | str:
    """A float for strict JSON: itself when finite, else "NaN", "Infinity" or "-Infinity"."""
    return value if math.isfinite(value) else non_finite_name(value)


def number_from_json(value: Any) -> Any:
    """The inverse of :func:`number_to_json` (other values pass through)."""
    return NON_FINITE.get(value, value) if isinstance(value, str) else value


def jsonable(value: Any) -> Any:
    """``value`` as a JSON-native scalar, for describing a model's parameters.

    None, booleans, integers, finite floats and strings stay as they are; numpy (or
    torch) scalars become their Python value; NaN and infinities become "NaN",
    "Infinity" or "-Infinity"; anything else (an estimator, a callable) becomes its
    repr, cut at 200 characters, which is what a reader of a model card needs.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return number_to_json(value)
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:
        return jsonable(item())
    return repr(value)[:200]


class UnrecordableValue(TypeError):
    """A value put in a record that has no JSON form; the message names the field."""


def json_tree(value: Any, where: str) -> Any:
    """``value`` converted to JSON types, for any field of a record (params, extras, requirements...).

    numpy scalars and strings become Python values, arrays and tuples lists, paths
    strings, non-finite floats "NaN"/"Infinity"/"-Infinity", mapping keys strings.
    Anything else raises :class:`UnrecordableValue` naming ``where`` (the field).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)  # a numpy string is a str subclass, which execnet cannot send
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return number_to_json(float(value))
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, dict):
        return {_json_key(key, where): json_tree(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_tree(item, f"{where}[{i}]") for i, item in enumerate(value)]
    kind = type(value).__module__.split(".")[0]
    if kind in ("numpy", "torch"):
        ndim = getattr(value, "ndim", None)
        if ndim == 0:
            return json_tree(value.item(), where)
        size = getattr(value, "size", None)
        size = size() if callable(size) else size
        if ndim is not None and hasattr(value, "tolist"):
            if int(getattr(value, "numel", lambda: size)()) > MAX_ARRAY_ITEMS:
                raise UnrecordableValue(f"{where}: an array of {size} items is too large to record "
                                        f"(at most {MAX_ARRAY_ITEMS}); record a summary of it")
            return json_tree(value.tolist(), where)
    raise UnrecordableValue(f"{where}: a {type(value).__module__}.{type(value).__qualname__} has no JSON form; "
                            "record numbers, strings, lists or dicts of them")


def _json_key(key: Any, where: str) -> str:
    if isinstance(key, str):
        return str(key)
    if isinstance(key, (bool, int, float)) or type(key).__module__.split(".")[0] == "numpy":
        converted = json_tree(key, where)
        return converted if isinstance(converted, str) else json.dumps(converted)
    raise UnrecordableValue(f"{where}: a key of type {type(key).__name__} ({key!r:.60}) has no JSON form")


@dataclass(frozen=True)
class Estimate:
    """A measured quantity with its confidence interval.

    ``n`` is the number of independent units the estimate rests on (samples for a
    proportion, seeds for a mean over DP runs); ``method`` names the interval.
    ``counts`` are the counts the estimate is computed from, when it is (``(successes,
    n)`` of a proportion, the four cells of a paired difference, ...): the runs of
    data shards add them up and recompute the interval exactly (see
    :mod:`pytest_mlaudit.report.shards`). None for statistics that counts do not
    determine (bootstrap, AUC, quantiles of runs).
    """

    value: float
    low: float
    high: float
    n: int
    method: str = "wilson"
    confidence: float = 0.95
    counts: tuple[int, ...] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("value", "low", "high"):
            number = getattr(self, name)
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
                raise ValueError(f"Estimate.{name} must be a finite number, got {number!r}")
        if not self.low <= self.value <= self.high:
            raise ValueError(
                f"Estimate interval [{self.low}, {self.high}] does not contain its value {self.value}"
            )

    def __str__(self) -> str:
        return f"{self.value:.4f} [{self.low:.4f}, {self.high:.4f}] (n={self.n})"

    def to_dict(self) -> dict[str, Any]:
        data = {**asdict(self), **{name: number_to_json(getattr(self, name)) for name in ("value", "low", "high")}}
        if self.counts is None:
            del data["counts"]
        else:
            data["counts"] = list(self.counts)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Estimate:
        values = {f.name: number_from_json(data[f.name]) for f in fields(cls) if f.name in data}
        if values.get("counts") is not None:
            values["counts"] = tuple(values["counts"])
        return cls(**values)


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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["requirements"] = list(self.requirements)
        return {**data, **{name: number_to_json(getattr(self, name)) for name in ("threshold", "value", "low", "high")}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Gate:
        values = {f.name: number_from_json(data[f.name]) for f in fields(cls) if f.name in data}
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

    ``samples`` holds per-sample outcomes of metrics that are proportions over samples
    (``{metric: {"n", "k", "bits", "encoding", "bytes", "bound"}}``, bits packed as
    base64; see :func:`pytest_mlaudit.regression.pack_outcomes`), for paired
    comparisons with a baseline run.
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
    # the pytest side: the outcome of the test the audit ran in, and whether the test
    # itself caught this audit's failure (pytest.raises, a try block, xfail), so that
    # it does not count against the run
    test_outcome: str | None = None
    handled: bool = False
    samples: dict[str, Any] = field(default_factory=dict)

    @property
    def counts_as_failure(self) -> bool:
        """A failed or errored audit that the test did not catch."""
        return self.outcome in ("failed", "error") and not self.handled

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = {name: estimate.to_dict() for name, estimate in self.metrics.items()}
        data["gates"] = [gate.to_dict() for gate in self.gates]
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

    def made_jsonable(self) -> AuditRecord:
        """This record with every free-form field in JSON types; an error audit naming the field when one has none.

        Runs when a record is taken, so that a record always serializes: into the
        JSON report, and onto the test report an xdist worker sends.
        """
        try:
            converted = {name: json_tree(getattr(self, name), name)
                         for name in ("model", "params", "data", "extras", "requirements")}
            checks = [Check(json_tree(c.name, "checks.name"), bool(c.passed), json_tree(c.detail, "checks.detail"))
                      for c in self.checks]
        except UnrecordableValue as exc:
            return replace(self, model={}, params={}, data={}, extras={}, metrics={}, gates=[], checks=[], samples={},
                           requirements=[r for r in self.requirements if isinstance(r, str)],
                           outcome="error", error=f"the audit recorded a value that has no JSON form: {exc}")
        return replace(self, checks=checks, **converted)

    def sort_key(self) -> tuple[str, int, str, int]:
        return (self.location[0], self.location[1], self.nodeid, self.index)
