"""The reference models and the audit files use only the public API of pytest_mlaudit.

Public: ``import pytest_mlaudit`` (as anything), ``from pytest_mlaudit import <name>``
for a name of ``pytest_mlaudit.__all__`` (or the ``extras`` module), and
``from pytest_mlaudit.extras import ...``. Anything else is reaching into internals
that may change without notice, which is what a user copying these files would learn.
(The benchmarks are the maintainers' measurements of the package's own pieces, such as
the report's rendering, and may import them.)
"""

import ast
from pathlib import Path

import pytest

import pytest_mlaudit

ROOT = Path(__file__).resolve().parent.parent
USERS = ("reference_models", "audits")
PUBLIC_MODULES = ("pytest_mlaudit.extras",)


def private_imports(source: str) -> list[tuple[int, str]]:
    """``(line, statement)`` of each import of a private part of pytest_mlaudit in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pytest_mlaudit.") and alias.name not in PUBLIC_MODULES:
                    found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "pytest_mlaudit":
                private = [a.name for a in node.names if a.name not in pytest_mlaudit.__all__ and a.name != "extras"]
                if private:
                    found.append((node.lineno, f"from pytest_mlaudit import {', '.join(private)}"))
            elif node.module.startswith("pytest_mlaudit.") and node.module not in PUBLIC_MODULES:
                found.append((node.lineno, f"from {node.module} import {', '.join(a.name for a in node.names)}"))
    return sorted(found)


def test_the_checker_allows_the_public_imports_and_names_the_private_ones():
    source = "\n".join([
        "import pytest_mlaudit as mla",
        "from pytest_mlaudit import audit, Estimate, extras",
        "from pytest_mlaudit.extras import Table",
        "from pytest_mlaudit import validation",
        "def f():",
        "    from pytest_mlaudit.recording import audit_call",
        "import pytest_mlaudit.session",
    ])
    assert private_imports(source) == [
        (4, "from pytest_mlaudit import validation"),
        (6, "from pytest_mlaudit.recording import audit_call"),
        (7, "import pytest_mlaudit.session"),
    ]


@pytest.mark.parametrize("folder", USERS)
def test_users_of_the_plugin_import_only_its_public_names(folder):
    problems = [f"{path.relative_to(ROOT)}:{line}: {statement}"
                for path in sorted((ROOT / folder).rglob("*.py"))
                for line, statement in private_imports(path.read_text(encoding="utf-8"))]
    assert not problems, "private imports of pytest_mlaudit:\n" + "\n".join(problems)
