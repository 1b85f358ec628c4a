"""The pytest side of pytest-mlaudit: options, ini keys, marker, fixture, hooks, summary.

Data flows one way: audit functions record into the current test (on whichever
process runs it); records ride on the test reports; the controller assembles them,
writes the JSON and HTML reports at the end of the session and prints one line per
gate. Under pytest-xdist the same path is taken, with the reports serialized between.

This module is imported in every pytest run where the plugin is installed, so it
imports nothing heavy: the audits load torch, scikit-learn and friends when they run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

from . import FUNCTIONS, hookspecs, progress
from .authoring import requirement_list
from .compliance import load_mapping
from .records import AuditRecord, json_tree
from .regression import Baseline, compare
from .session import (AuditSession, Settings, TestAudit, close_test, enter_session, install_hook, leave_session,
                      open_test)



class BaselineWarning(UserWarning):
    """A baseline that can be compared with, but not as well as it should (another seed or confidence)."""


SESSION_KEY = pytest.StashKey[AuditSession]()
TEST_KEY = pytest.StashKey[TestAudit]()
REPORTED_KEY = pytest.StashKey[int]()
PROGRESS_KEY = pytest.StashKey[Any]()  # the progress writer this run replaced (an outer pytester run's)
HOOK_KEY = pytest.StashKey[Any]()  # the hook relay this run replaced (an outer pytester run's)
SCOPE_KEY = pytest.StashKey[object]()
JOURNAL_KEY = pytest.StashKey[Any]()

def boolean(text: str) -> bool:
    """An on/off option value: yes/no, true/false, on/off, 1/0."""
    lowered = str(text).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


# option name -> (ini key, type, default, help)
OPTIONS: dict[str, tuple[str, Any, Any, str]] = {
    "report": ("mlaudit_report", str, None, "write the HTML audit report to this path"),
    "json": ("mlaudit_json", str, None, "write the JSON audit report (schema pytest-mlaudit/1) to this path"),
    "seed": ("mlaudit_seed", int, 0, "run seed from which every random procedure of an audit derives its seed (default 0)"),
    "confidence": ("mlaudit_confidence", float, 0.95, "confidence level of the intervals (default 0.95)"),
    "policy": ("mlaudit_policy", str, "estimate", "default gate policy: estimate, lower (conservative) or upper (flake-proof)"),
    "data-dir": ("mlaudit_data_dir", str, None, "directory with the real data sets for the real-data tier"),
    "device": ("mlaudit_device", str, "auto", "device for torch models: auto, cpu or cuda (default auto)"),
    "shard": ("mlaudit_shard", str, None,
              "i/k: audits that support it measure the i-th of k blocks of their rows (merge the k JSON "
              "reports with python -m pytest_mlaudit report)"),
    "requirements": ("mlaudit_requirements", str, None,
                     "JSON or TOML file overriding the report's requirement mapping (see pytest_mlaudit.compliance)"),
    "baseline": ("mlaudit_baseline", str, None,
                 "a previous JSON report (the last accepted run): compare every audit with it, fail on regressions"),
    "regression-tolerance": ("mlaudit_regression_tolerance", float, 0.0,
                             "how much a gated metric may get worse than in the baseline (default 0.0)"),
    "fail-on-regression": ("mlaudit_fail_on_regression", boolean, True,
                           "yes/no: a gated metric that regressed against the baseline fails its test (default yes)"),
    "regression-policy": ("mlaudit_regression_policy", str, "upper",
                          "when a change is a regression: upper (significant only, default), estimate, lower"),
    "markdown": ("mlaudit_markdown", str, None,
                 "write a short GitHub-flavoured Markdown summary (CI job summary, PR comment) to this path"),
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
            baseline=load_baseline(_resolve(config, "mlaudit_baseline", values["mlaudit_baseline"])),
            regression_tolerance=values["mlaudit_regression_tolerance"],
            regression_policy=values["mlaudit_regression_policy"],
            fail_on_regression=values["mlaudit_fail_on_regression"],
            markdown_path=_resolve(config, "mlaudit_markdown", values["mlaudit_markdown"]),
            shard=values["mlaudit_shard"],
        )
        load_mapping(settings.requirements_path)
    except ValueError as exc:
        raise pytest.UsageError(f"mlaudit: {exc}") from None
    if settings.data_dir is not None and not settings.data_dir.is_dir():
        raise pytest.UsageError(f"--mlaudit-data-dir: {settings.data_dir} is not a directory")
    return settings


def load_baseline(path: Path | None) -> Baseline | None:
    """The ``--mlaudit-baseline`` report, read and checked as ``report`` reads its inputs; a usage error if unusable."""
    if path is None:
        return None
    from .report.json import load

    try:
        return Baseline.from_document(load(path), str(path))
    except ValueError as exc:
        raise pytest.UsageError(f"--mlaudit-baseline: {exc}") from None


def _resolve(config: pytest.Config, ini: str, value: str | None) -> Path | None:
    """Command-line paths are relative to the working directory, ini paths to the ini file's directory."""
    if value is None:
        return None
    if config.getoption(ini) is not None:
        return Path(value).absolute()
    return (Path(config.inipath).parent if config.inipath else Path(config.rootpath)) / value


