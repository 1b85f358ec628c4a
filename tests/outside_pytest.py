"""Audits run the way a script outside pytest runs them: no test open, settings from ``mla.settings``."""

import contextvars

import pytest_mlaudit as mla


def as_a_script(measure, *, seed, **settings):
    """``measure()`` with no pytest test open (in a fresh context), under ``mla.settings(seed=seed, ...)``.

    Inside a test an audit's seeds derive from the run seed, the test's id and how many
    audits the test made before; outside pytest from the run seed and the audit's
    name only. So two calls here with the same seed give the same numbers.
    """
    def run():
        with mla.settings(seed=seed, **settings):
            return measure()

    return contextvars.Context().run(run)
