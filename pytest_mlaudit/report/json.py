"""The JSON report (schema ``pytest-mlaudit/1``): the document every output renders from."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..compliance import load_mapping, requirement_verdicts
from ..records import OUTCOMES, SCHEMA, AuditRecord, Estimate, json_tree
from ..stats import POLICIES, gate_passes
from .shards import pool_shards
from ..verdict import VERDICTS, RunFacts, summarize

CARRIED_VERDICTS = ("FAIL", "INCOMPLETE")
MAX_NESTING = 64


class ReportFormatError(ValueError):
    """A report whose content is not what the plugin writes; the message names the file and the field."""


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


class _NonFinite(Exception):
    """A NaN or infinite number in the JSON text (its token is the argument)."""


def _refuse_non_finite(token: str) -> Any:
    raise _NonFinite(token)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NonFinite(text)
    return number


def load(path: Path) -> dict[str, Any]:
    """Read and validate a JSON report; ValueError naming the file for a missing,
    unreadable or foreign one, ReportFormatError naming the file and the field for
    malformed content (see :func:`validate_document`).

    NaN and infinite numbers (``NaN``, ``Infinity`` tokens, ``1e999``) are refused:
    the plugin writes non-finite values of free-form fields as the strings ``"NaN"``,
    ``"Infinity"`` and ``"-Infinity"``, and numeric fields must be finite.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ValueError(f"{path}: not a JSON file ({exc})") from None
    try:
        document = json.loads(text, parse_constant=_refuse_non_finite, parse_float=_finite_float)
    except _NonFinite as exc:
        raise ReportFormatError(f"{path}: non-finite number {exc.args[0]} in the JSON; a report holds finite "
                                'numbers only (free-form fields spell them "NaN", "Infinity", "-Infinity")') from None
    except RecursionError:
        raise ReportFormatError(f"{path}: nested too deeply to be a pytest-mlaudit report") from None
    except ValueError as exc:
        raise ValueError(f"{path}: not a JSON file ({exc})") from None
    schema = document.get("schema") if isinstance(document, dict) else None
    if schema != SCHEMA or not isinstance(document.get("audits"), list):
        found = f"schema {schema!r}" if schema is not None else "no schema"
        raise ValueError(f"{path} is not a pytest-mlaudit report: expected schema {SCHEMA!r}, found {found}")
    validate_document(document, str(path))
    return document