MARKER_KEYWORDS = ("requirement",)


def check_report_paths(settings: Settings) -> None:
    """Refuse at start-up a report path that cannot be written, rather than after every test has run."""
    paths = [(option, path) for option, path in (("--mlaudit-report", settings.report_path),
                                                 ("--mlaudit-json", settings.json_path),
                                                 ("--mlaudit-markdown", settings.markdown_path)) if path is not None]
    for position, (option, path) in enumerate(paths):
        for other, other_path in paths[position + 1:]:
            if path.resolve() == other_path.resolve():
                raise pytest.UsageError(f"{option} and {other} are the same file ({path}): "
                                        "one report would overwrite the other; give different paths")
    for option, path in paths:
        if path.is_dir():
            raise pytest.UsageError(f"{option}: {path} is a directory; give a file path")
        parent = path.parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir():
            raise pytest.UsageError(f"{option}: {path} cannot be created: {parent} is not a directory")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise pytest.UsageError(f"{option}: {path} cannot be written: no write permission in {parent}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mlaudit(requirement=...): tag the test's audit gates with requirements "
        "(e.g. 'EU-AI-Act-Art15', or a list of them) for the compliance mapping of the report",
    )
    settings = read_settings(config)
    if not hasattr(config, "workerinput"):
        check_report_paths(settings)
        if settings.baseline is not None:
            for warning in settings.baseline.mismatches(settings.seed, settings.confidence):
                config.issue_config_time_warning(BaselineWarning(warning), stacklevel=2)
    config.stash[SESSION_KEY] = AuditSession(settings=settings)
    config.stash[SCOPE_KEY] = enter_session(settings)
    config.stash[HOOK_KEY] = install_hook(config.hook)
    config.stash[PROGRESS_KEY] = progress.install(progress.terminal_writer(config))
    journal = getattr(config, "workerinput", {}).get("mlaudit_journal")
    if journal:
        config.stash[JOURNAL_KEY] = Journal(Path(journal) / f"{config.workerinput['workerid']}.jsonl")
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(ReportController(config), "mlaudit-report-controller")


def pytest_unconfigure(config: pytest.Config) -> None:
    if HOOK_KEY in config.stash:
        install_hook(config.stash[HOOK_KEY])
    if SCOPE_KEY in config.stash:
        leave_session(config.stash[SCOPE_KEY])
    progress.install(config.stash.get(PROGRESS_KEY, None))


def marker_requirements(item: pytest.Item) -> list[str]:
    """The requirement tags of the test's ``mlaudit`` markers; an unknown keyword is an error naming the allowed."""
    requirements: list[str] = []
    for marker in item.iter_markers("mlaudit"):
        unknown = sorted(set(marker.kwargs) - set(MARKER_KEYWORDS))
        if unknown or marker.args:
            given = ", ".join([*(repr(a) for a in marker.args), *unknown])
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.mlaudit takes only {', '.join(MARKER_KEYWORDS)}=...; "
                                    f"got {given}")
        for requirement in requirement_list(json_tree(marker.kwargs.get("requirement"), "requirement")):
            if requirement not in requirements:
                requirements.append(requirement)
    return requirements


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            marker_requirements(item)
        except (pytest.UsageError, TypeError) as exc:
            raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    session = item.config.stash[SESSION_KEY]
    journal = item.config.stash.get(JOURNAL_KEY, None)
    path, line, _ = item.location
    test = TestAudit(nodeid=item.nodeid, settings=session.settings, location=(path, line or 0),
                     requirements=marker_requirements(item),
                     on_record=lambda record: _on_record(item, record, journal))
    item.stash[TEST_KEY] = test
    item.stash[REPORTED_KEY] = 0
    token = open_test(test)
    try:
        return (yield)
    except BaseException:
        # interrupted inside the test (KeyboardInterrupt, SIGTERM, pytest.exit): keep what it measured
        unreported = test.records[item.stash[REPORTED_KEY]:]
        if unreported and not hasattr(item.config, "workerinput"):
            session.add_records(unreported, test_outcome="interrupted")
        raise
    finally:
        close_test(token)


