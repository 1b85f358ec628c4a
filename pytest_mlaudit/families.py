"""Audit families: the built-in four and the ones other plugins register.

A family is a category of audits (the ``category`` of ``mla.audit(category, ...)``)
with a title, the requirements its audits give evidence for by default, and
optionally a section of the HTML report drawn from its records. A plugin registers
its families with the ``pytest_mlaudit_families`` hook::

    def pytest_mlaudit_families():
        return [mla.AuditFamily("calibration", "Calibration", requirements=["NIST-AI-RMF-MEASURE-2.5"],
                                section=calibration_section)]

The compliance mapping then maps the category's audits to those requirements (a
``mlaudit_requirements`` file still overrides it), and the report calls ``section``
with the run's records of that category. Standard library only: the plugin loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class AuditFamily:
    """A category of audits a plugin adds: its title, default requirements and report section.

    ``requirements`` are requirement ids (``"EU-AI-Act-Art15"``, or a plugin's own,
    described in a ``mlaudit_requirements`` file) that every audit of ``category``
    gives evidence for. ``section(records)``, when given, is called at report time
    with the run's :class:`~pytest_mlaudit.AuditRecord` objects of ``category`` (only
    when there are some) and returns a :class:`pytest_mlaudit.report.ReportSection`
    or None; its ``html`` is inserted as it is, so escape user strings in it.
    """

    category: str
    title: str
    requirements: tuple[str, ...] = ()
    section: Callable[[list[Any]], Any] | None = None

    def __post_init__(self) -> None:
        for name in ("category", "title"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise TypeError(f"AuditFamily: {name} must be a non-empty string, got {value!r}")
        requirements = self.requirements
        if isinstance(requirements, str) or not all(isinstance(r, str) and r for r in requirements):
            raise TypeError(f"AuditFamily {self.category!r}: requirements must be a list of requirement ids, "
                            f"got {requirements!r}")
        object.__setattr__(self, "requirements", tuple(requirements))
        if self.section is not None and not callable(self.section):
            raise TypeError(f"AuditFamily {self.category!r}: section must be a callable(records) or None, "
                            f"got {self.section!r}")


def registered_families(hook: Any) -> list[AuditFamily]:
    """The families the plugins of a run register (none outside pytest, when ``hook`` is None)."""
    if hook is None:
        return []
    families: list[AuditFamily] = []
    for provided in hook.pytest_mlaudit_families():
        families.extend(_as_family(family) for family in provided or [])
    return families


def _as_family(family: Any) -> AuditFamily:
    """``family`` checked; read by its fields, so an AuditFamily of a reloaded module (pytester) passes too."""
    if isinstance(family, AuditFamily):
        return family
    try:
        return AuditFamily(family.category, family.title, family.requirements, family.section)
    except AttributeError:
        raise TypeError(f"pytest_mlaudit_families must return AuditFamily objects, got {family!r}") from None


def family_sections(families: list[AuditFamily], records: list[Any]) -> list[Any]:
    """The report sections of the families that have one and audits in this run, in registration order."""
    sections = []
    for family in families:
        if family.section is None:
            continue
        own = [record for record in records if record.category == family.category]
        if not own:
            continue
        section = family.section(own)
        if section is not None:
            sections.append(section)
    return sections
