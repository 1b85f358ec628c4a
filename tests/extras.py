"""Tests that need an optional library skip, naming the extra that brings it, when it is missing."""

import pytest

from pytest_mlaudit.dependencies import LIBRARIES, available


def reason(*modules: str) -> str:
    missing = [m for m in modules if not available(m)] or list(modules)
    return "; ".join(f'needs {LIBRARIES[m][0]}: pip install "pytest-mlaudit[{LIBRARIES[m][1]}]"' for m in missing)


def need(module: str):
    """At module level: the module, or skip the whole test file."""
    return pytest.importorskip(module, reason=reason(module))


def needs(*modules: str):
    """A mark: skip the test unless every module is installed."""
    return pytest.mark.skipif(not all(available(m) for m in modules), reason=reason(*modules))