def _on_record(item: pytest.Item, record: AuditRecord, journal: Journal | None) -> None:
    """Each gate also goes to record_property (so --junitxml carries it); a worker journals the record."""
    for gate in record.gates:
        verdict = "passed" if gate.passed else "failed"
        item.user_properties.append((
            f"mlaudit:{record.name}:{gate.metric}",
            f"{gate.value:.4f} [{gate.low:.4f}, {gate.high:.4f}] {gate.op} {gate.threshold:g} ({gate.policy}): {verdict}",
        ))
    if journal is not None:
        journal.append(record)


PACKAGE_DIR = Path(__file__).resolve().parent


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    test = item.stash.get(TEST_KEY, None)
    if test is not None and call.excinfo is not None:
        _hide_audit_frames(item, call.excinfo, test.audit_exceptions)
    report = yield
    if test is None:
        return report
    reported = item.stash[REPORTED_KEY]
    phase_records = test.records[reported:]
    failure = call.excinfo.value if call.excinfo is not None else None
    caught_by_test = report.passed or (report.skipped and hasattr(report, "wasxfail"))
    for record in phase_records:
        if record.outcome in ("failed", "error"):
            raised = [exc for exc in test.audit_exceptions if test.exception_records.get(id(exc)) == record.index]
            # the test went on past the audit's exception, or the exception was expected (xfail)
            record.handled = caught_by_test or not any(exc is failure for exc in raised)
    if report.failed and failure is not None and not any(failure is exc for exc in test.audit_exceptions):
        report.mlaudit_outside_failure = True
    report.mlaudit_records = [record.to_dict() for record in phase_records]
    if phase_records and item.config.stash[SESSION_KEY].settings.report_path is not None:
        report.mlaudit_charts = _drawn_charts(report.mlaudit_records)
    item.stash[REPORTED_KEY] = len(test.records)
    return report


def _hide_audit_frames(item: pytest.Item, excinfo: pytest.ExceptionInfo,
                       audit_exceptions: list[BaseException]) -> None:
    """A missed gate's traceback ends at the user's call, the line that ran the audit.

    ``__tracebackhide__`` cannot do it alone: pytest cuts the traceback at the test
    function and rebuilds it from the raw chain, and the ``with mla.audit(...)`` block
    exits through ``contextlib``. So the chain is ended at the last frame outside this
    package (and ``contextlib``). ``--fulltrace`` keeps every frame.
    """
    if item.config.getoption("fulltrace", False):
        return
    if not isinstance(excinfo.value, AssertionError) or not any(excinfo.value is exc for exc in audit_exceptions):
        return
    last_outside, frame = None, excinfo.tb
    while frame is not None:
        if not _internal(Path(frame.tb_frame.f_code.co_filename)):
            last_outside = frame
        elif last_outside is not None:
            last_outside.tb_next = None
            excinfo.traceback = type(excinfo.traceback)(excinfo.tb)
            return
        frame = frame.tb_next


def _internal(path: Path) -> bool:
    return path.name == "contextlib.py" or PACKAGE_DIR in path.parents


def _drawn_charts(records: list[dict]) -> list[list[dict]]:
    """Each record's charts drawn here, where it was made (on an xdist worker, in parallel), not by the controller.

    A record whose charts cannot be drawn here gets an empty list: the controller draws them.
    """
    from .report.charts import drawn_where_recorded

    drawn = []
    for record in records:
        try:
            drawn.append(drawn_where_recorded(record["extras"], record["nodeid"], record["index"]))
        except Exception:  # noqa: BLE001  a chart must never fail a test; the controller retries it
            drawn.append([])
    return drawn


