"""Output formats: the JSON document, the HTML report rendered from it, the terminal summary.

:func:`write_reports` is what the plugin calls at the end of a run; the
``python -m pytest_mlaudit report`` command re-renders from JSON through the same path.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..families import family_sections, registered_families


@dataclass(frozen=True)
class ReportSection:
    """A section another plugin adds to the HTML report (``html`` is inserted as it is)."""

    title: str
    html: str


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and a rename: a reader never sees half a report."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; a report is for reading
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def extra_sections(hook: Any, records: list, environment: dict[str, Any],
                   families: list | None = None) -> list[ReportSection]:
    """The sections plugins add: their audit families' (``AuditFamily.section``), then ``pytest_mlaudit_report_sections``."""
    if hook is None:
        return []
    if families is None:
        families = registered_families(hook)
    sections: list[ReportSection] = family_sections(families, records)
    for provided in hook.pytest_mlaudit_report_sections(records=records, environment=environment):
        sections.extend(provided or [])
    return sections


def write_reports(session, hook: Any = None,
                  drawn: dict[tuple[str, int], list[dict]] | None = None) -> tuple[dict[str, Path], list[str]]:
    """Write the JSON and/or HTML report of a finished run.

    ``drawn`` holds the charts drawn where each record was made (keyed by test id
    and record index); the HTML report draws the others.
    Returns what was written where, and a message for each report that could not be
    written: one failing report never stops the other.
    """
    from ..compliance import load_mapping
    from ..environment import describe_environment
    from . import html, json

    settings = session.settings
    records = session.sorted_records()
    environment = describe_environment(settings)
    families = registered_families(hook)
    from . import markdown

    document = json.build_document(records, environment, load_mapping(settings.requirements_path, families),
                                   session.run)
    if session.comparison is not None:
        document["baseline"] = session.comparison.to_dict()
    written: dict[str, Path] = {}
    failures: list[str] = []
    outputs = (("JSON", settings.json_path, lambda: json.dumps(document)),
               ("HTML", settings.report_path,
                lambda: html.render(document, extra_sections(hook, records, environment, families), drawn)),
               ("Markdown", settings.markdown_path,
                lambda: markdown.summary(document, settings.report_path)))
    for kind, path, render in outputs:
        if path is None:
            continue
        try:
            write_atomic(path, render())
        except Exception as exc:  # noqa: BLE001  reported on the terminal; the other report is still written
            failures.append(f"the {kind} report could not be written to {path}: {type(exc).__name__}: {exc}")
        else:
            written[kind] = path
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary and settings.markdown_path is None:
        try:
            markdown.append(Path(step_summary), markdown.summary(document, settings.report_path))
        except OSError as exc:
            failures.append(f"the Markdown summary could not be appended to GITHUB_STEP_SUMMARY ({step_summary}): {exc}")
        else:
            written["GitHub step summary"] = Path(step_summary)
    return written, failures
