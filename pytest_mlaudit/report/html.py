"""The HTML audit report: one self-contained file rendered from the JSON document.

jinja2 with autoescaping: every user string (test ids, model names, parameters,
chart and table data) is escaped; the only markup inserted as it is comes from
matplotlib's SVG writer (which escapes text itself) and from other plugins' report
sections. Nothing is fetched: styles are inline, charts are inline SVG, and a
Content-Security-Policy meta tag makes the browser refuse any fetch anyway.

:func:`render` turns the document into view data here, in Python (model cards
deduplicated by fingerprint, data sets, threat models, charts, requirement
verdicts), so the template only lays it out. Documents of older versions, with
fields or extras missing, render with what they have.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..records import NON_FINITE, non_finite_name
from ..compliance import DEFAULT_MAPPING, requirement_verdicts
from .references import REFERENCES

TEMPLATE = "report.html.j2"

# params key -> row label of an audit's threat model (in this order)
THREAT_MODEL = (
    ("attack", "attack"),
    ("knowledge", "knowledge"),
    ("norm", "norm"),
    ("eps", "eps (budget)"),
    ("clip", "input domain"),
    ("domain", "input domain"),
    ("steps", "iterations"),
    ("max_iter", "iterations"),
    ("iterations", "iterations"),
    ("step_size", "step size"),
    ("random_start", "random start"),
    ("restarts", "restarts"),
    ("targeted", "targeted"),
)
MODEL_FIELDS = (("kind", "type"), ("parameters", "parameters"), ("trainable_parameters", "trainable parameters"),
                ("fingerprint", "fingerprint"))
DATA_FIELDS = (("source", "source"), ("name", "name"), ("n", "size"), ("shape", "shape"), ("dtype", "dtype"))
CLASS_BALANCE_KEYS = ("class_counts", "class_balance", "classes")


def _number(value: Any, digits: int = 4) -> str:
    if isinstance(value, str) and value in NON_FINITE:
        return f"not finite ({value})"
    if isinstance(value, float) and not math.isfinite(value):
        return f"not finite ({non_finite_name(value)})"
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _value(value: Any) -> str:
    """A parameter value as text: numbers short, containers as compact JSON."""
    if isinstance(value, str) and value in NON_FINITE:
        return f"not finite ({value})"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, separators=(", ", ": "), default=str)
    return str(value)


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("pytest_mlaudit", "report/templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    env.filters["value"] = _value
    return env


def render(document: dict[str, Any], sections: list | None = None) -> str:
    """The report's HTML for a JSON document (and sections other plugins add)."""
    from markupsafe import Markup

    from ..verdict import RunFacts, summarize
    from .json import records_of, stored_verdict, worst_verdict

    records = records_of(document)
    run = RunFacts.from_dict(document.get("run"))
    summary = summarize(records, run)
    summary["verdict"] = worst_verdict(summary["verdict"], [stored_verdict(document)])
    audits = [record.to_dict() for record in records]
    mapping = document.get("requirement_mapping") or DEFAULT_MAPPING
    views = [_audit_view(position, audit) for position, audit in enumerate(audits)]
    failing = [{"view": view, "gate": gate} for view in views for gate in view["audit"]["gates"]
               if not gate["passed"] and not view["audit"]["handled"]]
    requirements = requirement_verdicts(audits, mapping)
    for row in requirements:
        row["anchors"] = [views[position]["anchor"] for position in row["audits"]]
    return _environment().get_template(TEMPLATE).render(
        schema=document.get("schema", ""),
        summary=summary,
        run=run.to_dict(),
        environment=_environment_rows(document.get("environment") or {}),
        env=document.get("environment") or {},
        audits=views,
        failing=failing,
        errors=[view for view in views if view["audit"]["outcome"] == "error" and not view["audit"]["handled"]],
        requirements=requirements,
        models=_deduplicated(views, "model"),
        datasets=_deduplicated(views, "data"),
        published=[dict(row, anchor=view["anchor"]) for view in views for row in view["published"]],
        references=REFERENCES,
        sections=[{"title": s.title, "html": Markup(s.html)} for s in (sections or [])],
        baseline=_baseline_view(document.get("baseline")),
    )