def _failure_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    lines = str(report.longrepr or "").strip().splitlines()
    return lines[-1] if lines else f"{report.when} failed"


class ReportController:
    """Assembles the records and what pytest reported on the controller (or the only process); writes the reports.

    Registered only where reports are assembled: never on an xdist worker, whose
    records reach the controller on the serialized test reports (and, should the
    worker crash, through its journal).
    """

    def __init__(self, config: pytest.Config):
        self.config = config
        self.session = config.stash[SESSION_KEY]
        self.journals = Path(tempfile.mkdtemp(prefix="mlaudit-journal-"))
        self.collected: set[str] = set()
        self.outcomes: dict[str, str] = {}
        self.finished: set[str] = set()  # tests whose teardown was reported
        self.write_failures: list[str] = []
        self.drawn: dict[tuple[str, int], list[dict]] = {}  # (nodeid, index) -> charts drawn with the record
        self._writing = False
        self._terminated = False
        self._previous_sigterm = None
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum, frame) -> None:
        """SIGTERM ends the run like Ctrl-C, so what was measured is written as an INCOMPLETE report."""
        self.session.run.interrupted = "terminated (SIGTERM)"
        if self._writing:
            self._terminated = True  # finish the reports; the run then ends as interrupted
            return
        raise KeyboardInterrupt("SIGTERM")

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        node.workerinput["mlaudit_journal"] = str(self.journals)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        self.collected.update(ids)

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem, report, sched) -> None:
        self.session.run.crashed.append({"nodeid": crashitem, "message": _failure_message(report)})
        self.outcomes[crashitem] = "crashed"

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected.update(item.nodeid for item in session.items)  # after -k / -m deselection

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.session.run.collection_errors.append({"nodeid": report.nodeid, "message": _failure_message(report)})

    def pytest_internalerror(self, excrepr, excinfo) -> None:
        crash = getattr(excrepr, "reprcrash", None)
        self.session.run.internal_error = crash.message if crash is not None else str(excrepr).splitlines()[-1]

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        if not self.session.run.interrupted:
            self.session.run.interrupted = f"{excinfo.typename}: {excinfo.value}".rstrip(": ")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        records = getattr(report, "mlaudit_records", None)
        if records:
            self.session.add_records([AuditRecord.from_dict(r) for r in records])
            for record, charts in zip(records, getattr(report, "mlaudit_charts", None) or []):
                if charts:
                    self.drawn[(record["nodeid"], record["index"])] = charts
        if report.when == "teardown":
            self.finished.add(report.nodeid)
        previous = self.outcomes.get(report.nodeid)
        outcome = _outcome(report)
        if previous in (None, "passed") or outcome in ("failed", "error"):
            if not (previous in ("failed", "error", "crashed") and outcome in ("passed", "skipped")):
                self.outcomes[report.nodeid] = outcome
        if report.failed and getattr(report, "mlaudit_outside_failure", False):
            self.session.run.failed_tests.append({"nodeid": report.nodeid, "when": report.when,
                                                  "message": _failure_message(report)})
        elif report.failed and not records and report.when != "call" and not hasattr(report, "mlaudit_records"):
            # a failure that reached no test of ours (an xdist crash report): still a failed test
            if report.nodeid not in {crash["nodeid"] for crash in self.session.run.crashed}:
                self.session.run.failed_tests.append({"nodeid": report.nodeid, "when": report.when,
                                                      "message": _failure_message(report)})

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus) -> None:
        self._writing = True  # from here on SIGTERM waits for the reports
        try:
            self._finish(exitstatus)
        finally:
            self._writing = False
            shutil.rmtree(self.journals, ignore_errors=True)
        if self._terminated:
            session.exitstatus = pytest.ExitCode.INTERRUPTED

    def _finish(self, exitstatus) -> None:
        """Complete the run's facts and records, then write the reports."""
        run = self.session.run
        run.exit_status = int(exitstatus)
        if int(exitstatus) == pytest.ExitCode.INTERRUPTED and not run.interrupted and not run.collection_errors:
            run.interrupted = "the run was stopped (pytest exit status 2)"
        crashed = {crash["nodeid"] for crash in run.crashed}
        for nodeid in self.outcomes:
            if nodeid in crashed:
                self.outcomes[nodeid] = "crashed"
            elif nodeid not in self.finished:
                self.outcomes[nodeid] = "interrupted"
        self._recover_from_journals()
        run.not_run = sorted(self.collected - set(self.outcomes))
        run.tests = {}
        for outcome in self.outcomes.values():
            run.tests[outcome] = run.tests.get(outcome, 0) + 1
        for record in self.session.records:
            record.test_outcome = self.outcomes.get(record.nodeid, record.test_outcome)
        settings = self.session.settings
        if settings.baseline is not None:
            self.session.comparison = compare(
                settings.baseline, self.session.sorted_records(), tolerance=settings.regression_tolerance,
                policy=settings.regression_policy, seed=settings.seed, confidence=settings.confidence,
                collected=self.collected)
        if (settings.report_path is None and settings.json_path is None and settings.markdown_path is None
                and settings.baseline is None):
            return
        from .report import write_reports

        self.session.written, self.write_failures = write_reports(self.session, self.config.hook, self.drawn)

    def _recover_from_journals(self) -> None:
        """Records a crashed or interrupted worker made but never sent on a test report."""
        received = {(record.nodeid, record.index) for record in self.session.records}
        for path in sorted(self.journals.glob("*.jsonl")):
            for record in Journal(path).read():
                if (record.nodeid, record.index) not in received:
                    outcome = self.outcomes.get(record.nodeid)
                    self.session.add_records([record], test_outcome=outcome if outcome == "crashed" else "interrupted")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        shutil.rmtree(self.journals, ignore_errors=True)
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        from .report.terminal import summary_lines

        records = self.session.sorted_records()
        written = self.session.written
        comparison = self.session.comparison
        if not records and not written and not self.write_failures and comparison is None:
            return
        terminalreporter.section("mlaudit")
        for line, failed in summary_lines(records, self.session.run, reports_written=tuple(written),
                                          comparison=comparison):
            terminalreporter.write_line(line, red=failed, green=not failed)
        for kind, path in written.items():
            terminalreporter.write_line(f"mlaudit {kind} report: {path}")
        for failure in self.write_failures:
            terminalreporter.write_line(f"mlaudit: {failure}", red=True)


