"""Data for the reference models: embedded defaults that ship with the dependencies,
and loaders for the real data sets in the directory ``--mlaudit-data-dir`` names.
"""

from __future__ import annotations

import pickle
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


CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch"


CIFAR10_JPEG_TAR = "cifar10-jpeg.tar.gz"
JPEG_TAR_SHUFFLE_SEED = 20261123


def cifar10_dir(root: Any) -> Any:
    """The ``cifar-10-batches-py`` directory: ``root`` itself or its child of that name."""
    from pathlib import Path

    root = Path(root)
    for candidate in (root / "cifar-10-batches-py", root):
        if all((candidate / name).is_file() for name in (*CIFAR10_TRAIN_BATCHES, CIFAR10_TEST_BATCH)):
            return candidate
    raise FileNotFoundError(
        f"{root} holds no CIFAR-10 python batches (cifar-10-batches-py/data_batch_1..5 and test_batch) "
        f"and no {CIFAR10_JPEG_TAR}; make the batches with shared/data/cifar10/to_python_batches.py OUT"
    )


def cifar10_jpeg_tar(root: Any) -> Any:
    """``root/cifar10-jpeg.tar.gz`` (or ``root`` itself if it is that file), or None."""
    from pathlib import Path

    root = Path(root)
    for candidate in (root, root / CIFAR10_JPEG_TAR):
        if candidate.is_file() and candidate.name.endswith(".tar.gz"):
            return candidate
    return None


def read_cifar10_jpeg_tar(path: Any) -> dict[str, tuple[Any, Any]]:
    """``{"train": (images, labels), "test": ...}`` from the JPEG archive ``split/class/NNNN.jpg``.

    uint8 images ``(n, 3, 32, 32)``, in the order ``to_python_batches.py`` writes them
    (sorted by ``class_file`` name, then its fixed shuffle), so both layouts give the
    same arrays. Decoded with Pillow.
    """
    import io
    import tarfile

    import numpy as np
    from PIL import Image

    found: dict[str, tuple[list, list, list]] = {"train": ([], [], []), "test": ([], [], [])}
    with tarfile.open(path, "r|gz") as archive:
        for member in archive:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) != 3 or parts[0] not in found or parts[1] not in CIFAR10_CLASSES:
                continue
            split, cls, name = parts
            image = Image.open(io.BytesIO(archive.extractfile(member).read())).convert("RGB")
            if image.size != (32, 32):
                raise ValueError(f"{path}: {member.name} is {image.size[0]}x{image.size[1]}, CIFAR-10 images are 32x32")
            rows, labels, names = found[split]
            rows.append(np.asarray(image, dtype=np.uint8).transpose(2, 0, 1))
            labels.append(CIFAR10_CLASSES.index(cls))
            names.append(f"{cls}_{name}")
    arrays = {}
    for split, (rows, labels, names) in found.items():
        if not rows:
            raise ValueError(f"{path} holds no {split}/<class>/*.jpg images")
        order = np.asarray(sorted(range(len(names)), key=names.__getitem__))
        order = order[np.random.default_rng(JPEG_TAR_SHUFFLE_SEED).permutation(len(order))]
        arrays[split] = (np.stack(rows)[order], np.asarray(labels, dtype=np.int64)[order])
    return arrays


def _jpeg_tar_arrays(path: Any) -> dict[str, tuple[Any, Any]]:
    """The archive's arrays, decoded once into the weight-cache directory (``.npz``, no pickles)."""
    import hashlib

    import numpy as np

    from .cache import cache_dir

    with open(path, "rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()[:16]
    converted = cache_dir() / f"cifar10-jpeg-{digest}.npz"
    if not converted.exists():
        arrays = read_cifar10_jpeg_tar(path)
        converted.parent.mkdir(parents=True, exist_ok=True)
        temporary = converted.with_suffix(".tmp.npz")
        np.savez(temporary, **{f"{split}_{part}": array for split, pair in arrays.items()
                               for part, array in zip(("images", "labels"), pair)})
        temporary.replace(converted)
    with np.load(converted, allow_pickle=False) as stored:
        return {split: (stored[f"{split}_images"], stored[f"{split}_labels"]) for split in ("train", "test")}


class UnsafePickleError(ValueError):
    """A pickled batch named a global that a CIFAR-10 batch does not need: loading it could run code."""


def _latin1_encode(text: str, encoding: str) -> bytes:
    """``_codecs.encode`` as Python 3 protocol-2 pickles call it for bytes, and only so."""
    if not isinstance(text, str) or encoding != "latin1":
        raise pickle.UnpicklingError(f"_codecs.encode({text!r:.40}, {encoding!r}) is not how a pickle spells bytes")
    return text.encode("latin1")


def _cifar10_pickle_globals() -> dict[tuple[str, str], Any]:
    """The globals a genuine CIFAR-10 batch names: numpy's array reconstruction (under the
    ``numpy.core`` of the original Python 2 files and the ``numpy._core`` of numpy 2) and
    the latin-1 bytes of Python 3 protocol-2 pickles. None of them runs code from the file."""
    import numpy as np

    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
    }


