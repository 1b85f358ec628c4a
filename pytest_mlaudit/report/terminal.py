"""The terminal summary: one line per gate, then the audits that errored (the first few)."""

from __future__ import annotations

from collections.abc import Iterator

from ..records import AuditRecord

ERRORS_SHOWN = 10


def summary_lines(records: list[AuditRecord]) -> Iterator[tuple[str, bool]]:
    """``(line, failed)`` pairs: test, metric, value with interval, threshold, verdict.

    Errored audits follow the gates; past ``ERRORS_SHOWN`` of them a count stands for
    the rest (a suite that tests bad inputs errs by design), the report lists them all.
    """
    for record in records:
        for gate in record.gates:
            verdict = "PASS" if gate.passed else "FAIL"
            suspect = " SUSPECT" if record.suspect else ""
            yield (
                f"{verdict}{suspect} {record.nodeid} {gate.metric} = {gate.value:.4f} "
                f"[{gate.low:.4f}, {gate.high:.4f}] {gate.op} {gate.threshold:g} ({gate.policy})",
                not gate.passed,
            )
    errors = [record for record in records if record.outcome == "error"]
    for record in errors[:ERRORS_SHOWN]:
        yield f"ERROR {record.nodeid} {record.name}: {record.error}", True
    if len(errors) > ERRORS_SHOWN:
        yield f"... and {len(errors) - ERRORS_SHOWN} more audits that errored (all are in the JSON and HTML reports)", True
