"""The pytest side of pytest-mlaudit: options, ini keys, marker, fixture, hooks, summary.

Data flows one way: audit functions record into the current test (on whichever
process runs it); records ride on the test reports; the controller assembles them,
writes the JSON and HTML reports at the end of the session and prints one line per
gate. Under pytest-xdist the same path is taken, with the reports serialized between.

This module is imported in every pytest run where the plugin is installed, so it
imports nothing heavy: the audits load torch, scikit-learn and friends when they run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from . import AUDIT_FUNCTIONS, hookspecs, progress
from .compliance import load_mapping
from .records import AuditRecord
from .session import AuditSession, Settings, TestAudit, close_test, install_hook, open_test

SESSION_KEY = pytest.StashKey[AuditSession]()
TEST_KEY = pytest.StashKey[TestAudit]()
REPORTED_KEY = pytest.StashKey[int]()
PROGRESS_KEY = pytest.StashKey[Any]()  # the progress writer this run replaced (an outer pytester run's)

# option name -> (ini key, type, default, help)
OPTIONS: dict[str, tuple[str, Any, Any, str]] = {
    "report": ("mlaudit_report", str, None, "write the HTML audit report to this path"),
    "json": ("mlaudit_json", str, None, "write the JSON audit report (schema pytest-mlaudit/1) to this path"),
    "seed": ("mlaudit_seed", int, 0, "run seed from which every random procedure of an audit derives its seed (default 0)"),
    "confidence": ("mlaudit_confidence", float, 0.95, "confidence level of the intervals (default 0.95)"),
    "policy": ("mlaudit_policy", str, "estimate", "default gate policy: estimate, lower (conservative) or upper (flake-proof)"),
    "data-dir": ("mlaudit_data_dir", str, None, "directory with the real data sets for the real-data tier"),
    "device": ("mlaudit_device", str, "auto", "device for torch models: auto, cpu or cuda (default auto)"),
    "requirements": ("mlaudit_requirements", str, None,
                     "JSON or TOML file overriding the report's requirement mapping (see pytest_mlaudit.compliance)"),
}


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mlaudit", "ML audits (pytest-mlaudit)")
    for option, (ini, _type, _default, help_text) in OPTIONS.items():
        group.addoption(f"--mlaudit-{option}", dest=ini, default=None, metavar=option.split("-")[0].upper(),
                        help=f"{help_text}; ini key {ini}")
        parser.addini(ini, help=help_text, default=None)


def read_settings(config: pytest.Config) -> Settings:
    """Settings from the command line, else the ini file, else the defaults; bad values are usage errors."""
    values: dict[str, Any] = {}
    for option, (ini, kind, default, _help) in OPTIONS.items():
        raw = config.getoption(ini)
        if raw is None:
            raw = config.getini(ini) or None
        if raw is None:
            values[ini] = default
            continue
        try:
            values[ini] = kind(raw)
        except ValueError:
            raise pytest.UsageError(f"--mlaudit-{option} (ini {ini}) must be {kind.__name__}, got {raw!r}") from None
    try:
        settings = Settings(
            seed=values["mlaudit_seed"],
            confidence=values["mlaudit_confidence"],
            policy=values["mlaudit_policy"],
            device=values["mlaudit_device"],
            data_dir=_resolve(config, "mlaudit_data_dir", values["mlaudit_data_dir"]),
            report_path=_resolve(config, "mlaudit_report", values["mlaudit_report"]),
            json_path=_resolve(config, "mlaudit_json", values["mlaudit_json"]),
            requirements_path=_resolve(config, "mlaudit_requirements", values["mlaudit_requirements"]),
        )
        load_mapping(settings.requirements_path)
    except ValueError as exc:
        raise pytest.UsageError(f"mlaudit: {exc}") from None
    if settings.data_dir is not None and not settings.data_dir.is_dir():
        raise pytest.UsageError(f"--mlaudit-data-dir: {settings.data_dir} is not a directory")
    return settings


def _resolve(config: pytest.Config, ini: str, value: str | None) -> Path | None:
    """Command-line paths are relative to the working directory, ini paths to the ini file's directory."""
    if value is None:
        return None
    if config.getoption(ini) is not None:
        return Path(value).absolute()
    return (Path(config.inipath).parent if config.inipath else Path(config.rootpath)) / value


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mlaudit(requirement=..., **params): tag the test's audit gates with requirements "
        "(e.g. 'EU-AI-Act-Art15') for the compliance mapping of the report",
    )
    config.stash[SESSION_KEY] = AuditSession(settings=read_settings(config))
    install_hook(config.hook)
    config.stash[PROGRESS_KEY] = progress.install(progress.terminal_writer(config))
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(ReportController(config), "mlaudit-report-controller")


def pytest_unconfigure(config: pytest.Config) -> None:
    install_hook(None)
    progress.install(config.stash.get(PROGRESS_KEY, None))


def _marker_requirements(item: pytest.Item) -> tuple[list[str], dict[str, Any]]:
    requirements: list[str] = []
    params: dict[str, Any] = {}
    for marker in item.iter_markers("mlaudit"):
        requirement = marker.kwargs.get("requirement", ())
        for req in [requirement] if isinstance(requirement, str) else list(requirement):
            if req not in requirements:
                requirements.append(req)
        params.update({k: v for k, v in marker.kwargs.items() if k != "requirement"})
    return requirements, params


