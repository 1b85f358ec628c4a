"""The requirement mapping: which requirements each audit gives evidence for, and their verdicts.

An audit's requirements are the ones it was tagged with (the ``mlaudit`` marker's
``requirement=``, or an assertion's ``requirement=`` argument) plus the defaults of
its category. The defaults, and why:

- robustness -> EU AI Act Art. 15 (accuracy, robustness and cybersecurity: resilience
  to attempts to alter outputs by exploiting vulnerabilities, i.e. evasion attacks) and
  NIST AI RMF MEASURE 2.7 (secure and resilient);
- imbalance -> Art. 10 (data governance: training data representative, examined for
  possible biases and gaps) and MEASURE 2.5 (valid and reliable: performance on the
  class that matters, not overall accuracy);
- fairness -> Art. 10 (examination of data for biases likely to lead to discrimination)
  and MEASURE 2.11 (fairness and bias evaluated);
- privacy -> MEASURE 2.10 (privacy risk examined) and Art. 10 (its paragraph 5 asks for
  privacy-preserving measures where personal data is processed: differentially private
  training and membership-inference audits concern the training data);
- poisoning (backdoors, label flipping) -> Art. 15(5)'s "attacks trying to manipulate the
  training data set (data poisoning)" and "pre-trained components used in training (model
  poisoning)": a backdoor is what either attack plants, and the audit measures whether the
  training pipeline lets it in; and MEASURE 2.7;
- extraction (model stealing) -> Art. 15(5)'s "confidentiality attacks" (the model is the
  asset taken) and MEASURE 2.7;
- inference (attribute inference) -> Art. 15(5)'s "confidentiality attacks" (a sensitive
  input recovered through the model's answers) and MEASURE 2.10.

A requirement's verdict is PASS only when it has at least one gate and every one of
its gates passed, FAIL when any gate missed or any of its audits errored, and
"NOT GATED" when its audits only measured. Every gate of an audit counts for every
requirement of that audit.

A plugin's audit family (``pytest_mlaudit_families`` hook, :class:`pytest_mlaudit.AuditFamily`)
adds its category's default requirements to the mapping.

Users override the mapping with a JSON or TOML file (ini key or option
``mlaudit_requirements``; ``--requirements`` of ``python -m pytest_mlaudit report``)::

    [categories]                      # replaces the default of the categories it names
    privacy = ["NIST-AI-RMF-MEASURE-2.10"]

    [requirements.ACME-SEC-7]         # describes a requirement id used in tags
    framework = "ACME model policy"
    clause = "SEC-7"
    title = "Models resist evasion attacks"

This module uses the standard library only: the plugin validates the file at start-up.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Iterable

EU_AI_ACT = "EU AI Act"
NIST_AI_RMF = "NIST AI RMF 1.0"

REQUIREMENTS: dict[str, dict[str, str]] = {
    "EU-AI-Act-Art10": {"framework": EU_AI_ACT, "clause": "Art. 10", "title": "Data and data governance"},
    "EU-AI-Act-Art15": {"framework": EU_AI_ACT, "clause": "Art. 15", "title": "Accuracy, robustness and cybersecurity"},
    "EU-AI-Act-Art15-5-data-poisoning": {"framework": EU_AI_ACT, "clause": "Art. 15(5)",
                                         "title": "Resilience to data poisoning"},
    "EU-AI-Act-Art15-5-model-poisoning": {"framework": EU_AI_ACT, "clause": "Art. 15(5)",
                                          "title": "Resilience to model poisoning"},
    "EU-AI-Act-Art15-5-confidentiality": {"framework": EU_AI_ACT, "clause": "Art. 15(5)",
                                          "title": "Resilience to confidentiality attacks"},
    "NIST-AI-RMF-MEASURE-2.5": {"framework": NIST_AI_RMF, "clause": "MEASURE 2.5", "title": "Valid and reliable"},
    "NIST-AI-RMF-MEASURE-2.7": {"framework": NIST_AI_RMF, "clause": "MEASURE 2.7", "title": "Secure and resilient"},
    "NIST-AI-RMF-MEASURE-2.10": {"framework": NIST_AI_RMF, "clause": "MEASURE 2.10", "title": "Privacy risk examined"},
    "NIST-AI-RMF-MEASURE-2.11": {"framework": NIST_AI_RMF, "clause": "MEASURE 2.11",
                                 "title": "Fairness and bias evaluated"},
}

CATEGORIES: dict[str, list[str]] = {
    "robustness": ["EU-AI-Act-Art15", "NIST-AI-RMF-MEASURE-2.7"],
    "imbalance": ["EU-AI-Act-Art10", "NIST-AI-RMF-MEASURE-2.5"],
    "fairness": ["EU-AI-Act-Art10", "NIST-AI-RMF-MEASURE-2.11"],
    "privacy": ["EU-AI-Act-Art10", "NIST-AI-RMF-MEASURE-2.10"],
    "poisoning": ["EU-AI-Act-Art15-5-data-poisoning", "EU-AI-Act-Art15-5-model-poisoning", "NIST-AI-RMF-MEASURE-2.7"],
    "extraction": ["EU-AI-Act-Art15-5-confidentiality", "NIST-AI-RMF-MEASURE-2.7"],
    "inference": ["EU-AI-Act-Art15-5-confidentiality", "NIST-AI-RMF-MEASURE-2.10"],
}

DEFAULT_MAPPING: dict[str, Any] = {"categories": CATEGORIES, "requirements": REQUIREMENTS}

PASS, FAIL, NOT_GATED = "PASS", "FAIL", "NOT GATED"


def load_mapping(path: Path | str | None, families: Iterable[Any] = ()) -> dict[str, Any]:
    """The default mapping with the ``families``' categories, overridden by the JSON or TOML file at ``path``.

    ``families`` are :class:`~pytest_mlaudit.families.AuditFamily` objects: each adds
    its requirements to its category's defaults. Raises ValueError naming the file
    and the problem for a missing, unreadable or malformed file.
    """
    mapping = with_families(copy.deepcopy(DEFAULT_MAPPING), families)
    if path is None:
        return mapping
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"requirement mapping {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            override = tomllib.loads(text)
        else:
            override = json.loads(text)
    except ValueError as exc:  # json.JSONDecodeError and tomllib.TOMLDecodeError are ValueErrors
        raise ValueError(f"requirement mapping {path}: not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {exc}") from None
    return merge_mapping(mapping, override, str(path))


def with_families(mapping: dict[str, Any], families: Iterable[Any]) -> dict[str, Any]:
    """``mapping`` (changed in place) with each family's requirements added to its category's."""
    for family in families:
        ids = mapping["categories"].setdefault(family.category, [])
        ids.extend(requirement for requirement in family.requirements if requirement not in ids)
    return mapping


def merge_mapping(mapping: dict[str, Any], override: Any, where: str = "mapping") -> dict[str, Any]:
    """``mapping`` with the categories and requirements of ``override`` replacing its own."""
    if not isinstance(override, dict):
        raise ValueError(f"requirement mapping {where}: expected a table with 'categories' and/or 'requirements'")
    unknown = set(override) - {"categories", "requirements"}
    if unknown:
        raise ValueError(f"requirement mapping {where}: unknown key(s) {', '.join(sorted(unknown))}; "
                         "expected 'categories' and/or 'requirements'")
    merged = copy.deepcopy(mapping)
    for category, ids in _table(override, "categories", where).items():
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError(f"requirement mapping {where}: categories.{category} must be a list of requirement ids")
        merged["categories"][category] = list(ids)
    for requirement, description in _table(override, "requirements", where).items():
        if not isinstance(description, dict) or not all(isinstance(description.get(k, ""), str)
                                                        for k in ("framework", "clause", "title")):
            raise ValueError(f"requirement mapping {where}: requirements.{requirement} must be a table of "
                             "strings: framework, clause, title")
        merged["requirements"][requirement] = {k: description.get(k, "") for k in ("framework", "clause", "title")}
    return merged


def _table(override: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    table = override.get(key, {})
    if not isinstance(table, dict):
        raise ValueError(f"requirement mapping {where}: '{key}' must be a table")
    return table


def audit_requirements(audit: dict[str, Any], mapping: dict[str, Any]) -> list[str]:
    """The requirements an audit (a JSON report entry) gives evidence for: its tags, then its category's."""
    ids = list(audit.get("requirements") or [])
    for gate in audit.get("gates") or []:
        ids.extend(gate.get("requirements") or [])
    ids.extend(mapping["categories"].get(audit.get("category"), []))
    return list(dict.fromkeys(ids))