CHANGES_CHARTED = 30


def _baseline_view(baseline: Any) -> dict[str, Any] | None:
    """The "Changes since baseline" section: the table of changes and a chart of the gated ones (or the first)."""
    from markupsafe import Markup

    from .charts import changes as changes_chart

    if not isinstance(baseline, dict):
        return None
    rows = [change for change in baseline.get("changes") or [] if isinstance(change, dict)]
    charted = ([row for row in rows if row.get("gated")] or rows)[:CHANGES_CHARTED]
    chart, chart_error = "", ""
    if charted:
        spec = {"title": "Change since baseline, with its interval", "tolerance": baseline.get("tolerance"),
                "rows": [{"label": f"{row['audit']}: {row['metric']}", "regressed": row.get("verdict") == "regressed",
                          **{end: row["change"][end] for end in ("value", "low", "high")}} for row in charted]}
        try:
            chart = Markup(changes_chart(spec, "baseline-changes"))
        except (KeyError, TypeError, ValueError) as exc:
            chart_error = f"the changes could not be drawn: {type(exc).__name__}: {exc}"
    return {**baseline, "rows": rows, "chart": chart, "chart_error": chart_error,
            "charted": len(charted), "regressed": sum(row.get("verdict") == "regressed" for row in rows)}


def _audit_view(position: int, audit: dict[str, Any]) -> dict[str, Any]:
    """What the template shows of one audit: threat model apart from the other parameters, charts."""
    from markupsafe import Markup

    from .charts import charts_for

    params = audit["params"] if isinstance(audit["params"], dict) else {"params": audit["params"]}
    threat = [(label, params[key]) for key, label in THREAT_MODEL if key in params]
    threat_keys = {key for key, _ in THREAT_MODEL}
    extras = audit["extras"] if isinstance(audit["extras"], dict) else {}
    anchor = f"audit-{position + 1}"
    charts = [{"kind": c.kind, "title": c.title, "svg": Markup(c.svg), "error": c.error}
              for c in charts_for(extras, f"chart{position + 1}")]
    return {
        "audit": audit,
        "anchor": anchor,
        "threat": threat,
        "params": [(key, value) for key, value in params.items() if key not in threat_keys],
        "charts": charts,
        "tables": _tables(extras.get("tables")),
        "published": _published(extras.get("published")),
    }


def _tables(tables: Any) -> list[dict[str, Any]]:
    """The extras' tables in a shape the template can trust: a title, columns, rows of cells."""
    clean = []
    for table in tables if isinstance(tables, list) else []:
        if not isinstance(table, dict):
            continue
        rows = [row if isinstance(row, list) else [row] for row in table.get("rows") or []]
        columns = list(table.get("columns") or [])
        clean.append({"title": table.get("title", ""), "columns": columns, "rows": rows})
    return clean


def _published(rows: Any) -> list[dict[str, Any]]:
    """A study's published numbers beside ours, with the difference where both are numbers."""
    clean = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        ours, published = row.get("ours"), row.get("published")
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (ours, published))
        clean.append({
            "metric": row.get("metric", ""), "ours": ours, "published": published,
            "difference": ours - published if numeric else None,
            "source": row.get("source", ""), "note": row.get("note", ""),
        })
    return clean


