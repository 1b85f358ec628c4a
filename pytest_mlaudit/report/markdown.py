"""The CI summary: a short GitHub-flavoured Markdown page for a job summary or a PR comment.

It says the verdict, the gates that failed, the regressions against the baseline and
where the HTML report is; at most ``MAX_ROWS`` rows per table, so that it stays
readable in a pull request whatever the size of the suite. Rendered from the JSON
document, like the HTML report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MAX_ROWS = 10
ICONS = {"PASS": "✅", "FAIL": "❌", "INCOMPLETE": "⚠️", "NO AUDITS": "➖"}


def _cell(text: Any, limit: int = 120) -> str:
    """Text safe inside a Markdown table cell: no pipe, no line break, not too long."""
    text = str(text).replace("|", "\\|").replace("\n", " ").replace("`", "'")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _rest(rows: list, shown: int) -> list[str]:
    return [f"\n… and {len(rows) - shown} more (see the HTML report)"] if len(rows) > shown else []


def summary(document: dict[str, Any], html_path: Path | str | None = None) -> str:
    """The Markdown summary of a report document (with its ``baseline`` block, when it has one)."""
    from ..records import AuditRecord
    from ..verdict import RunFacts, summarize
    from .json import records_of, stored_verdict, worst_verdict

    records: list[AuditRecord] = records_of(document)
    facts = summarize(records, RunFacts.from_dict(document.get("run")))
    verdict = worst_verdict(facts["verdict"], [stored_verdict(document)])
    lines = [f"## {ICONS.get(verdict, '')} ML audit: {verdict}".replace("  ", " "), ""]
    lines.append(f"{facts['audits']} audits in {facts['tests']} tests, "
                 f"{facts['gates'] - facts['gates_failed']}/{facts['gates']} gates passed"
                 + (f"; {'; '.join(facts['reasons'])}" if verdict != "PASS" and facts["reasons"] else "") + ".")
    failing = [(record, gate) for record in records if not record.handled for gate in record.gates if not gate.passed]
    if failing:
        lines += ["", "### Failing gates", "", "| test | metric | measured [interval] | threshold | policy |",
                  "|---|---|---|---|---|"]
        for record, gate in failing[:MAX_ROWS]:
            lines.append(f"| `{_cell(record.nodeid)}` | {_cell(gate.metric)} | {gate.value:.3f} "
                         f"[{gate.low:.3f}, {gate.high:.3f}] | {gate.op} {gate.threshold:g} | {gate.policy} |")
        lines += _rest(failing, MAX_ROWS)
    baseline = document.get("baseline")
    if isinstance(baseline, dict):
        lines += ["", *_baseline_lines(baseline)]
    if html_path is not None:
        lines += ["", f"Full report: [{Path(html_path).name}]({Path(html_path).name}) (HTML, in the job's artifacts)."]
    return "\n".join(lines) + "\n"


def _baseline_lines(baseline: dict[str, Any]) -> list[str]:
    changes = baseline.get("changes") or []
    regressions = [change for change in changes if change.get("verdict") == "regressed"]
    paired = sum(str(change.get("method", "")).startswith("paired") for change in changes)
    source = baseline.get("commit") or baseline.get("created") or baseline.get("path")
    lines = [f"### Changes since baseline ({_cell(source)})", "",
             f"{len(changes)} metrics compared ({paired} paired), **{len(regressions)} regression(s)** "
             f"(policy {baseline.get('policy')}, tolerance {baseline.get('tolerance', 0):g}), "
             f"{len(baseline.get('new') or [])} new audit(s), {len(baseline.get('vanished') or [])} vanished."]
    if regressions:
        lines += ["", "| test | audit | change |", "|---|---|---|"]
        for change in regressions[:MAX_ROWS]:
            lines.append(f"| `{_cell(change['nodeid'])}` | {_cell(change['audit'])} | {_cell(change['message'], 200)} |")
        lines += _rest(regressions, MAX_ROWS)
    vanished = baseline.get("vanished") or []
    if vanished:
        shown = ", ".join(f"`{_cell(item['nodeid'])}` ({_cell(item['audit'])})" for item in vanished[:MAX_ROWS])
        lines += ["", f"Vanished: {shown}" + (" …" if len(vanished) > MAX_ROWS else "")]
    for warning in baseline.get("warnings") or []:
        lines += ["", f"> **Warning:** {_cell(warning, 400)}"]
    return lines


def append(path: Path, text: str) -> None:
    """Add ``text`` to a file others write too (``GITHUB_STEP_SUMMARY``), after a blank line."""
    with Path(path).open("a", encoding="utf-8") as stream:
        stream.write("\n" + text)
