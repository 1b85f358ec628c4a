"""The run's verdict, from the audits and from what pytest saw: PASS, FAIL, INCOMPLETE or NO AUDITS.

One function decides it, so that the terminal, the JSON ``summary`` and the HTML
say the same thing, and it agrees with pytest's exit status:

- INCOMPLETE: the run did not finish, so its audits cannot stand for the whole
  suite: collection errors, an interruption (Ctrl-C, SIGTERM, ``pytest.exit``), an
  internal error, a crashed xdist worker, or tests that did not run.
- FAIL: a gate missed or an audit errored, and the test did not catch it; or a
  test failed or errored outside its audits.
- NO AUDITS: the run finished cleanly and measured nothing.
- PASS: everything else: every audit that counts passed.

An audit whose failure the test itself caught (``pytest.raises``, ``xfail``) is
*handled*: it is shown, and counted apart, but it is not a failure of the run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .records import AuditRecord

VERDICTS = ("PASS", "NO AUDITS", "FAIL", "INCOMPLETE")  # from best to worst


@dataclass
class RunFacts:
    """What pytest reported about the run itself, beside the audit records (plain data)."""

    exit_status: int | None = None
    tests: dict[str, int] = field(default_factory=dict)  # pytest outcome -> number of tests
    failed_tests: list[dict[str, str]] = field(default_factory=list)  # failed outside their audits
    collection_errors: list[dict[str, str]] = field(default_factory=list)
    crashed: list[dict[str, str]] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    interrupted: str | None = None
    internal_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RunFacts:
        data = data or {}
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    @classmethod
    def merged(cls, runs: Iterable[RunFacts]) -> RunFacts:
        """The facts of shards run as separate jobs: everything that went wrong in any of them."""
        merged = cls()
        for run in runs:
            for outcome, count in run.tests.items():
                merged.tests[outcome] = merged.tests.get(outcome, 0) + count
            merged.failed_tests += run.failed_tests
            merged.collection_errors += run.collection_errors
            merged.crashed += run.crashed
            merged.not_run += run.not_run
            merged.interrupted = merged.interrupted or run.interrupted
            merged.internal_error = merged.internal_error or run.internal_error
            if run.exit_status is not None:
                merged.exit_status = max(merged.exit_status or 0, run.exit_status)
        return merged

    def incomplete_reasons(self) -> list[str]:
        reasons = []
        if self.collection_errors:
            where = ", ".join(error["nodeid"] or "(session)" for error in self.collection_errors[:5])
            reasons.append(f"{len(self.collection_errors)} collection error(s): {where}")
        if self.interrupted:
            reasons.append(f"interrupted: {self.interrupted}")
        if self.internal_error:
            reasons.append(f"internal error: {self.internal_error}")
        if self.crashed:
            reasons.append(f"{len(self.crashed)} test(s) crashed their worker: "
                           + ", ".join(crash["nodeid"] for crash in self.crashed[:5]))
        if self.not_run:
            reasons.append(f"{len(self.not_run)} test(s) did not run: " + ", ".join(self.not_run[:5])
                           + (" ..." if len(self.not_run) > 5 else ""))
        return reasons


def summarize(records: Iterable[AuditRecord], run: RunFacts | None = None) -> dict[str, Any]:
    """Counts, the verdict and the reasons for it (the JSON ``summary``)."""
    records = list(records)
    run = run or RunFacts()
    counted = [record for record in records if not record.handled]
    gates = [gate for record in counted for gate in record.gates]
    failed_gates = sum(not gate.passed for gate in gates)
    outcomes = {outcome: sum(r.outcome == outcome for r in counted) for outcome in ("passed", "failed", "error")}
    failures = []
    if failed_gates:
        failures.append(f"{failed_gates} gate(s) missed")
    if outcomes["error"]:
        failures.append(f"{outcomes['error']} audit(s) errored")
    failed_beyond_gates = sum(r.outcome == "failed" and all(gate.passed for gate in r.gates) for r in counted)
    if failed_beyond_gates:
        failures.append(f"{failed_beyond_gates} audit(s) failed with every gate met (a regression against the "
                        "baseline, or a mandatory check)")
    if run.failed_tests:
        failures.append(f"{len(run.failed_tests)} test(s) failed outside their audits")
    incomplete = run.incomplete_reasons()
    if incomplete:
        verdict = "INCOMPLETE"
    elif failures:
        verdict = "FAIL"
    elif not records:
        verdict = "NO AUDITS"
    else:
        verdict = "PASS"
    return {
        "verdict": verdict,
        "reasons": incomplete + failures + (["no audit was measured"] if verdict == "NO AUDITS" else []),
        "audits": len(records),
        "outcomes": outcomes,
        "handled": len(records) - len(counted),
        "gates": len(gates),
        "gates_failed": failed_gates,
        "suspect": sum(record.suspect for record in counted),
        "tests": len({record.nodeid for record in records}),
        "tests_failed_outside_audits": len(run.failed_tests),
    }