def _is_number(value: Any) -> bool:
    """A finite int or float (not a bool, not an int too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_location(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], int) and not isinstance(value[1], bool))


def _one_of(choices: tuple[str, ...]) -> tuple[Callable[[Any], bool], str]:
    return (lambda value: value in choices), "one of " + ", ".join(repr(choice) for choice in choices)


TEXT = (lambda value: isinstance(value, str)), "a string"
OPTIONAL_TEXT = (lambda value: value is None or isinstance(value, str)), "a string or null"
FLAG = (lambda value: isinstance(value, bool)), "true or false"
NUMBER = _is_number, "a number"
COUNT = _is_count, "a non-negative integer"
OBJECT = (lambda value: isinstance(value, dict)), "an object"
LIST = (lambda value: isinstance(value, list)), "a list"
STRINGS = _is_strings, "a list of strings"

# field -> (check, what it expects); required fields are those a record cannot do without
AUDIT_FIELDS = {
    "nodeid": TEXT, "category": TEXT, "name": TEXT, "outcome": _one_of(OUTCOMES),
    "model": OBJECT, "params": OBJECT, "data": OBJECT, "extras": OBJECT,
    "metrics": OBJECT, "gates": LIST, "checks": LIST, "requirements": STRINGS,
    "error": OPTIONAL_TEXT, "duration_s": ((lambda value: _is_number(value) and value >= 0), "a non-negative number"),
    "index": COUNT, "location": (_is_location, "[file, line]"), "suspect": FLAG,
    "test_outcome": OPTIONAL_TEXT, "handled": FLAG,
}
METRIC_FIELDS = {
    "value": NUMBER, "low": NUMBER, "high": NUMBER, "n": COUNT, "method": TEXT,
    "confidence": ((lambda value: _is_number(value) and 0 < value < 1), "a number between 0 and 1"),
    "counts": ((lambda value: value is None or (isinstance(value, list) and all(map(_is_count, value)))),
               "a list of non-negative integers"),
}
GATE_FIELDS = {
    "metric": TEXT, "op": _one_of((">=", "<=")), "threshold": NUMBER, "value": NUMBER, "low": NUMBER,
    "high": NUMBER, "policy": _one_of(POLICIES), "passed": FLAG, "requirements": STRINGS,
}
CHECK_FIELDS = {"name": TEXT, "passed": FLAG, "detail": TEXT}
REQUIRED = {
    "audit": ("nodeid",),
    "metric": ("value", "low", "high", "n"),
    "gate": ("metric", "op", "threshold", "value", "low", "high", "policy", "passed"),
    "check": ("name", "passed"),
}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _nesting(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth + 1)
            if deepest > MAX_NESTING:
                break
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _check_fields(data: Any, fields: dict[str, tuple[Callable[[Any], bool], str]], required: tuple[str, ...],
                  where: str) -> None:
    if not isinstance(data, dict):
        raise ReportFormatError(f"{where}: expected an object, got {_shown(data)}")
    for name in required:
        if name not in data:
            raise ReportFormatError(f"{where}.{name}: missing")
    for name, (valid, expected) in fields.items():
        if name in data and not valid(data[name]):
            raise ReportFormatError(f"{where}.{name}: expected {expected}, got {_shown(data[name])}")


def _check_interval(data: dict[str, Any], where: str) -> None:
    if not data["low"] <= data["value"] <= data["high"]:
        raise ReportFormatError(f"{where}: interval [{data['low']:g}, {data['high']:g}] does not contain "
                                f"its value {data['value']:g}")


def _check_gate(gate: dict[str, Any], where: str) -> None:
    """A gate's fields, and its stored verdict against the one its numbers and policy give."""
    _check_fields(gate, GATE_FIELDS, REQUIRED["gate"], where)
    _check_interval(gate, where)
    estimate = Estimate(gate["value"], gate["low"], gate["high"], 0)
    passes = gate_passes(estimate, gate["op"], gate["threshold"], gate["policy"])
    if passes != gate["passed"]:
        raise ReportFormatError(
            f"{where} ({gate['metric']} {gate['op']} {gate['threshold']:g}, policy {gate['policy']}): stored as "
            f"{'passed' if gate['passed'] else 'failed'}, but {gate['value']:g} [{gate['low']:g}, {gate['high']:g}] "
            f"{'meets' if passes else 'misses'} it")


def _check_mapping(mapping: Any, where: str) -> None:
    _check_fields(mapping, {"categories": OBJECT, "requirements": OBJECT}, ("categories", "requirements"), where)
    for category, ids in mapping["categories"].items():
        if not _is_strings(ids):
            raise ReportFormatError(f"{where}.categories.{category}: expected a list of strings, got {_shown(ids)}")
    for requirement, description in mapping["requirements"].items():
        _check_fields(description, {"framework": TEXT, "clause": TEXT, "title": TEXT}, (),
                      f"{where}.requirements.{requirement}")


def validate_document(document: dict[str, Any], source: str) -> None:
    """Check every audit, metric and gate of a report as the plugin writes them.

    Raises ReportFormatError naming ``source`` and the field (``audits[3].metrics.recall.low``)
    for a missing or ill-typed field, a non-finite number, an interval that does not
    contain its value, nesting deeper than MAX_NESTING levels, or a gate whose stored
    verdict disagrees with its value, interval, threshold and policy. Keys it does not
    know are accepted (newer writers add fields); counts in the summary are not read,
    since the summary is recomputed, but its verdict must be a known one.
    """
    for key, value in document.items():
        if _nesting(value) > MAX_NESTING:
            raise ReportFormatError(f"{source}: {key}: nested deeper than {MAX_NESTING} levels")
    summary = document.get("summary")
    if summary is not None:
        _check_fields(summary, {"verdict": _one_of(VERDICTS)}, (), f"{source}: summary")
    if document.get("environment") is not None:
        _check_fields(document["environment"], {}, (), f"{source}: environment")
    if document.get("requirement_mapping") is not None:
        _check_mapping(document["requirement_mapping"], f"{source}: requirement_mapping")
    for position, audit in enumerate(document["audits"]):
        where = f"{source}: audits[{position}]"
        _check_fields(audit, AUDIT_FIELDS, REQUIRED["audit"], where)
        for name, metric in audit.get("metrics", {}).items():
            _check_fields(metric, METRIC_FIELDS, REQUIRED["metric"], f"{where}.metrics.{name}")
            _check_interval(metric, f"{where}.metrics.{name}")
        for number, gate in enumerate(audit.get("gates", [])):
            _check_gate(gate, f"{where}.gates[{number}]")
        for number, check in enumerate(audit.get("checks", [])):
            _check_fields(check, CHECK_FIELDS, REQUIRED["check"], f"{where}.checks[{number}]")