class CifarBatchUnpickler(pickle.Unpickler):
    """Unpickles a CIFAR-10 python batch without running code from it.

    A pickle loads by calling the globals it names; a crafted batch in the data
    directory could name ``os.system``. This unpickler admits only the globals of the
    genuine format (:func:`_cifar10_pickle_globals`: dicts, lists, ints, bytes and str
    need none) and refuses any other with UnsafePickleError naming the file and the global.
    """

    def __init__(self, stream: Any, path: Any) -> None:
        super().__init__(stream, encoding="bytes")
        self.path = path
        self.allowed = _cifar10_pickle_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self.path}: refused to load the global {module}.{name}: a CIFAR-10 batch needs only numpy "
                "arrays, lists, ints and bytes, and a pickle that names other globals can run code"
            ) from None


def read_cifar10_batch(path: Any) -> tuple[Any, Any]:
    """One pickled CIFAR-10 batch: uint8 images ``(n, 3, 32, 32)`` and int64 labels.

    Accepts the original Python 2 pickles (bytes keys) and re-written ones (str keys).
    Read with :class:`CifarBatchUnpickler`: a file that names any other global than
    numpy's array reconstruction is refused (UnsafePickleError) before it can run code.
    """
    import numpy as np

    with open(path, "rb") as stream:
        try:
            batch = CifarBatchUnpickler(stream, path).load()
        except UnsafePickleError:
            raise
        except (pickle.UnpicklingError, EOFError, TypeError, ValueError) as exc:
            raise ValueError(f"{path} is not a CIFAR-10 batch (a pickled dict): {exc}") from None
    if not isinstance(batch, dict):
        raise ValueError(f"{path} is not a CIFAR-10 batch (a pickled dict), got {type(batch).__name__}")
    batch = {key.decode() if isinstance(key, bytes) else key: value for key, value in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise ValueError(f"{path} is not a CIFAR-10 batch: it has no 'data' and 'labels' entries")
    data = np.asarray(batch["data"], dtype=np.uint8)
    labels = np.asarray(batch["labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.shape != (data.shape[0],):
        raise ValueError(f"{path}: expected data of shape (n, 3072) and n labels, got {data.shape} and {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= len(CIFAR10_CLASSES)):
        raise ValueError(f"{path}: labels must be 0..9")
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(root: Any, n_train: int | None = None, n_test: int | None = None) -> ImageSplit:
    """CIFAR-10 from the standard python batches, or from ``cifar10-jpeg.tar.gz``, pixels scaled to [0, 1].

    ``n_train`` / ``n_test`` keep the first images only (the batches are shuffled);
    ``n_train=0`` does not read the training batches. The full training set is 600 MB
    as float32. The JPEG archive is decoded once into the weight-cache directory.
    """
    import numpy as np

    tar = cifar10_jpeg_tar(root)
    if tar is not None:
        arrays = _jpeg_tar_arrays(tar)
        (X_train, y_train), (X_test, y_test) = arrays["train"], arrays["test"]
        return ImageSplit((X_train[:n_train] / np.float32(255)).astype(np.float32), y_train[:n_train],
                          (X_test[:n_test] / np.float32(255)).astype(np.float32), y_test[:n_test],
                          source=f"CIFAR-10 ({tar})", classes=CIFAR10_CLASSES)
    directory = cifar10_dir(root)
    names = CIFAR10_TRAIN_BATCHES if n_train != 0 else CIFAR10_TRAIN_BATCHES[:1]
    parts = [read_cifar10_batch(directory / name) for name in names]
    X_train = np.concatenate([images for images, _ in parts])[:n_train]
    y_train = np.concatenate([labels for _, labels in parts])[:n_train]
    X_test, y_test = read_cifar10_batch(directory / CIFAR10_TEST_BATCH)
    X_test, y_test = X_test[:n_test], y_test[:n_test]
    return ImageSplit((X_train / np.float32(255)).astype(np.float32), y_train,
                      (X_test / np.float32(255)).astype(np.float32), y_test,
                      source=f"CIFAR-10 ({directory})", classes=CIFAR10_CLASSES)
