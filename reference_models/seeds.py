"""Seeds of the reference models and data, derived from the run seed (``--mlaudit-seed``) and names."""

from __future__ import annotations

import hashlib


def derived_seed(*parts: object) -> int:
    """A stable 32-bit seed from the run seed and names: the first 4 bytes of their SHA-256.

    Independent of the process and of the order things are built in, so a session
    fixture and an xdist worker derive the same seed for the same model or data set.
    """
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:4], "little")