def _uses_mlaudit(item: pytest.Item) -> bool:
    return "mlaudit" in getattr(item, "fixturenames", ()) or item.get_closest_marker("mlaudit") is not None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    session = item.config.stash[SESSION_KEY]
    requirements, params = _marker_requirements(item)
    path, line, _ = item.location
    test = TestAudit(nodeid=item.nodeid, settings=session.settings, location=(path, line or 0),
                     requirements=requirements, marker_params=params,
                     on_record=lambda record: _record_properties(item, record))
    item.stash[TEST_KEY] = test
    item.stash[REPORTED_KEY] = 0
    token = open_test(test)
    try:
        return (yield)
    finally:
        close_test(token)


def _record_properties(item: pytest.Item, record: AuditRecord) -> None:
    """Each gate also goes to record_property, so --junitxml carries it."""
    for gate in record.gates:
        verdict = "passed" if gate.passed else "failed"
        item.user_properties.append((
            f"mlaudit:{record.name}:{gate.metric}",
            f"{gate.value:.4f} [{gate.low:.4f}, {gate.high:.4f}] {gate.op} {gate.threshold:g} ({gate.policy}): {verdict}",
        ))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    test = item.stash.get(TEST_KEY, None)
    if test is None:
        return report
    if report.failed and report.when in ("setup", "call") and not test.records and _uses_mlaudit(item):
        test.add(_crash_record(test, report))
    reported = item.stash[REPORTED_KEY]
    report.mlaudit_records = [record.to_dict() for record in test.records[reported:]]
    item.stash[REPORTED_KEY] = len(test.records)
    return report


def _crash_record(test: TestAudit, report: pytest.TestReport) -> AuditRecord:
    """A test that failed before any audit recorded must still show in the report."""
    message = getattr(report.longrepr, "reprcrash", None)
    text = message.message if message is not None else str(report.longrepr).strip().splitlines()[-1:]
    return AuditRecord(nodeid=test.nodeid, category="test", name=f"test {report.when} failed", outcome="error",
                       error=str(text), params=dict(test.marker_params))


class ReportController:
    """Assembles the records on the controller (or the only process) and writes the reports.

    Registered only where reports are assembled: never on an xdist worker, whose
    records reach the controller on the serialized test reports.
    """

    def __init__(self, config: pytest.Config):
        self.config = config
        self.session = config.stash[SESSION_KEY]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        records = getattr(report, "mlaudit_records", None)
        if records:
            self.session.add_records([AuditRecord.from_dict(r) for r in records])

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        settings = self.session.settings
        if settings.report_path is None and settings.json_path is None:
            return
        from .report import write_reports

        self.session.written = write_reports(self.session, self.config.hook)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        records = self.session.sorted_records()
        if not records:
            return
        from .report.terminal import summary_lines

        terminalreporter.section("mlaudit")
        for line, failed in summary_lines(records):
            terminalreporter.write_line(line, red=failed, green=not failed)
        for kind, path in self.session.written.items():
            terminalreporter.write_line(f"mlaudit {kind} report: {path}")


@pytest.fixture
def mlaudit(request: pytest.FixtureRequest) -> AuditFixture:
    """The audit functions of ``pytest_mlaudit``, recording into this test, plus its settings."""
    return AuditFixture(request.node.stash[TEST_KEY], request.config.stash[SESSION_KEY].settings)


class AuditFixture:
    """What the ``mlaudit`` fixture gives a test: ``mlaudit.assert_robust_accuracy(...)`` etc."""

    def __init__(self, test: TestAudit, settings: Settings):
        self._test = test
        self.settings = settings

    def __getattr__(self, name: str) -> Any:
        if name in AUDIT_FUNCTIONS:
            import pytest_mlaudit

            return getattr(pytest_mlaudit, name)
        raise AttributeError(f"the mlaudit fixture has no attribute {name!r}; audit functions: {', '.join(AUDIT_FUNCTIONS)}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(AUDIT_FUNCTIONS))

    @property
    def records(self) -> list[AuditRecord]:
        """The audit records this test made so far."""
        return list(self._test.records)

    @property
    def seed(self) -> int:
        """A seed for this test, derived from ``--mlaudit-seed`` and the test id."""
        from .session import derive_seed

        return derive_seed(self.settings.seed, self._test.nodeid)

    @property
    def device(self) -> str:
        return self.settings.device

    def published(self, metric: str, published: float, source: str, *, ours: float | None = None, note: str = "") -> None:
        """Put a study's published number beside ours in this test's latest audit record.

        ``ours`` defaults to the latest record's measured value of ``metric``.
        """
        if not self._test.records:
            raise RuntimeError("mlaudit.published() needs an audit recorded earlier in this test")
        record = self._test.records[-1]
        if ours is None:
            if metric not in record.metrics:
                raise KeyError(f"metric {metric!r} was not measured by {record.name!r}; give ours=...")
            ours = record.metrics[metric].value
        record.extras.setdefault("published", []).append(
            {"metric": metric, "ours": float(ours), "published": float(published), "source": source, "note": note}
        )

    def data_path(self, *parts: str) -> Path:
        """A path in ``--mlaudit-data-dir``; skips the test (real-data tier) when it is not there."""
        if self.settings.data_dir is None:
            pytest.skip("real-data tier: pass --mlaudit-data-dir DIR to run it")
        path = self.settings.data_dir.joinpath(*parts)
        if not path.exists():
            pytest.skip(f"real-data tier: {path} not found in --mlaudit-data-dir")
        return path
