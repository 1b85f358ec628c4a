"""The terminal summary: the verdict, one line per gate that counts, then the audits that errored (the first few)."""

from __future__ import annotations

from collections.abc import Iterator

from ..records import AuditRecord
from ..verdict import RunFacts, summarize

ERRORS_SHOWN = 10


def summary_lines(records: list[AuditRecord], run: RunFacts | None = None, *,
                  reports_written: tuple[str, ...] = (), comparison=None) -> Iterator[tuple[str, bool]]:
    """``(line, failed)`` pairs: each gate (test, metric, value with interval, threshold, verdict), then the verdict.

    Audits whose failure their own test caught (``pytest.raises``) are a count, not
    lines: a suite that tests bad input fails audits by design. Errored audits follow
    the gates; past ``ERRORS_SHOWN`` of them a count stands for the rest.
    """
    counted = [record for record in records if not record.handled]
    for record in counted:
        suspect = _suspect_note(record)
        for gate in record.gates:
            verdict = "PASS" if gate.passed else "FAIL"
            yield (
                f"{verdict}{suspect} {record.nodeid} {gate.metric} = {gate.value:.4f} "
                f"[{gate.low:.4f}, {gate.high:.4f}] {gate.op} {gate.threshold:g} ({gate.policy})",
                not gate.passed,
            )
    errors = [record for record in counted if record.outcome == "error"]
    for record in errors[:ERRORS_SHOWN]:
        yield f"ERROR {record.nodeid} {record.name}: {record.error}", True
    if len(errors) > ERRORS_SHOWN:
        where = f" (all are in the {' and '.join(reports_written)} report)" if reports_written else ""
        yield f"... and {len(errors) - ERRORS_SHOWN} more audits that errored{where}", True
    run = run or RunFacts()
    for test in run.failed_tests[:ERRORS_SHOWN]:
        yield f"FAILED outside its audits: {test['nodeid']} ({test['when']}): {test['message']}", True
    if comparison is not None:
        yield from _baseline_lines(comparison)
    summary = summarize(records, run)
    handled = f"; {summary['handled']} audit failure(s) caught by their own tests, not counted" if summary["handled"] else ""
    reasons = f": {'; '.join(summary['reasons'])}" if summary["verdict"] != "PASS" else ""
    yield f"mlaudit verdict {summary['verdict']}{reasons}{handled}", summary["verdict"] != "PASS"


def _suspect_note(record: AuditRecord) -> str:
    """`` SUSPECT (check, check)``: which sanity checks failed, or nothing."""
    failed = [check.name for check in record.checks if not check.passed]
    return f" SUSPECT ({', '.join(failed)})" if failed else ""


def _baseline_lines(comparison) -> Iterator[tuple[str, bool]]:
    """The comparison with ``--mlaudit-baseline``: its warnings, each regression, then one count line."""
    for warning in comparison.warnings:
        yield f"mlaudit baseline warning: {warning}", True
    regressions = comparison.regressions
    for change in regressions[:ERRORS_SHOWN]:
        yield f"REGRESSED {change.nodeid} {change.audit}: {change.message(comparison.tolerance)}", True
    if len(regressions) > ERRORS_SHOWN:
        yield f"... and {len(regressions) - ERRORS_SHOWN} more regressions", True
    paired = sum(change.paired for change in comparison.changes)
    yield (f"mlaudit baseline {comparison.baseline.path}: {len(comparison.changes)} metric(s) of "
           f"{comparison.matched} audit(s) compared ({paired} paired), {len(regressions)} regression(s) "
           f"(policy {comparison.policy}, tolerance {comparison.tolerance:g}), {len(comparison.new)} new audit(s), "
           f"{len(comparison.vanished)} vanished"
           + (f", {comparison.not_run} of tests not run here" if comparison.not_run else ""),
           bool(regressions or comparison.vanished))
    for nodeid, name in comparison.vanished[:ERRORS_SHOWN]:
        yield f"VANISHED {nodeid} {name}: in the baseline, not measured in this run", True
