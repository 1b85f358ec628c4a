"""Extension points for other plugins (pluggy hookspecs, registered by the plugin).

Implement them in a conftest.py or an installed plugin:

- ``pytest_mlaudit_attacks()`` adds attacks that users can build by name with
  ``mla.make_attack(name, **params)``;
- ``pytest_mlaudit_adapt_model(model, device)`` wraps a model type the plugin does not
  know behind the classifier interface of :mod:`pytest_mlaudit.adapters`;
- ``pytest_mlaudit_report_sections(records, environment)`` appends sections to the
  HTML report;
- ``pytest_mlaudit_record(record)`` sees each audit record as it is made;
- ``pytest_mlaudit_families()`` registers audit families of its own (a category
  with default requirements and a report section).
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_mlaudit_attacks():
    """Return a mapping ``{name: attack_class}`` of attacks this plugin provides.

    An attack class is built with keyword parameters and must offer
    ``generate(classifier, x, y, clip) -> x_adv`` on torch tensors, where
    ``classifier`` is a :class:`pytest_mlaudit.adapters.TorchClassifier`, and
    ``describe() -> dict`` of its parameters for the report.
    """


@hookspec(firstresult=True)
def pytest_mlaudit_adapt_model(model, device):
    """Return a classifier adapter for ``model``, or None to let others try.

    The adapter must implement the :class:`pytest_mlaudit.adapters.Classifier`
    protocol, as :class:`~pytest_mlaudit.adapters.TorchClassifier` does: ``logits(x)``,
    ``describe()``, ``n_classes``, ``device``, the ``audit_mode()`` context manager and,
    for gradient attacks, ``differentiable``, ``logits_and_gradient`` and the rest.
    """


@hookspec
def pytest_mlaudit_report_sections(records, environment):
    """Return a list of :class:`pytest_mlaudit.report.ReportSection` to append to the HTML.

    ``records`` are the run's :class:`~pytest_mlaudit.records.AuditRecord` objects;
    a section's ``html`` is inserted as it is (the plugin is trusted code), so escape
    any user string it contains.
    """


@hookspec
def pytest_mlaudit_record(record):
    """Called on the process that ran the test, for each audit record it makes."""


@hookspec
def pytest_mlaudit_families():
    """Return a list of :class:`pytest_mlaudit.AuditFamily`: audit categories this plugin adds.

    Each family's ``requirements`` become the default requirement mapping of its
    ``category`` in the report (added to a built-in category's, overridden by a
    ``mlaudit_requirements`` file), and its ``section(records)`` is called with the
    run's records of that category to add a section to the HTML report.
    """
