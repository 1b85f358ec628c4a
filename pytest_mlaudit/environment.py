"""What the run happened on, for the report: versions, platform, seed, git commit.

Versions come from package metadata, so describing the environment imports none of
the libraries it names.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from .session import Settings

PACKAGES = (
    "pytest-mlaudit", "pytest", "numpy", "scipy", "torch", "adversarial-robustness-toolbox", "scikit-learn",
    "imbalanced-learn", "xgboost", "diffprivlib", "fairlearn", "matplotlib", "jinja2", "pytest-xdist",
)


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit(directory: Path) -> str | None:
    """The commit checked out in ``directory`` (with ``-dirty`` for local changes), if any."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=5)
        if commit.returncode != 0:
            return None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=directory,
                                capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return commit.stdout.strip() + ("-dirty" if status.stdout.strip() else "")


def describe_environment(settings: Settings, directory: Path | None = None) -> dict[str, Any]:
    return {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": package_versions(),
        "git_commit": git_commit(directory or Path.cwd()),
        "seed": settings.seed,
        "confidence": settings.confidence,
        "policy": settings.policy,
        "device": settings.device,
        "data_dir": None if settings.data_dir is None else str(settings.data_dir),
    }
