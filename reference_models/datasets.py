"""Data for the reference models: embedded defaults that ship with the dependencies,
and loaders for the real data sets in the directory ``--mlaudit-data-dir`` names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ImageSplit:
    """Images in [0, 1] as float32 arrays of shape (n, channels, height, width), int64 labels."""

    X_train: Any
    y_train: Any
    X_test: Any
    y_test: Any
    source: str
    classes: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.X_train.shape[1:])


def load_digits_images(test_size: float = 0.3, seed: int = 42) -> ImageSplit:
    """scikit-learn's handwritten digits (1,797 images, 8x8, grey levels 0..16) scaled to [0, 1].

    The embedded stand-in for CIFAR-10: it ships with scikit-learn, so the main job
    runs anywhere without a download. Stratified split.
    """
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    return ImageSplit(X_train, y_train, X_test, y_test, source="scikit-learn load_digits (UCI optical digits, 8x8)",
                      classes=tuple(str(d) for d in range(10)))