def worst_verdict(recomputed: str, stored: Iterable[str]) -> str:
    """The verdict of a (merged) report: the recomputed one, unless a report's stored verdict is worse.

    Only FAIL and INCOMPLETE are carried from the stored verdicts (ranked PASS < NO AUDITS
    < FAIL < INCOMPLETE): they can rest on what the audits do not show (a collection
    error, a crashed worker, a test that failed outside its audits), while a stored PASS
    or NO AUDITS says nothing the recomputation does not.
    """
    carried = [verdict for verdict in stored if verdict in CARRIED_VERDICTS]
    return max([recomputed, *carried], key=VERDICTS.index)


def stored_verdict(document: dict[str, Any]) -> str | None:
    return (document.get("summary") or {}).get("verdict")


def duplicate_nodeids(documents: list[dict[str, Any]], sources: list[str]) -> dict[str, list[str]]:
    """Test ids found in more than one of the reports, with the reports they are in (a shard run twice?)."""
    found: dict[str, list[str]] = {}
    for document, source in zip(documents, sources):
        # the audits of a data-sharded run are in every report by design: they are pooled, not repeated
        unsharded = (audit for audit in document["audits"] if not isinstance((audit.get("params") or {}).get("shard"), dict))
        for nodeid in dict.fromkeys(audit["nodeid"] for audit in unsharded):
            found.setdefault(nodeid, []).append(source)
    return {nodeid: files for nodeid, files in found.items() if len(files) > 1}


def records_of(document: dict[str, Any]) -> list[AuditRecord]:
    """The document's audits as records; fields an older or foreign writer left out get defaults."""
    return [AuditRecord.from_dict({"name": audit.get("category", "audit"), "category": "audit", **audit})
            for audit in document["audits"]]


def merge(documents: list[dict[str, Any]], sources: list[str], mapping: dict[str, Any] | None = None) -> dict[str, Any]:
    """One document from the reports of sharded jobs: all audits, sorted as the plugin sorts them.

    The environment is the first document's, with each shard's origin under
    ``merged_from``; the requirement mapping is ``mapping``, else the first document's.
    The summary is recomputed from the audits; its verdict is the worst of that and of
    the FAIL and INCOMPLETE verdicts the reports stored (:func:`worst_verdict`).
    The k records of an audit run on k data shards become one, with pooled counts
    (:mod:`.shards`); shards that are incomplete or not disjoint raise ShardMergeError.
    A single report keeps its comparison with a baseline; the comparisons of several
    reports are not merged (each compared its own audits): compare the merged report.
    """
    records = pool_shards([record for document in documents for record in records_of(document)])
    environment = dict(documents[0].get("environment") or {})
    if len(documents) > 1:
        environment["merged_from"] = [
            {"file": source, **{key: (document.get("environment") or {}).get(key)
                                for key in ("created", "git_commit", "seed", "platform")}}
            for source, document in zip(sources, documents)
        ]
    run = RunFacts.merged(RunFacts.from_dict(document.get("run")) for document in documents)
    merged = build_document(records, environment, mapping or documents[0].get("requirement_mapping"), run)
    merged["summary"]["verdict"] = worst_verdict(merged["summary"]["verdict"], map(stored_verdict, documents))
    if len(documents) == 1 and isinstance(documents[0].get("baseline"), dict):
        merged["baseline"] = documents[0]["baseline"]
    return merged
