"""A cache of trained weights, so the main job trains each reference model once.

Entries are keyed by the training configuration, a fingerprint of the training data
and the library versions (torch, numpy, Python). Each entry is two files:

- ``NAME-KEY.pt``: the state dict, saved with ``torch.save``;
- ``NAME-KEY.json``: the entry's key, what it was made from, and the SHA-256 of the
  ``.pt`` file.

A ``.pt`` file is read only when its side file names the same key and its bytes hash
to the recorded digest, and then only with ``torch.load(weights_only=True)``, which
restores tensors and refuses arbitrary objects. A corrupted, truncated, foreign or
stale entry is therefore never unpickled: it is reported (a warning) and retrained.
A file lock keeps two xdist workers from training the same model at once. The
directory is ``$MLAUDIT_CACHE_DIR``, or ``~/.cache/pytest-mlaudit``.
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

FORMAT = 2


def cache_dir() -> Path:
    return Path(os.environ.get("MLAUDIT_CACHE_DIR") or Path.home() / ".cache" / "pytest-mlaudit")


def data_digest(*arrays: Any) -> str:
    """A content hash of training arrays for a cache key: shape, dtype and bytes of each (16 hex digits).

    The same digest as the data fingerprint in the audit reports, so a cache entry and
    the report of the audit that used it name the data alike.
    """
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str((array.shape, str(array.dtype))).encode())
        digest.update(memoryview(array if array.flags["C_CONTIGUOUS"] else array.copy(order="C")).cast("B"))
    return digest.hexdigest()[:16]


def key_material(name: str, config: dict[str, Any], data_fingerprint: str) -> dict[str, Any]:
    """Everything an entry depends on: change any of it and the entry is trained again."""
    import numpy
    import torch

    return {"format": FORMAT, "name": name, "config": config, "data": data_fingerprint,
            "torch": torch.__version__, "numpy": numpy.__version__, "python": list(sys.version_info[:2])}


def cache_key(name: str, config: dict[str, Any], data_fingerprint: str) -> str:
    material = json.dumps(key_material(name, config, data_fingerprint), sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()[:20]


def entry_path(name: str, config: dict[str, Any], data_fingerprint: str) -> Path:
    """The ``.pt`` file of an entry (its side file has the suffix ``.json``)."""
    return cache_dir() / f"{name}-{cache_key(name, config, data_fingerprint)}.pt"


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _problem(path: Path, key: str) -> str | None:
    """Why the entry at ``path`` may not be loaded, or None when it is ours and intact."""
    side = path.with_suffix(".json")
    if not side.exists():
        return "no side file with its key and checksum (foreign file?)"
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"unreadable side file ({exc})"
    if not isinstance(meta, dict) or meta.get("key") != key:
        return "side file names another key (foreign or stale entry)"
    if meta.get("sha256") != _sha256(path):
        return "checksum mismatch (corrupted or replaced)"
    return None


def _load(path: Path, key: str, model: Any) -> bool:
    import torch

    problem = _problem(path, key)
    if problem is None:
        try:
            model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            return True
        except Exception as exc:  # refused by weights_only, or weights of another architecture
            problem = f"{type(exc).__name__}: {exc}"
    warnings.warn(f"pytest-mlaudit: ignoring weight cache entry {path}: {problem}; retraining", stacklevel=3)
    return False


def load_cached(model: Any, name: str, config: dict[str, Any], data_fingerprint: str) -> bool:
    """Load ``model``'s weights from the cache if a valid entry exists; never trains."""
    path = entry_path(name, config, data_fingerprint)
    if not path.exists():
        return False
    with _locked(path):
        return _load(path, cache_key(name, config, data_fingerprint), model)


def cached_weights(model: Any, name: str, config: dict[str, Any], data_fingerprint: str,
                   train: Callable[[Any], None], progress: Callable[[str], None] | None = None) -> tuple[Any, bool]:
    """Load ``model``'s weights from the cache, or train them with ``train(model)`` and store them.

    Returns ``(model, from_cache)``.
    """
    import torch

    key = cache_key(name, config, data_fingerprint)
    path = entry_path(name, config, data_fingerprint)
    with _locked(path):
        if path.exists() and _load(path, key, model):
            return model, True
        if progress is not None:
            progress(f"no cached weights for {name}: training (stored in {path.parent} for the next runs)")
        train(model)
        temporary = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(model.state_dict(), temporary)
        meta = {"key": key, "sha256": _sha256(temporary), **key_material(name, config, data_fingerprint)}
        side_temporary = path.with_suffix(f".jsontmp{os.getpid()}")
        side_temporary.write_text(json.dumps(meta, indent=1, sort_keys=True, default=str), encoding="utf-8")
        os.replace(temporary, path)
        os.replace(side_temporary, path.with_suffix(".json"))
    return model, False
