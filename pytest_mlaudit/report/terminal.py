"""The terminal summary: one line per gate, then one per errored audit."""

from __future__ import annotations

from collections.abc import Iterator

from ..records import AuditRecord


def summary_lines(records: list[AuditRecord]) -> Iterator[tuple[str, bool]]:
    """``(line, failed)`` pairs: test, metric, value with interval, threshold, verdict."""
    for record in records:
        for gate in record.gates:
            verdict = "PASS" if gate.passed else "FAIL"
            suspect = " SUSPECT" if record.suspect else ""
            yield (
                f"{verdict}{suspect} {record.nodeid} {gate.metric} = {gate.value:.4f} "
                f"[{gate.low:.4f}, {gate.high:.4f}] {gate.op} {gate.threshold:g} ({gate.policy})",
                not gate.passed,
            )
        if record.outcome == "error":
            yield f"ERROR {record.nodeid} {record.name}: {record.error}", True