def _deduplicated(views: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    """One card per distinct model (or data set), keyed by its fingerprint, else its whole description."""
    cards: dict[str, dict[str, Any]] = {}
    for view in views:
        for role, described in _described(view["audit"][field]):
            key = described.get("fingerprint") or described.get("sha256") or json.dumps(described, sort_keys=True, default=str)
            card = cards.get(key)
            if card is None:
                card = cards[key] = _card(described, field, role)
            card["anchors"].append((view["anchor"], view["audit"]["name"]))
            if field == "model":
                for _, data in _described(view["audit"]["data"]):
                    if data.get("sha256") and data["sha256"] not in card["data"]:
                        card["data"].append(data["sha256"])
    return list(cards.values())


def _described(value: Any) -> list[tuple[str, dict[str, Any]]]:
    """``(role, description)`` pairs: one for a plain description, one per part of
    a nested one such as ``{"train": {...}, "test": {...}}``."""
    if not isinstance(value, dict) or not value:
        return []
    parts = [(str(role), part) for role, part in value.items() if isinstance(part, dict) and part.get("sha256")]
    if parts and "sha256" not in value:
        return parts
    return [("", value)]


def _card(described: dict[str, Any], field: str, role: str = "") -> dict[str, Any]:
    fields = MODEL_FIELDS if field == "model" else DATA_FIELDS
    rows = [(label, described[key]) for key, label in fields if described.get(key) is not None]
    if field == "data":
        balance = next((described[key] for key in CLASS_BALANCE_KEYS if described.get(key) is not None), None)
        rows.append(("class balance", _balance(balance) if balance is not None else "not recorded"))
        if described.get("sha256"):
            rows.append(("fingerprint (sha256)", described["sha256"]))
    shown = {key for key, _ in fields} | set(CLASS_BALANCE_KEYS) | {"name", "sha256", "architecture", "params", "training"}
    rows += [(key, value) for key, value in described.items() if key not in shown and value is not None]
    title = str(described.get("name") or described.get("source") or described.get("sha256") or field)
    hyperparameters = _flat(described.get("params"))
    return {
        "title": f"{title} ({role} split)" if role else title,
        "rows": rows,
        "architecture": described.get("architecture"),
        "hyperparameters": [(key, value) for key, value in hyperparameters if value is not None],
        "defaults": sum(value is None for _, value in hyperparameters),
        "training": _flat(described.get("training")),
        "anchors": [],
        "data": [],  # fingerprints of the data the model was audited on
    }


def _flat(mapping: Any) -> list[tuple[str, Any]]:
    """Nested parameter tables (a pipeline's steps) as ``step.key`` rows."""
    if not isinstance(mapping, dict):
        return [] if mapping is None else [("", mapping)]
    rows = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            rows += [(f"{key}.{sub}" if sub else key, v) for sub, v in _flat(value)]
        else:
            rows.append((str(key), value))
    return rows


def _balance(balance: Any) -> str:
    """Class counts with their shares: ``0: 950 (95.0%), 1: 50 (5.0%)``."""
    if isinstance(balance, dict) and all(isinstance(v, (int, float)) for v in balance.values()):
        total = sum(balance.values()) or 1
        return ", ".join(f"{label}: {count} ({100 * count / total:.1f}%)" for label, count in balance.items())
    return _value(balance)


def _environment_rows(environment: dict[str, Any]) -> list[tuple[str, Any]]:
    """The environment table: platform, seed, commit, then each package's version."""
    get = environment.get
    rows = [
        ("report created", get("created", "unknown")),
        ("Python", get("python", "unknown")),
        ("platform", f"{get('platform', 'unknown')} ({get('cpu_count', '?')} CPUs)"),
        ("git commit", get("git_commit") or "not a git checkout"),
        ("seed", get("seed", "unknown")),
        ("confidence", get("confidence", "unknown")),
        ("default gate policy", get("policy", "unknown")),
        ("device", get("device", "unknown")),
        ("real data directory", get("data_dir") or "none: embedded data only"),
    ]
    rows += [(name, version or "not installed") for name, version in (get("packages") or {}).items()]
    for shard in get("merged_from") or []:
        rows.append((f"merged from {shard.get('file')}",
                     f"created {shard.get('created')}, commit {shard.get('git_commit')}, seed {shard.get('seed')}"))
    return rows
