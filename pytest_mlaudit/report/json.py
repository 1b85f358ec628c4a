"""The JSON report (schema ``pytest-mlaudit/1``): the document every output renders from."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..compliance import load_mapping, requirement_verdicts
from ..records import SCHEMA, AuditRecord, json_tree
from ..verdict import RunFacts, summarize


def build_document(records: Iterable[AuditRecord], environment: dict[str, Any],
                   mapping: dict[str, Any] | None = None, run: RunFacts | None = None) -> dict[str, Any]:
    """The JSON document; ``mapping`` is the requirement mapping (the default when None).

    Beyond the fields the spec names, it carries ``run`` (what pytest reported: test
    outcomes, failures outside the audits, why a run is incomplete),
    ``requirement_mapping`` (so that a re-render maps requirements as the run did) and
    ``requirements`` (their verdicts).
    """
    records = sorted(records, key=AuditRecord.sort_key)
    mapping = mapping or load_mapping(None)
    run = run or RunFacts()
    audits = [record.to_dict() for record in records]
    return {
        "schema": SCHEMA,
        "environment": json_tree(environment, "environment"),
        "summary": summarize(records, run),
        "run": run.to_dict(),
        "requirement_mapping": mapping,
        "requirements": requirement_verdicts(audits, mapping),
        "audits": audits,
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, allow_nan=False, default=str) + "\n"


def load(path: Path) -> dict[str, Any]:
    """Read a JSON report; ValueError naming the file for a missing, unreadable or foreign one."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ValueError(f"{path}: not a JSON file ({exc})") from None
    schema = document.get("schema") if isinstance(document, dict) else None
    if schema != SCHEMA or not isinstance(document.get("audits"), list):
        found = f"schema {schema!r}" if schema is not None else "no schema"
        raise ValueError(f"{path} is not a pytest-mlaudit report: expected schema {SCHEMA!r}, found {found}")
    return document


def records_of(document: dict[str, Any]) -> list[AuditRecord]:
    """The document's audits as records; fields an older or foreign writer left out get defaults."""
    return [AuditRecord.from_dict({"name": audit.get("category", "audit"), "category": "audit", **audit})
            for audit in document["audits"]]


def merge(documents: list[dict[str, Any]], sources: list[str], mapping: dict[str, Any] | None = None) -> dict[str, Any]:
    """One document from the reports of sharded jobs: all audits, sorted as the plugin sorts them.

    The environment is the first document's, with each shard's origin under
    ``merged_from``; the requirement mapping is ``mapping``, else the first document's.
    """
    records = [record for document in documents for record in records_of(document)]
    environment = dict(documents[0].get("environment") or {})
    if len(documents) > 1:
        environment["merged_from"] = [
            {"file": source, **{key: (document.get("environment") or {}).get(key)
                                for key in ("created", "git_commit", "seed", "platform")}}
            for source, document in zip(sources, documents)
        ]
    run = RunFacts.merged(RunFacts.from_dict(document.get("run")) for document in documents)
    return build_document(records, environment, mapping or documents[0].get("requirement_mapping"), run)