def _outcome(report: pytest.TestReport) -> str:
    """The pytest outcome of one phase: passed, failed (the test), error (setup/teardown), skipped, xfailed, xpassed."""
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else ("xpassed" if report.passed else "failed")
    if report.failed:
        return "failed" if report.when == "call" else "error"
    return "skipped" if report.skipped else "passed"


class Journal:
    """A worker's records, one JSON line each as they are made: what survives the worker's crash."""

    def __init__(self, path: Path):
        self.path = path

    def append(self, record: AuditRecord) -> None:
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(record.to_dict(), allow_nan=False) + "\n")

    def read(self) -> list[AuditRecord]:
        records = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(AuditRecord.from_dict(json.loads(line)))
            except (ValueError, TypeError, KeyError):
                continue  # the line being written when the worker died
        return records


@pytest.fixture(scope="session")
def mlaudit_settings(pytestconfig: pytest.Config) -> Settings:
    """The run's settings (seed, confidence, policy, device, data dir), for fixtures of any scope."""
    return pytestconfig.stash[SESSION_KEY].settings


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
        if name in FUNCTIONS:
            import pytest_mlaudit

            return getattr(pytest_mlaudit, name)
        raise AttributeError(f"the mlaudit fixture has no attribute {name!r}; audit functions: {', '.join(FUNCTIONS)}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(FUNCTIONS))

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
        row = {"metric": metric, "ours": float(ours), "published": float(published), "source": source, "note": note}
        record.extras.setdefault("published", []).append(json_tree(row, "published"))

    def data_path(self, *parts: str) -> Path:
        """A path in ``--mlaudit-data-dir``; skips the test (real-data tier) when it is not there."""
        if self.settings.data_dir is None:
            pytest.skip("real-data tier: pass --mlaudit-data-dir DIR to run it")
        path = self.settings.data_dir.joinpath(*parts)
        if not path.exists():
            pytest.skip(f"real-data tier: {path} not found in --mlaudit-data-dir")
        return path
