"""The JSON report (schema ``pytest-mlaudit/1``): the document every output renders from."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..records import SCHEMA, AuditRecord


def summarize(records: Iterable[AuditRecord]) -> dict[str, Any]:
    """Counts and the overall verdict: FAIL when any gate missed or any audit errored."""
    records = list(records)
    gates = [gate for record in records for gate in record.gates]
    outcomes = {outcome: sum(r.outcome == outcome for r in records) for outcome in ("passed", "failed", "error")}
    failed_gates = sum(not gate.passed for gate in gates)
    return {
        "verdict": "FAIL" if failed_gates or outcomes["error"] else "PASS",
        "audits": len(records),
        "outcomes": outcomes,
        "gates": len(gates),
        "gates_failed": failed_gates,
        "suspect": sum(record.suspect for record in records),
        "tests": len({record.nodeid for record in records}),
    }


def build_document(records: Iterable[AuditRecord], environment: dict[str, Any]) -> dict[str, Any]:
    records = sorted(records, key=AuditRecord.sort_key)
    return {
        "schema": SCHEMA,
        "environment": environment,
        "summary": summarize(records),
        "audits": [record.to_dict() for record in records],
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, allow_nan=False, default=str) + "\n"


def load(path: Path) -> dict[str, Any]:
    """Read a JSON report, refusing files of another schema."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a pytest-mlaudit report (schema {SCHEMA!r})")
    return document


def records_of(document: dict[str, Any]) -> list[AuditRecord]:
    return [AuditRecord.from_dict(audit) for audit in document["audits"]]
