"""The HTML audit report: one self-contained file rendered from the JSON document.

jinja2 with autoescaping: every user string (test ids, model names, parameters)
is escaped. No scripts, fonts or images are fetched: styles are inline.
"""

from __future__ import annotations

from typing import Any

TEMPLATE = "report.html.j2"


def _number(value: Any, digits: int = 4) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


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
    return env


def render(document: dict[str, Any], sections: list | None = None) -> str:
    """The report's HTML for a JSON document (and sections other plugins add)."""
    from markupsafe import Markup

    audits = document["audits"]
    failing = [
        {"audit": audit, "gate": gate}
        for audit in audits
        for gate in audit["gates"]
        if not gate["passed"]
    ]
    extra = [{"title": s.title, "html": Markup(s.html)} for s in (sections or [])]
    return _environment().get_template(TEMPLATE).render(
        document=document,
        summary=document["summary"],
        environment=document["environment"],
        audits=audits,
        failing=failing,
        errors=[audit for audit in audits if audit["outcome"] == "error"],
        sections=extra,
    )
