"""Optional libraries and the extras that bring them.

The core install (pytest, numpy, scipy, scikit-learn, matplotlib, jinja2) runs the
plugin, the report and the measurement helpers. Each audit family needs its own
library, installed with an extra: ``pip install "pytest-mlaudit[fairness]"``. An
audit whose library is missing raises :class:`MissingExtraError` when it is called,
never when the plugin loads.
"""

from __future__ import annotations

import importlib.util

# top-level module -> (the library's distribution name, the extra that installs it)
LIBRARIES: dict[str, tuple[str, str]] = {
    "torch": ("torch", "robustness"),
    "art": ("adversarial-robustness-toolbox", "robustness"),
    "imblearn": ("imbalanced-learn", "imbalance"),
    "fairlearn": ("fairlearn", "fairness"),
    "pandas": ("pandas", "fairness"),
    "diffprivlib": ("diffprivlib", "privacy"),
    "opacus": ("opacus", "privacy"),
    "xgboost": ("xgboost", "studies"),
    "hypothesis": ("hypothesis", "search"),
}


class MissingExtraError(ImportError):
    """An audit needs a library that is not installed; the message names the extra that brings it."""

    def __init__(self, module: str, extra: str, what: str | None = None):
        library = LIBRARIES.get(module, (module, extra))[0]
        needed = f"{what} needs" if what else "this audit needs"
        super().__init__(
            f"{needed} {library} (import {module}), which is not installed: "
            f'pip install "pytest-mlaudit[{extra}]"',
            name=module,
        )
        self.module = module
        self.library = library
        self.extra = extra


def available(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module: str, extra: str | None = None, what: str | None = None) -> None:
    """Raise :class:`MissingExtraError` unless ``module`` is importable (it is not imported here)."""
    if extra is None:
        extra = LIBRARIES[module][1]
    if not available(module):
        raise MissingExtraError(module, extra, what)


def translate(error: ModuleNotFoundError) -> ImportError:
    """A ModuleNotFoundError of an optional library as the MissingExtraError naming its extra."""
    top = (error.name or "").split(".")[0]
    if top in LIBRARIES and not isinstance(error, MissingExtraError):
        translated = MissingExtraError(top, LIBRARIES[top][1])
        translated.__cause__ = error
        return translated
    return error


def load(module: str, extra: str | None = None, what: str | None = None):
    """Import ``module`` for an audit: MissingExtraError when it is not installed, and an
    ImportError naming the library, its version and the cause when it is installed but
    fails to import (e.g. a release that does not support the installed scikit-learn)."""
    import importlib
    import importlib.metadata

    require(module, extra, what)
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        library = LIBRARIES.get(module, (module, extra))[0]
        try:
            version = importlib.metadata.version(library)
        except importlib.metadata.PackageNotFoundError:
            version = "(version unknown)"
        stack = ", ".join(f"{name} {_version(name)}" for name in ("scikit-learn", "numpy", "scipy", "pandas"))
        raise ImportError(
            f"{what or 'this audit'} needs {library}, and {library} {version} is installed but fails to import "
            f"with {stack}: {type(exc).__name__}: {exc}",
            name=module,
        ) from exc


def _version(distribution: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
