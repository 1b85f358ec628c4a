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


# What None means for a parameter, data or table field, shown as the tooltip of its "–"
NONE_MEANINGS = {
    "resampler": "no resampler: the model was fitted on the training split as it is",
    "baseline": "no non-private baseline was given (baseline=None), so none was compared",
    "baseline_accuracy": "no non-private baseline was given, so none was measured",
    "step_size": "the attack's default step size",
    "random_state": "not seeded by this parameter",
    "train_positive_rate": "no training split was given (prefit model)",
}
NONE_DEFAULT = "not set"
NONE_IN_TABLE = "not applicable to this row"
SHOWN_ITEMS = 24  # a longer list shows its first items and a count


def _threshold(value: Any) -> str:
    """A gate's threshold as a person wrote it: ``0.45666666666666667`` shows as ``0.4567``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, float) and not math.isfinite(value):
        return _number(value)
    return f"{value:.4g}"


def _none(meaning: str):
    from markupsafe import Markup, escape

    return Markup('<span class="none" title="{}">–</span>').format(escape(meaning))


def _param(value: Any, key: str = "", depth: int = 0):
    """A parameter, data or model field as readable HTML: an estimator as ``Name(changed=...)``, a small
    mapping as a table, a list as comma-separated values, None as "–" saying what it means."""
    from markupsafe import Markup, escape

    if value is None:
        return _none(NONE_MEANINGS.get(key.rsplit(".", 1)[-1], NONE_DEFAULT))
    if isinstance(value, bool):
        return Markup("yes") if value else Markup("no")
    if isinstance(value, dict):
        if _is_estimator(value):
            return _estimator(value)
        if depth >= 2:
            return escape(_value(value))
        rows = Markup("").join(Markup("<tr><th>{}</th><td>{}</td></tr>").format(k, _param(v, str(k), depth + 1))
                               for k, v in value.items())
        return Markup('<table class="kv">{}</table>').format(rows)
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value) and depth < 2:
            columns = list(dict.fromkeys(k for item in value for k in item))
            head = Markup("").join(Markup("<th>{}</th>").format(c) for c in columns)
            body = Markup("").join(
                Markup("<tr>{}</tr>").format(Markup("").join(
                    Markup("<td>{}</td>").format(_param(item.get(c), c, depth + 1)) for c in columns))
                for item in value)
            return Markup('<table class="kv"><tr>{}</tr>{}</table>').format(head, body)
        shown = ", ".join(_value(item) for item in value[:SHOWN_ITEMS])
        if len(value) > SHOWN_ITEMS:
            return Markup('<span title="{}">{}, … ({} values)</span>').format(_value(value), shown, len(value))
        return escape(shown) if value else _none("an empty list")
    return escape(_value(value))


def _is_estimator(value: dict[str, Any]) -> bool:
    return isinstance(value.get("name"), str) and isinstance(value.get("params"), dict) and "kind" in value


def _estimator(description: dict[str, Any]):
    """``LogisticRegression(max_iter=1000)``: the class and the parameters set away from their defaults.

    Older records, without the list of changed parameters, show the parameters that are set (not None);
    every parameter is in the tooltip.
    """
    from markupsafe import Markup

    params = description["params"]
    changed = description.get("changed_params")
    names = [name for name in changed if name in params] if isinstance(changed, list) else \
        [name for name, value in params.items() if value is not None and not isinstance(value, dict)]
    arguments = ", ".join(f"{name}={_value(params[name])}" for name in names)
    every = ", ".join(f"{name}={_value(value)}" for name, value in params.items())
    library = f" ({description['kind']})" if description.get("kind") else ""
    return Markup('<span class="estimator" title="{}">{}({})</span>').format(
        f"every parameter: {every}" if every else "no parameters", description["name"], arguments) + library


def _cell(value: Any):
    """A cell of an extras table: None (a field that does not apply to the row) as "–" with a tooltip."""
    if value is None:
        return _none(NONE_IN_TABLE)
    return _value(value)


def _nodeid(nodeid: Any):
    """A test id that breaks only after ``/`` and ``::`` and before its parameters, the full id in the tooltip.

    Each piece is kept whole (a name is never cut inside), so ids stay readable and the
    gate tables still fit a 1280-pixel window with the studies' long parametrized ids.
    """
    import re

    from markupsafe import Markup

    text = str(nodeid)
    pieces = [piece for piece in re.split(r"(?<=/)|(?<=::)|(?=\[)", text) if piece]
    spans = Markup("<wbr>").join(Markup('<span class="seg">{}</span>').format(piece) for piece in pieces)
    return Markup('<code class="nodeid" title="{}">{}</code>').format(text, spans)


def _interval_note(metric: dict[str, Any]) -> str:
    """Why an interval reads as it does, when it may look broken (a quantile's bound at the metric's floor)."""
    method = str(metric.get("method", ""))
    if not method.startswith("order statistics q="):
        return ""
    q = float(method.split("=", 1)[1])
    n, confidence = int(metric.get("n") or 0), float(metric.get("confidence") or 0.95)
    low, value = metric.get("low"), metric.get("value")
    note = (f"distribution-free interval of the {q:g} quantile over {n} runs, from their order statistics "
            f"(no assumption on how the runs are distributed)")
    if isinstance(low, (int, float)) and isinstance(value, (int, float)) and n and low < value:
        alpha = (1 - confidence) / 2
        if (1 - q) ** n > alpha:
            needed = math.ceil(math.log(alpha) / math.log(1 - q))
            note += (f"; its lower end is the metric's floor because no order statistic of {n} runs is a "
                     f"{confidence:.0%} lower bound for the {q:g} quantile (the smallest run lies below it only with "
                     f"probability {1 - (1 - q) ** n:.0%}): {needed} runs or more give a finite lower bound")
    return note


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
    env.filters["param"] = _param
    env.filters["cell"] = _cell
    env.filters["threshold"] = _threshold
    env.filters["nodeid"] = _nodeid
    env.filters["interval_note"] = _interval_note
    return env


def render(document: dict[str, Any], sections: list | None = None,
           drawn: dict[tuple[str, int], list[dict]] | None = None) -> str:
    """The report's HTML for a JSON document (and sections other plugins add).

    ``drawn`` maps ``(nodeid, index)`` to the charts drawn where that record was made
    (:func:`~pytest_mlaudit.report.charts.drawn_where_recorded`, on xdist workers);
    the charts of other records (read back from JSON, recovered from a crashed
    worker's journal) are drawn here.
    """
    from markupsafe import Markup

    from ..verdict import RunFacts, summarize
    from .json import records_of, stored_verdict, worst_verdict

    records = records_of(document)
    run = RunFacts.from_dict(document.get("run"))
    summary = summarize(records, run)
    summary["verdict"] = worst_verdict(summary["verdict"], [stored_verdict(document)])
    audits = [record.to_dict() for record in records]
    mapping = document.get("requirement_mapping") or DEFAULT_MAPPING
    drawn = drawn or {}
    views = [_audit_view(position, audit, drawn.get((audit["nodeid"], audit["index"])))
             for position, audit in enumerate(audits)]
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


BASELINE_DEFAULTS = {"path": None, "created": None, "commit": None, "policy": None, "tolerance": None,
                     "new": [], "vanished": [], "not_run": 0}


def _is_change(row: Any) -> bool:
    """A stored change the section can show: its three estimates with value and interval, and its names."""
    return (isinstance(row, dict) and all(key in row for key in ("nodeid", "audit", "metric", "verdict"))
            and all(isinstance(row.get(part), dict) and all(isinstance(row[part].get(end), (int, float))
                                                             for end in ("value", "low", "high"))
                    for part in ("before", "after", "change")))


def _baseline_view(baseline: Any) -> dict[str, Any] | None:
    """The "Changes since baseline" section: the table of changes and a chart of the gated ones (or the first)."""
    from markupsafe import Markup

    from .charts import changes as changes_chart

    if not isinstance(baseline, dict):
        return None
    changes = baseline.get("changes") if isinstance(baseline.get("changes"), list) else []
    rows = [change for change in changes if _is_change(change)]
    warnings = [str(warning) for warning in baseline.get("warnings") or []]
    if len(rows) < len(changes):
        warnings.append(f"{len(changes) - len(rows)} malformed change(s) of the stored comparison are not shown")
    baseline = {**BASELINE_DEFAULTS, **baseline, "warnings": warnings}
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


def _audit_view(position: int, audit: dict[str, Any], drawn: list[dict] | None = None) -> dict[str, Any]:
    """What the template shows of one audit: threat model apart from the other parameters, charts."""
    from markupsafe import Markup

    from .charts import Chart, charts_for

    params = audit["params"] if isinstance(audit["params"], dict) else {"params": audit["params"]}
    threat = [(label, params[key]) for key, label in THREAT_MODEL if key in params]
    threat_keys = {key for key, _ in THREAT_MODEL}
    extras = audit["extras"] if isinstance(audit["extras"], dict) else {}
    anchor = f"audit-{position + 1}"
    charts = [{"kind": c.kind, "title": c.title, "svg": Markup(c.svg), "error": c.error}
              for c in ([Chart.from_dict(chart) for chart in drawn] if drawn
                        else charts_for(extras, f"chart{position + 1}"))]
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
