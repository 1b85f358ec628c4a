"""A cache of trained weights, so the main job trains each reference model once.

Entries are keyed by the training configuration, a fingerprint of the training data
and the library versions; they are state dicts saved with ``torch.save`` and loaded
with ``weights_only=True`` (never unpickled as arbitrary objects). A corrupted or
foreign file is detected, reported and retrained. A file lock keeps two xdist workers
from training the same model at once. The directory is ``$MLAUDIT_CACHE_DIR``, or
``~/.cache/pytest-mlaudit``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Callable

FORMAT = 1


def cache_dir() -> Path:
    return Path(os.environ.get("MLAUDIT_CACHE_DIR") or Path.home() / ".cache" / "pytest-mlaudit")


def cache_key(name: str, config: dict[str, Any], data_fingerprint: str) -> str:
    import torch

    material = json.dumps(
        {"format": FORMAT, "name": name, "config": config, "data": data_fingerprint,
         "torch": torch.__version__, "python": sys.version_info[:2]},
        sort_keys=True, default=str,
    )
    return hashlib.sha256(material.encode()).hexdigest()[:20]


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        try:
            import fcntl
        except ImportError:  # Windows: no lock; at worst two processes train the same model
            yield
            return
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _load(path: Path, model: Any) -> bool:
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as exc:  # corrupted, truncated, foreign or stale: retrain
        warnings.warn(f"pytest-mlaudit: ignoring unreadable weight cache {path} ({type(exc).__name__}: {exc}); retraining")
        return False
    return True


def cached_weights(model: Any, name: str, config: dict[str, Any], data_fingerprint: str,
                   train: Callable[[Any], None]) -> tuple[Any, bool]:
    """Load ``model``'s weights from the cache, or train them with ``train(model)`` and store them.

    Returns ``(model, from_cache)``.
    """
    import torch

    path = cache_dir() / f"{name}-{cache_key(name, config, data_fingerprint)}.pt"
    with _locked(path):
        if path.exists() and _load(path, model):
            return model, True
        train(model)
        temporary = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(model.state_dict(), temporary)
        os.replace(temporary, path)
    return model, False
