"""Run state: the settings of a run, the test being audited, the records collected.

The plugin creates one :class:`AuditSession` per pytest run and opens a
:class:`TestAudit` around each test. Audit functions find the open one through
:func:`current_test`, so that ``mla.robustness(...)`` called inside a test records
into it exactly like ``mlaudit.robustness(...)`` does. Outside pytest there is no
open test: the functions measure and return, with :data:`DEFAULT_SETTINGS`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .records import AuditRecord
from .regression import Baseline, Comparison
from .stats import POLICIES
from .verdict import RunFacts

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Settings:
    """The run-wide knobs of the spec (each an option and an ini key)."""

    seed: int = 0
    confidence: float = 0.95
    policy: str = "estimate"
    device: str = "auto"
    data_dir: Path | None = None
    report_path: Path | None = None
    json_path: Path | None = None
    requirements_path: Path | None = None  # JSON/TOML override of the requirement mapping
    # regression gates: the loaded --mlaudit-baseline and how a change fails its test
    baseline: Baseline | None = field(default=None, compare=False)
    regression_tolerance: float = 0.0
    regression_policy: str = "upper"
    fail_on_regression: bool = True
    markdown_path: Path | None = None
    shard: tuple[int, int] | None = None  # (i, k): audits that support it measure the i-th of k row blocks

    def __post_init__(self) -> None:
        if self.shard is not None:
            object.__setattr__(self, "shard", parse_shard(self.shard))
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not (0.0 < self.confidence < 1.0):
            raise ValueError(f"confidence must be strictly between 0 and 1, got {self.confidence!r}")
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if not (math.isfinite(self.regression_tolerance) and self.regression_tolerance >= 0):
            raise ValueError(f"regression tolerance must be a non-negative number, got {self.regression_tolerance!r}")
        if self.regression_policy not in POLICIES:
            raise ValueError(f"regression policy must be one of {', '.join(POLICIES)}, got {self.regression_policy!r}")


def parse_shard(shard: Any) -> tuple[int, int]:
    """A shard ``(i, k)`` or ``"i/k"``, i from 1 to k as in pytest-split; ValueError otherwise."""
    if isinstance(shard, str):
        parts = shard.split("/")
        if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
            raise ValueError(f"shard must be 'i/k' (e.g. 2/4), got {shard!r}")
        shard = tuple(int(part) for part in parts)
    if (not isinstance(shard, (tuple, list)) or len(shard) != 2
            or not all(isinstance(part, int) and not isinstance(part, bool) for part in shard)):
        raise ValueError(f"shard must be a pair (i, k) of integers, got {shard!r}")
    index, count = shard
    if not 1 <= index <= count:
        raise ValueError(f"shard (i, k) needs 1 <= i <= k, got ({index}, {count})")
    return int(index), int(count)


DEFAULT_SETTINGS = Settings()


def derive_seed(*parts: object) -> int:
    """A stable 32-bit seed from the run seed and names (independent of process and order)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "little")


@dataclass
class TestAudit:
    """The test being run: where its records go and what they inherit."""

    nodeid: str
    settings: Settings
    location: tuple[str, int] = ("", 0)
    requirements: list[str] = field(default_factory=list)
    marker_params: dict[str, Any] = field(default_factory=dict)
    records: list[AuditRecord] = field(default_factory=list)
    on_record: Callable[[AuditRecord], None] | None = None
    # the exceptions the audits of this test raised, to tell them from a failure outside the audits
    audit_exceptions: list[BaseException] = field(default_factory=list)
    exception_records: dict[int, int] = field(default_factory=dict)  # id(exception) -> record index

    def seed_for(self, name: str) -> int:
        """The seed of the n-th random procedure of this test: same in serial and xdist runs."""
        return derive_seed(current_settings().seed, self.nodeid, len(self.records), name)

    def add(self, record: AuditRecord) -> None:
        """Take a finished audit's record: made JSON-safe (or an error audit naming the bad field)."""
        record.nodeid = self.nodeid
        record.index = len(self.records)
        record.location = self.location
        for requirement in self.requirements:
            if requirement not in record.requirements:
                record.requirements.append(requirement)
        record = record.made_jsonable()
        self.records.append(record)
        if self.on_record is not None:
            self.on_record(record)

    def raised(self, exc: BaseException) -> None:
        """Note that the latest record's audit raised ``exc`` (a missed gate or an error)."""
        self.audit_exceptions.append(exc)
        self.exception_records[id(exc)] = len(self.records) - 1


_current: ContextVar[TestAudit | None] = ContextVar("mlaudit_current_test", default=None)
_overridden: ContextVar[Settings | None] = ContextVar("mlaudit_settings", default=None)
_session_settings: ContextVar[Settings | None] = ContextVar("mlaudit_session_settings", default=None)


def current_test() -> TestAudit | None:
    return _current.get()


def current_settings() -> Settings:
    """The settings in force: ``mla.settings(...)``, else the running test's, else the session's, else defaults."""
    overridden = _overridden.get()
    if overridden is not None:
        return overridden
    test = _current.get()
    if test is not None:
        return test.settings
    return _session_settings.get() or DEFAULT_SETTINGS


@contextmanager
def override_settings(settings: Settings) -> Iterator[None]:
    token = _overridden.set(settings)
    try:
        yield
    finally:
        _overridden.reset(token)


def enter_session(settings: Settings) -> object:
    """Start a pytest session's scope: no test is open, its settings apply (nested pytester runs stack)."""
    return (_current.set(None), _session_settings.set(settings))


def leave_session(token: object) -> None:
    current, session_settings = token  # type: ignore[misc]
    _session_settings.reset(session_settings)
    _current.reset(current)


def open_test(test: TestAudit) -> object:
    """Make ``test`` the current one; returns a token for :func:`close_test`."""
    return _current.set(test)


def close_test(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


@dataclass
class AuditSession:
    """Everything a run collected, assembled on the controller (or the only process)."""

    settings: Settings
    records: list[AuditRecord] = field(default_factory=list)
    run: RunFacts = field(default_factory=RunFacts)
    written: dict[str, Path] = field(default_factory=dict)  # report kind -> path, once written
    comparison: Comparison | None = None  # against --mlaudit-baseline, once the run is over

    def add_records(self, records: list[AuditRecord], test_outcome: str | None = None) -> None:
        for record in records:
            if test_outcome is not None:
                record.test_outcome = test_outcome
            self.records.append(record)

    def sorted_records(self) -> list[AuditRecord]:
        return sorted(self.records, key=AuditRecord.sort_key)


_hook: Any = None


def install_hook(hook: Any) -> Any:
    """Let audit functions call other plugins' ``pytest_mlaudit_*`` hooks; returns the relay it replaced."""
    global _hook
    previous, _hook = _hook, hook
    return previous


def plugin_hook() -> Any:
    """The pytest hook relay of the running session, or None outside pytest."""
    return _hook
