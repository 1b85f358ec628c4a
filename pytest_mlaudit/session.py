"""Run state: the settings of a run, the test being audited, the records collected.

The plugin creates one :class:`AuditSession` per pytest run and opens a
:class:`TestAudit` around each test. Audit functions find the open one through
:func:`current_test`, so that ``mla.robustness(...)`` called inside a test records
into it exactly like ``mlaudit.robustness(...)`` does. Outside pytest there is no
open test: the functions measure and return, with :data:`DEFAULT_SETTINGS`.
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .records import AuditRecord
from .stats import POLICIES

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

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not (0.0 < self.confidence < 1.0):
            raise ValueError(f"confidence must be strictly between 0 and 1, got {self.confidence!r}")
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")


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

    def seed_for(self, name: str) -> int:
        """The seed of the n-th random procedure of this test: same in serial and xdist runs."""
        return derive_seed(self.settings.seed, self.nodeid, len(self.records), name)

    def add(self, record: AuditRecord) -> None:
        record.nodeid = self.nodeid
        record.index = len(self.records)
        record.location = self.location
        for requirement in self.requirements:
            if requirement not in record.requirements:
                record.requirements.append(requirement)
        self.records.append(record)
        if self.on_record is not None:
            self.on_record(record)


_current: ContextVar[TestAudit | None] = ContextVar("mlaudit_current_test", default=None)


def current_test() -> TestAudit | None:
    return _current.get()


def current_settings() -> Settings:
    test = _current.get()
    return test.settings if test is not None else DEFAULT_SETTINGS


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
    written: dict[str, Path] = field(default_factory=dict)  # report kind -> path, once written

    def add_records(self, records: list[AuditRecord]) -> None:
        self.records.extend(records)

    def sorted_records(self) -> list[AuditRecord]:
        return sorted(self.records, key=AuditRecord.sort_key)


_hook: Any = None


def install_hook(hook: Any) -> None:
    """Let audit functions call other plugins' ``pytest_mlaudit_*`` hooks (None to detach)."""
    global _hook
    _hook = hook


def plugin_hook() -> Any:
    """The pytest hook relay of the running session, or None outside pytest."""
    return _hook