def requirement_verdicts(audits: list[dict[str, Any]], mapping: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One row per requirement some audit gives evidence for, with its verdict.

    Rows come in the order of the mapping's requirements, then unknown ids in order
    of appearance; ``audits`` holds the 0-based positions of the audits in the list.
    An audit whose failure its test caught (``handled``) is evidence of nothing.
    """
    mapping = mapping or DEFAULT_MAPPING
    rows: dict[str, dict[str, Any]] = {}
    for position, audit in enumerate(audits):
        if audit.get("handled"):
            continue
        gates = audit.get("gates") or []
        for requirement in audit_requirements(audit, mapping):
            row = rows.setdefault(requirement, {
                "id": requirement, "gates": 0, "gates_failed": 0, "errored": 0, "suspect": 0, "audits": [],
                **mapping["requirements"].get(requirement, {"framework": "", "clause": requirement, "title": ""}),
            })
            row["audits"].append(position)
            row["gates"] += len(gates)
            row["gates_failed"] += sum(not gate.get("passed") for gate in gates)
            row["errored"] += audit.get("outcome") == "error"
            row["suspect"] += bool(audit.get("suspect"))
    for row in rows.values():
        row["verdict"] = FAIL if row["gates_failed"] or row["errored"] else PASS if row["gates"] else NOT_GATED
    known = list(mapping["requirements"])
    return sorted(rows.values(), key=lambda row: known.index(row["id"]) if row["id"] in known else len(known))
